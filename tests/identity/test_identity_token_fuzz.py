"""Property tests: whatever a token contains, verify() returns a valid Principal or
raises InvalidToken, never anything else."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyddat_boende.identity import ROLES, InvalidToken, Principal, TokenVerifier
from skyddat_boende.identity.dev_issuer import DevIssuer
from tests.identity.support import AUDIENCE, MALMO, b64, good_claims, mint, sign

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


async def outcome(verifier: TokenVerifier, token: Any) -> Principal | None:
    """The Principal, or None for InvalidToken; any other exception fails the test."""
    try:
        principal = await verifier.verify(token)
    except InvalidToken as error:
        assert str(error) == "invalid access token"
        return None
    assert principal.organisation_id == MALMO
    assert principal.roles <= ROLES
    return principal


@FUZZ
@given(token=st.text(max_size=300))
async def test_arbitrary_text(verifier: TokenVerifier, token: str) -> None:
    # Input: any unicode string up to 300 characters.
    assert await outcome(verifier, token) is None


@FUZZ
@given(parts=st.lists(st.binary(max_size=200), min_size=1, max_size=5))
async def test_arbitrary_base64_segments(verifier: TokenVerifier, parts: list[bytes]) -> None:
    # Input: 1-5 dot-separated base64url segments of random bytes.
    assert await outcome(verifier, ".".join(b64(p) for p in parts)) is None


@FUZZ
@given(header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jku", "crit", "x"]), json_values, max_size=5),
       payload=st.binary(max_size=200))
async def test_arbitrary_headers(issuer: DevIssuer, verifier: TokenVerifier, header: dict[str, Any], payload: bytes) -> None:
    # Input: random header objects (typed and untyped alg/kid/typ/jku/crit) over random payloads.
    token = f"{b64(json.dumps(header).encode())}.{b64(payload)}.{b64(b'signature')}"
    assert await outcome(verifier, token) is None


@FUZZ
@given(data=st.data())
async def test_mutated_valid_token(issuer: DevIssuer, verifier: TokenVerifier, data: st.DataObject) -> None:
    # Input: a valid token with one character replaced, or cut short, at a random position.
    token = mint(issuer)
    position = data.draw(st.integers(0, len(token) - 1))
    if data.draw(st.booleans()):
        mutated = token[:position]
    else:
        replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[position]))
        mutated = token[:position] + replacement + token[position + 1 :]
    result = await outcome(verifier, mutated)
    if result is not None:
        # Only the unused low bits of the signature's last base64 character may change
        # without effect: the decoded signature and signed input are then identical.
        assert position == len(token) - 1


@FUZZ
@given(
    overrides=st.dictionaries(
        st.sampled_from(["iss", "sub", "aud", "client_id", "exp", "nbf", "iat", "jti", "org", "roles", "scope"]),
        json_values,
        max_size=4,
    )
)
async def test_signed_tokens_with_arbitrary_claim_values(
    issuer: DevIssuer, verifier: TokenVerifier, overrides: dict[str, Any]
) -> None:
    # Input: correctly signed tokens in which up to four claims get arbitrary JSON values.
    claims = good_claims(issuer)
    claims.update(overrides)
    header = {"alg": "ES256", "kid": issuer.active_key.kid, "typ": "at+jwt"}
    principal = await outcome(verifier, sign(header, claims, issuer.active_key))
    if principal is not None:
        now = time.time()
        assert claims["iss"] == issuer.url
        assert claims["aud"] == AUDIENCE or AUDIENCE in claims["aud"]
        assert claims["exp"] + 60 > now and claims["iat"] <= now + 60
        assert isinstance(claims["sub"], str) and isinstance(claims["client_id"], str)


@pytest.mark.parametrize("depth", [10, 1000, 5000])
async def test_deeply_nested_signed_claims(issuer: DevIssuer, verifier: TokenVerifier, depth: int) -> None:
    # Input: a signed token whose "roles" is an array nested `depth` levels deep.
    payload = json.dumps(good_claims(issuer)).encode()[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    header = {"alg": "ES256", "kid": issuer.active_key.kid, "typ": "at+jwt"}
    result = await outcome(verifier, sign(header, payload, issuer.active_key))
    if depth == 10:
        assert result is not None
    if depth == 5000:
        assert result is None  # over the size limit
