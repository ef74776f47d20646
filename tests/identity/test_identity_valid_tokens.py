"""Valid tokens from a real local issuer are accepted and mapped to a Principal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skyddat_boende.identity import InvalidToken, Principal, TokenVerifier
from skyddat_boende.identity.dev_issuer import DevIssuer
from tests.identity.support import AUDIENCE, MALMO, STOCKHOLM, good_claims, mint, sign, trusted


async def test_social_worker_token_maps_to_principal(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: an ES256 at+jwt from Malmö's issuer for a social worker of kommun-1280.
    token = mint(issuer, roles=["social_worker"], scopes=["placements:read", "placements:write"])

    principal = await verifier.verify(token)

    assert principal == Principal(
        issuer=issuer.url,
        subject="user-123",
        client_id="malmo-portal",
        organisation_id=MALMO,
        roles=frozenset({"social_worker"}),
        scopes=frozenset({"placements:read", "placements:write"}),
        is_machine=False,
        token_id=principal.token_id,
        expires_at=principal.expires_at,
    )
    assert principal.token_id


async def test_unknown_roles_are_dropped(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: roles ["shelter_staff", "superuser", "ADMIN"]: only the known role survives.
    principal = await verifier.verify(mint(issuer, roles=["shelter_staff", "superuser", "ADMIN"]))
    assert principal.roles == frozenset({"shelter_staff"})


async def test_client_credentials_token_is_machine(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: sub == client_id, no roles, scope "capacity:write".
    token = mint(issuer, subject="malmo-vs", client_id="malmo-vs", roles=[], scopes=["capacity:write"])
    principal = await verifier.verify(token)
    assert principal.is_machine
    assert principal.roles == frozenset()
    assert principal.scopes == frozenset({"capacity:write"})


async def test_token_without_human_role_is_machine(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: sub differs from client_id but the token has only an unknown role.
    principal = await verifier.verify(mint(issuer, roles=["reporting-bot"]))
    assert principal.is_machine


async def test_audience_list_containing_ours(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: aud = ["https://other.example", <our audience>].
    principal = await verifier.verify(mint(issuer, audience=["https://other.example", AUDIENCE]))
    assert principal.organisation_id == MALMO


async def test_scope_as_list(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: "scope" claim as a JSON list instead of a space-delimited string.
    token = sign(
        {"alg": "ES256", "kid": issuer.active_key.kid, "typ": "at+jwt"},
        good_claims(issuer, scope=["offers:write", "capacity:read"]),
        issuer.active_key,
    )
    principal = await verifier.verify(token)
    assert principal.scopes == frozenset({"offers:write", "capacity:read"})


async def test_informational_headers_ignored(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: an otherwise valid token whose header also has x5t (as Entra ID sends) and an
    # unregistered "nonce" parameter; neither points at a key, so both are ignored.
    token = sign(
        {"alg": "ES256", "kid": issuer.active_key.kid, "typ": "at+jwt", "x5t": "abc", "nonce": "n"},
        good_claims(issuer),
        issuer.active_key,
    )
    assert (await verifier.verify(token)).organisation_id == MALMO


async def test_typ_application_at_jwt(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: typ "application/at+jwt" (RFC 9068 allows the full media type).
    principal = await verifier.verify(mint(issuer, typ="application/at+jwt"))
    assert principal.subject == "user-123"


async def test_national_issuer_may_act_for_any_organisation(
    issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: issuer trusted for ["*"], token for kommun-0180 with national_followup.
    verifier = make_verifier(trusted(issuer.url, organisations=("*",)))
    principal = await verifier.verify(mint(issuer, org=STOCKHOLM, roles=["national_followup"]))
    assert principal.organisation_id == STOCKHOLM
    assert principal.roles == frozenset({"national_followup"})


async def test_claim_mapping_nested_roles_role_map_and_scp(
    issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: Keycloak-style realm_access.roles = ["Socialsekreterare"], Entra-style "scp",
    # organisation in "tenant_org"; the config maps all three.
    cfg = trusted(
        issuer.url,
        org_claim="tenant_org",
        roles_claim=("realm_access", "roles"),
        scope_claim="scp",
        role_map={"Socialsekreterare": "social_worker"},
    )
    claims = good_claims(
        issuer,
        org=None,
        roles=None,
        scope=None,
        tenant_org=MALMO,
        realm_access={"roles": ["Socialsekreterare", "offline_access"]},
        scp="placements:read",
    )
    token = sign({"alg": "ES256", "kid": issuer.active_key.kid, "typ": "at+jwt"}, claims, issuer.active_key)
    principal = await make_verifier(cfg).verify(token)
    assert principal.organisation_id == MALMO
    assert principal.roles == frozenset({"social_worker"})
    assert principal.scopes == frozenset({"placements:read"})


async def test_issuer_of_one_organisation_without_org_claim(
    issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: a token with no "org" claim; the issuer is configured with org_claim null
    # and exactly one organisation, which the principal gets.
    verifier = make_verifier(trusted(issuer.url, org_claim=None))
    principal = await verifier.verify(mint(issuer, org=None))
    assert principal.organisation_id == MALMO


async def test_rsa_issuer(tmp_path: Path, make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: an RS256 token from an issuer whose key is RSA-2048.
    with DevIssuer(tmp_path / "rsa", key_type="RSA") as rsa_issuer:
        verifier = make_verifier(trusted(rsa_issuer.url))
        principal = await verifier.verify(mint(rsa_issuer))
        assert principal.issuer == rsa_issuer.url


async def test_algorithm_allow_list_per_issuer(
    tmp_path: Path, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: a valid RS256 token from an issuer configured for ES256 only.
    with DevIssuer(tmp_path / "rsa", key_type="RSA") as rsa_issuer:
        verifier = make_verifier(trusted(rsa_issuer.url, algorithms=("ES256",)))
        with pytest.raises(InvalidToken) as caught:
            await verifier.verify(mint(rsa_issuer))
        assert caught.value.reason == "alg_not_allowed"


async def test_leeway_accepts_slightly_expired(issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: a token that expired 30 s ago; leeway is 60 s.
    import time

    token = mint(issuer, now=time.time() - 330, lifetime=300)
    principal = await make_verifier(trusted(issuer.url)).verify(token)
    assert principal.subject == "user-123"


def test_development_issuer_refused_unless_allowed(issuer: DevIssuer, http) -> None:  # type: ignore[no-untyped-def]
    # Input: a TokenVerifier for a development issuer without allow_development.
    with pytest.raises(ValueError, match="development"):
        TokenVerifier([trusted(issuer.url)], http)
