"""The verified-signature cache (tokens.VerifiedSignatures) saves only the signature check of a token
presented again: expiry, a withdrawn or replaced key and a forged signature are refused as before."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import ECKey

from skyddat_boende.identity import InvalidToken, TokenVerifier
from skyddat_boende.identity.dev_issuer import DevIssuer
from tests.identity.support import FakeClock, JsonServer, b64, good_claims, mint, sign, trusted


async def reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_an_expired_token_is_refused_after_its_signature_was_cached(issuer: DevIssuer, make_verifier) -> None:
    # Input: a valid token, verified once (cached); then the clock passes its expiry.
    now = [time.time()]
    verifier = make_verifier(trusted(issuer.url), now=lambda: now[0])
    token = mint(issuer, lifetime=60)
    assert (await verifier.verify(token)).subject == "user-123"
    now[0] += 3600
    assert await reason(verifier, token) == "expired"


async def test_a_token_of_a_withdrawn_key_is_refused_after_its_signature_was_cached(
    issuer: DevIssuer, verifier: TokenVerifier, clock: FakeClock
) -> None:
    # Input: a token verified (cached) with key 1; the issuer withdraws key 1 and the JWKS is refreshed.
    token = mint(issuer)
    old_kid = issuer.active_key.kid
    await verifier.verify(token)
    issuer.rotate_key()
    issuer.remove_key(old_kid)  # type: ignore[arg-type]
    clock.advance(verifier.keys.max_key_age + 1)
    assert await reason(verifier, token) == "unknown_key"


async def test_a_key_replaced_under_the_same_kid_means_verifying_again(
    json_server: JsonServer, make_verifier, clock: FakeClock
) -> None:
    # Input: a token signed by key A (kid "k1") and verified (cached); the provider then publishes a
    # different key B under the same kid. The cached verification was A's: the token must fail under B.
    key_a, key_b = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")

    def publish(key: ECKey) -> None:
        json_server.serve_as_issuer({"keys": [{**key.as_dict(private=False), "kid": "k1", "alg": "ES256"}]})

    publish(key_a)
    verifier = make_verifier(trusted(json_server.url))
    claims = good_claims(DevIssuerStub(json_server.url))
    token = sign({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, claims, key_a)
    assert (await verifier.verify(token)).subject == "user-123"
    publish(key_b)
    clock.advance(verifier.keys.max_key_age + 1)
    assert await reason(verifier, token) == "bad_signature"


async def test_a_forged_signature_is_refused_while_the_genuine_token_is_cached(
    issuer: DevIssuer, verifier: TokenVerifier
) -> None:
    # Input: the genuine token (cached), then the same header and payload with another signature.
    token = mint(issuer)
    await verifier.verify(token)
    header, payload, _ = token.split(".")
    assert await reason(verifier, f"{header}.{payload}.{b64(b'x' * 64)}") == "bad_signature"
    assert (await verifier.verify(token)).subject == "user-123"


class DevIssuerStub:
    """What good_claims reads of an issuer: its URL."""

    def __init__(self, url: str) -> None:
        self.url = url
