"""Authentication at the API's edge: 401 with WWW-Authenticate (RFC 6750), 403, 429, 413."""

from __future__ import annotations

import time

import httpx
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.app import create_app
from skyddat_boende.config import Settings
from skyddat_boende.identity import TrustedIssuer
from skyddat_boende.identity.dev_issuer import DevIssuer
from tests.conftest import make_app
from tests.helpers import chain_audit, running_server


async def test_missing_token_is_401_with_bearer_challenge(client):
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="skyddat-boende"'
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("header", ["Bearer not.a.token", "Bearer " + "a" * 9000, "Basic dXNlcjpwYXNz", "Bearer"])
async def test_malformed_token_is_401_invalid_token_and_says_nothing_more(client, header):
    response = await client.get("/api/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Bearer" in response.headers["www-authenticate"]
    body = response.json()
    assert set(body) <= {"type", "title", "status", "detail"}
    assert "signature" not in response.text.lower() and "kid" not in response.text.lower()


async def test_expired_token_and_untrusted_issuer_are_401(client, issuer, tmp_path):
    expired = issuer.mint_token(subject="u1", org="kommun-1280", roles=["social_worker"],
                                now=time.time() - 7200, lifetime=300)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
    with DevIssuer(tmp_path / "stranger") as stranger:  # a real issuer nobody configured
        token = stranger.mint_token(subject="u1", org="kommun-1280", roles=["social_worker"])
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_municipality_issuer_cannot_act_for_another_municipality(database_url, tmp_path):
    with DevIssuer(tmp_path / "malmo-idp") as malmo_idp:
        config = malmo_idp.trusted_issuer_config() | {"organisations": ["kommun-1280"]}
        app = create_app(Settings(environment="development"), database_url=database_url,
                         trusted_issuers=[TrustedIssuer(**config)])
        async with AsyncTestClient(app=app) as client:
            own = malmo_idp.mint_token(subject="u1", org="kommun-1280", roles=["social_worker"])
            other = malmo_idp.mint_token(subject="u1", org="kommun-0180", roles=["social_worker"])
            assert (await client.get("/api/me", headers={"Authorization": f"Bearer {own}"})).status_code == 200
            assert (await client.get("/api/me", headers={"Authorization": f"Bearer {other}"})).status_code == 401


async def test_role_outside_its_kind_of_organisation_is_403_and_audited(client, tokens, database_url):
    # a "social worker" claimed for a shelter operator is not a municipality's social worker
    response = await client.get("/api/requests", headers=tokens.headers("social_worker", "operator-north"))
    assert response.status_code == 403
    conn = await database.connect(database_url)
    try:
        await chain_audit(conn)
        denied = await conn.fetchval(
            "select count(*) from audit_event where actor_organisation = 'operator-north' "
            "and action = 'api.list_requests' and outcome = 'denied'")
    finally:
        await conn.close()
    assert denied >= 1


async def test_rate_limit_per_client_gives_429_with_retry_after(database_url, issuer, tokens):
    async with AsyncTestClient(app=make_app(database_url, issuer, rate_limit_per_minute=3)) as client:
        headers = tokens.social_worker("1280")
        statuses = [(await client.get("/api/me", headers=headers)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await client.get("/api/me", headers=headers)
        assert int(limited.headers["retry-after"]) >= 1
        # another client is not affected
        assert (await client.get("/api/me", headers=tokens.social_worker("0180"))).status_code == 200


async def test_oversized_body_is_413(database_url, issuer, tokens):
    async with AsyncTestClient(app=make_app(database_url, issuer, max_body_bytes=2048)) as client:
        response = await client.post("/api/requests", content=b'{"case_reference": "' + b"x" * 5000 + b'"}',
                                     headers=tokens.social_worker("1280") | {"content-type": "application/json"})
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_development_issuer_is_refused_outside_development(database_url, issuer):
    from skyddat_boende.config import ConfigError

    with pytest.raises(ConfigError, match="development token issuer"):
        create_app(Settings(environment="production"), database_url=database_url,
                   trusted_issuers=[TrustedIssuer(**issuer.trusted_issuer_config())])


async def test_key_rotation_at_the_issuer_needs_no_restart(database_url, tmp_path):
    with DevIssuer(tmp_path / "rotating") as idp:
        app = create_app(Settings(environment="development", jwks_min_refresh_seconds=0), database_url=database_url,
                         trusted_issuers=[TrustedIssuer(**idp.trusted_issuer_config())])
        async with AsyncTestClient(app=app) as client:
            before = idp.mint_token(subject="u1", org="kommun-1280", roles=["social_worker"])
            assert (await client.get("/api/me", headers={"Authorization": f"Bearer {before}"})).status_code == 200
            old_kid = idp.active_key.kid
            idp.rotate_key()
            after = idp.mint_token(subject="u1", org="kommun-1280", roles=["social_worker"])
            assert (await client.get("/api/me", headers={"Authorization": f"Bearer {after}"})).status_code == 200
            assert idp.active_key.kid != old_kid


async def test_national_figures_and_audit_metadata_only_for_national_bodies(client, tokens):
    # a municipality's partner system or login provider cannot claim national scopes or roles
    for headers in (tokens.headers(None, "kommun-0180", "statistics:read", "audit:read", "batch:run"),
                    tokens.headers("national_followup", "kommun-0180")):
        for path in ("/api/statistics", "/api/audit-events"):
            assert (await client.get(path, headers=headers)).status_code == 403, path
        assert (await client.post("/api/batch", headers=headers)).status_code == 403
    national = tokens.headers("national_followup", "nat-socialstyrelsen")
    assert (await client.get("/api/statistics", headers=national)).status_code == 200
    events = (await client.get("/api/audit-events?limit=5", headers=national)).json()
    assert events and set(events[0]) == {"seq", "occurred_on", "actor_organisation", "actor_role", "action",
                                         "object_type", "outcome"}
    # the refusals above were just committed and no worker runs here: the read chained them itself
    assert ("kommun-0180", "denied") in {(e["actor_organisation"], e["outcome"]) for e in events}
    # the statistics scope alone does not open the audit metadata
    stats_only = tokens.headers(None, "nat-uppfoljning", "statistics:read")
    assert (await client.get("/api/audit-events", headers=stats_only)).status_code == 403



def _two_authorization_headers(valid: str, second: str) -> list[tuple[str, str]]:
    return [("Authorization", valid), ("Authorization", valid if second == "same" else second)]


def _assert_ambiguous(response) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/ambiguous-credentials")
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("second", ["same", "Bearer not.a.token", "Basic dXNlcjpwYXNz"])
async def test_authorization_headers_joined_by_a_comma_are_400(client, tokens, second):
    """Input: GET /api/me with a valid bearer header and a second Authorization value (the same one, a
    garbage token, Basic credentials) joined into one header, as a proxy may join repeated headers."""
    valid = tokens.social_worker()["Authorization"]
    _assert_ambiguous(await client.get("/api/me", headers={"Authorization": f"{valid}, " + (
        valid if second == "same" else second)}))
    assert (await client.get("/api/me", headers={"Authorization": valid})).status_code == 200


def test_two_authorization_headers_are_400_on_the_real_server(database_url, tokens):
    """Input: GET /api/me over real HTTP with two Authorization headers (a valid one and the same again,
    a garbage token, Basic credentials): neither is chosen silently. (The in-process test client joins
    repeated headers, so only a real server sees them apart.)"""
    valid = tokens.social_worker()["Authorization"]
    with running_server({"DATABASE_URL": database_url}) as base:
        for second in ("same", "Bearer not.a.token", "Basic dXNlcjpwYXNz"):
            _assert_ambiguous(httpx.get(base + "/api/me", headers=_two_authorization_headers(valid, second)))
