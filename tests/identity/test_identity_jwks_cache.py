"""Keys from discovery + JWKS: rotation, rate-limited re-fetch, misbehaving providers.

`clock` is the verifier's monotonic clock (for the cache), moved by hand;
token times use the real clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey

from skyddat_boende.identity import InvalidToken, TokenVerifier
from skyddat_boende.identity.dev_issuer import DISCOVERY_PATH, JWKS_PATH, DevIssuer
from tests.identity.support import FakeClock, JsonServer, good_claims, mint, sign, trusted


async def reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    return caught.value.reason


def with_kid(dev: DevIssuer, kid: str) -> str:
    return sign({"alg": "ES256", "kid": kid, "typ": "at+jwt"}, good_claims(dev), dev.active_key)


async def test_key_rotation_without_restart(issuer: DevIssuer, verifier: TokenVerifier, clock: FakeClock) -> None:
    # Input: token signed with key 1; then the issuer rotates to key 2 (key 1 still
    # published) and signs a second token; later it withdraws key 1.
    old_token = mint(issuer)
    old_kid = issuer.active_key.kid
    await verifier.verify(old_token)

    clock.advance(31)  # past the re-fetch rate limit
    new_kid = issuer.rotate_key()
    new_token = mint(issuer)
    assert (await verifier.verify(new_token)).subject == "user-123"  # new kid fetched on demand
    assert (await verifier.verify(old_token)).subject == "user-123"  # old key still published

    issuer.remove_key(old_kid)  # type: ignore[arg-type]
    clock.advance(verifier.keys.max_key_age + 1)  # cache expires, next use re-fetches
    assert await reason(verifier, old_token) == "unknown_key"
    assert (await verifier.verify(new_token)).subject == "user-123"
    assert verifier.keys.known_kids(issuer.url) == {new_kid}


async def test_removed_key_rejected_after_unknown_kid_refresh(
    issuer: DevIssuer, verifier: TokenVerifier, clock: FakeClock
) -> None:
    # Input: after key 1 is withdrawn and key 2 appears, a token with key 2 triggers a
    # refresh; a token with key 1 is then rejected without waiting for the cache to age.
    old_token = mint(issuer)
    old_kid = issuer.active_key.kid
    await verifier.verify(old_token)
    issuer.rotate_key()
    issuer.remove_key(old_kid)  # type: ignore[arg-type]
    clock.advance(31)
    await verifier.verify(mint(issuer))
    assert await reason(verifier, old_token) == "unknown_key"


async def test_unknown_kid_refetch_is_rate_limited(issuer: DevIssuer, verifier: TokenVerifier, clock: FakeClock) -> None:
    # Input: 50 tokens with random unknown kids; the issuer's server counts JWKS requests.
    await verifier.verify(mint(issuer))
    assert issuer.requests_to(JWKS_PATH) == 1

    for i in range(50):
        assert await reason(verifier, with_kid(issuer, f"unknown-{i}")) == "unknown_key"
    assert issuer.requests_to(JWKS_PATH) == 1  # within 30 s of the last fetch: no re-fetch

    clock.advance(29)
    await reason(verifier, with_kid(issuer, "unknown-a"))
    assert issuer.requests_to(JWKS_PATH) == 1

    clock.advance(2)  # 31 s after the fetch: one re-fetch allowed
    for i in range(20):
        await reason(verifier, with_kid(issuer, f"unknown-b{i}"))
    assert issuer.requests_to(JWKS_PATH) == 2
    assert issuer.requests_to(DISCOVERY_PATH) == 2


async def test_refresh_interval_is_configurable(
    issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier], clock: FakeClock
) -> None:
    # Input: min_refresh_interval = 5 s; unknown kids at 0 s, 4 s, 6 s.
    verifier = make_verifier(trusted(issuer.url), min_refresh_interval=5)
    await reason(verifier, with_kid(issuer, "x1"))
    clock.advance(4)
    await reason(verifier, with_kid(issuer, "x2"))
    clock.advance(2)
    await reason(verifier, with_kid(issuer, "x3"))
    assert issuer.requests_to(JWKS_PATH) == 2


async def test_concurrent_refreshes_are_coalesced(issuer: DevIssuer, verifier: TokenVerifier, clock: FakeClock) -> None:
    # Input: 30 valid tokens verified concurrently by a fresh verifier (cold cache), then
    # 30 concurrent unknown-kid tokens after the rate-limit window.
    tokens = [mint(issuer, subject=f"user-{i}") for i in range(30)]
    principals = await asyncio.gather(*(verifier.verify(t) for t in tokens))
    assert {p.subject for p in principals} == {f"user-{i}" for i in range(30)}
    assert issuer.requests_to(JWKS_PATH) == 1

    clock.advance(31)
    results = await asyncio.gather(
        *(verifier.verify(with_kid(issuer, f"nope-{i}")) for i in range(30)), return_exceptions=True
    )
    assert all(isinstance(r, InvalidToken) for r in results)
    assert issuer.requests_to(JWKS_PATH) == 2


async def test_discovery_naming_another_issuer_is_ignored(
    json_server: JsonServer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: a provider whose discovery document says issuer = "https://idp.example" while
    # we configured its own URL; its key signs an otherwise valid token.
    key = ECKey.generate_key("P-256", auto_kid=True)
    json_server.serve_as_issuer({"keys": [key.as_dict(private=False)]}, issuer="https://idp.example")
    verifier = make_verifier(trusted(json_server.url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) == "unknown_key"
    assert json_server.count("/jwks.json") == 0


@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
@pytest.mark.parametrize(
    "jwks_entry",
    [
        "oct",  # a shared secret published in the JWKS
        "private",  # an EC key with its private part
        "enc",  # an encryption key
        "rsa1024",  # a too-short RSA key
    ],
)
async def test_unusable_jwks_entries_ignored(
    json_server: JsonServer, make_verifier: Callable[..., TokenVerifier], jwks_entry: str
) -> None:
    # Input: a JWKS whose only key with the token's kid is an oct key, a private key, a key
    # with use=enc, or a 1024-bit RSA key; the token is signed with that key.
    if jwks_entry == "oct":
        key = OctKey.generate_key(256, parameters={"kid": "k"})
        published, alg = key.as_dict(private=True), "HS256"
    elif jwks_entry == "private":
        key = ECKey.generate_key("P-256", parameters={"kid": "k"})
        published, alg = key.as_dict(private=True), "ES256"
    elif jwks_entry == "enc":
        key = ECKey.generate_key("P-256", parameters={"kid": "k", "use": "enc"})
        published, alg = key.as_dict(private=False), "ES256"
    else:
        key = RSAKey.generate_key(1024, parameters={"kid": "k"}, private=True)
        published, alg = key.as_dict(private=False), "RS256"
    json_server.serve_as_issuer({"keys": [published]})
    verifier = make_verifier(trusted(json_server.url, algorithms=("RS256", "ES256")))
    token = sign({"alg": alg, "kid": "k", "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) in {"unknown_key", "alg_not_allowed"}
    await verifier.keys.refresh(json_server.url, force=True)
    assert json_server.count("/jwks.json") >= 1
    assert verifier.keys.known_kids(json_server.url) == frozenset()


async def test_jwk_alg_must_match_header_alg(
    json_server: JsonServer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: the JWKS says the key is for PS256; the token uses RS256 with that key.
    key = RSAKey.generate_key(2048, parameters={"kid": "k", "alg": "PS256"}, private=True)
    json_server.serve_as_issuer({"keys": [key.as_dict(private=False)]})
    verifier = make_verifier(trusted(json_server.url, algorithms=("RS256", "PS256")))
    token = sign({"alg": "RS256", "kid": "k", "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) == "unknown_key"
    ok = sign({"alg": "PS256", "kid": "k", "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert (await verifier.verify(ok)).issuer == json_server.url


async def test_oversized_jwks_refused(json_server: JsonServer, make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: a JWKS response of 200 KiB (padding inside a valid JSON document).
    key = ECKey.generate_key("P-256", auto_kid=True)
    json_server.serve_as_issuer({"keys": [key.as_dict(private=False)], "padding": "x" * 200_000})
    verifier = make_verifier(trusted(json_server.url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) == "unknown_key"


async def test_oversized_jwks_without_content_length_refused(
    json_server: JsonServer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: a 1 MiB JWKS sent without Content-Length (read until the connection closes).
    key = ECKey.generate_key("P-256", auto_kid=True)
    json_server.serve_as_issuer({"keys": [key.as_dict(private=False)]})
    body = json.dumps({"keys": [key.as_dict(private=False)], "padding": "x" * 2**20}).encode()
    json_server.raw("/jwks.json", body, headers={"Content-Length": ""})
    verifier = make_verifier(trusted(json_server.url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) == "unknown_key"

    # Control: the same small document without Content-Length is accepted.
    json_server.raw("/jwks.json", json.dumps({"keys": [key.as_dict(private=False)]}).encode(), headers={"Content-Length": ""})
    await verifier.keys.refresh(json_server.url, force=True)
    assert (await verifier.verify(token)).issuer == json_server.url


async def test_compressed_jwks_refused(json_server: JsonServer, make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: a JWKS answered with Content-Encoding: gzip although we asked for identity
    # (decompression would defeat the size limit).
    key = ECKey.generate_key("P-256", auto_kid=True)
    json_server.serve_as_issuer({"keys": [key.as_dict(private=False)]})
    json_server.raw("/jwks.json", b'{"keys": []}', headers={"Content-Encoding": "gzip"})
    verifier = make_verifier(trusted(json_server.url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) == "unknown_key"


async def test_redirects_not_followed(
    json_server: JsonServer, attacker: DevIssuer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: the provider's JWKS URL answers 302 to the attacker's JWKS; the token is signed
    # with the attacker's key.
    json_server.serve_as_issuer({"keys": []})
    json_server.raw("/jwks.json", b"", status=302, headers={"Location": attacker.url + "/jwks.json"})
    verifier = make_verifier(trusted(json_server.url))
    token = sign(
        {"alg": "ES256", "kid": attacker.active_key.kid, "typ": "at+jwt"},
        _claims_for(json_server.url),
        attacker.active_key,
    )
    assert await reason(verifier, token) == "unknown_key"
    assert attacker.requests_to(JWKS_PATH) == 0


async def test_jwks_uri_must_be_https_unless_development_loopback(
    json_server: JsonServer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: discovery pointing jwks_uri at plain http on a non-loopback host.
    key = ECKey.generate_key("P-256", auto_kid=True)
    json_server.json(DISCOVERY_PATH, {"issuer": json_server.url, "jwks_uri": "http://example.com/jwks.json"})
    verifier = make_verifier(trusted(json_server.url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(json_server.url), key)
    assert await reason(verifier, token) == "unknown_key"


async def test_keys_kept_when_provider_fails_but_not_forever(
    json_server: JsonServer, make_verifier: Callable[..., TokenVerifier], clock: FakeClock
) -> None:
    # Input: the provider serves its JWKS once, then answers 500. Tokens keep verifying with
    # the cached key past max_key_age, and stop after max_stale_age (24 h).
    key = ECKey.generate_key("P-256", auto_kid=True)
    json_server.serve_as_issuer({"keys": [key.as_dict(private=False)]})
    verifier = make_verifier(trusted(json_server.url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(json_server.url), key)
    await verifier.verify(token)

    json_server.json("/jwks.json", {"error": "down"}, status=500)
    clock.advance(2 * 3600)
    assert (await verifier.verify(token)).issuer == json_server.url
    assert json_server.count("/jwks.json") == 2  # it did try

    clock.advance(24 * 3600)
    assert await reason(verifier, token) == "unknown_key"


async def test_unreachable_provider(make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: a trusted issuer on a closed local port.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    key = ECKey.generate_key("P-256", auto_kid=True)
    verifier = make_verifier(trusted(url))
    token = sign({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, _claims_for(url), key)
    assert await reason(verifier, token) == "unknown_key"


def _claims_for(url: str) -> dict[str, object]:
    import time

    from tests.identity.support import AUDIENCE, MALMO

    now = int(time.time())
    return {
        "iss": url,
        "sub": "u",
        "aud": AUDIENCE,
        "client_id": "c",
        "iat": now,
        "exp": now + 300,
        "org": MALMO,
    }
