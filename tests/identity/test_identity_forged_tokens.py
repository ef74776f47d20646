"""The forged-token suite: every token here must be rejected with InvalidToken.

Keys are served by real discovery + JWKS endpoints on 127.0.0.1; attackers'
keys are served on their own local servers so that a verifier that followed
`jku`/`x5u` would actually find them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from joserfc.jwk import ECKey

from skyddat_boende.identity import InvalidToken, TokenVerifier
from skyddat_boende.identity.dev_issuer import DevIssuer
from tests.identity.support import (
    AUDIENCE,
    MALMO,
    STOCKHOLM,
    b64,
    b64json,
    good_claims,
    mint,
    sign,
    trusted,
    unsigned,
)


async def rejected(verifier: TokenVerifier, token: str) -> str:
    """Verify, expect InvalidToken with a generic message; return its reason."""
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    assert str(caught.value) == "invalid access token"
    return caught.value.reason


def header(dev: DevIssuer, **overrides: Any) -> dict[str, Any]:
    h = {"alg": "ES256", "kid": dev.active_key.kid, "typ": "at+jwt"}
    h.update(overrides)
    return {k: v for k, v in h.items() if v is not None}


# --- algorithm attacks -------------------------------------------------------


async def test_alg_none(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: {"alg":"none"} with valid claims and an empty signature, and with a junk one.
    claims = good_claims(issuer)
    assert await rejected(verifier, unsigned(header(issuer, alg="none"), claims)) == "malformed"
    assert await rejected(verifier, unsigned(header(issuer, alg="none"), claims, b"x")) == "alg_not_allowed"
    assert await rejected(verifier, unsigned(header(issuer, alg="None"), claims, b"x")) == "alg_not_allowed"


@pytest.mark.parametrize("key_form", ["pem", "jwk-json", "der"])
async def test_hs256_signed_with_issuer_public_key(issuer: DevIssuer, verifier: TokenVerifier, key_form: str) -> None:
    # Input: HS256 token whose HMAC secret is the issuer's public key (PEM / JWK JSON / DER),
    # the classic algorithm-confusion forgery.
    public = issuer.active_key
    secret = {
        "pem": public.as_pem(private=False),
        "jwk-json": json.dumps(public.as_dict(private=False)).encode(),
        "der": public.as_der(private=False),
    }[key_form]
    h = header(issuer, alg="HS256")
    signing_input = f"{b64json(h)}.{b64json(good_claims(issuer))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    assert await rejected(verifier, f"{signing_input}.{b64(signature)}") == "alg_not_allowed"


async def test_alg_mismatching_key_type(issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: header alg RS256 (allowed for the issuer) but the issuer's key with that kid is EC.
    verifier = make_verifier(trusted(issuer.url, algorithms=("RS256", "ES256")))
    token = unsigned(header(issuer, alg="RS256"), good_claims(issuer), b"\x00" * 256)
    assert await rejected(verifier, token) == "unknown_key"


# --- issuer, audience, time ---------------------------------------------------


async def test_wrong_iss(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: correctly signed by the trusted key, but iss = "https://evil.example".
    token = sign(header(issuer), good_claims(issuer, iss="https://evil.example"), issuer.active_key)
    assert await rejected(verifier, token) == "unknown_issuer"


async def test_iss_with_trailing_slash(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: iss = "<issuer>/" (not an exact match).
    token = sign(header(issuer), good_claims(issuer, iss=issuer.url + "/"), issuer.active_key)
    assert await rejected(verifier, token) == "unknown_issuer"


@pytest.mark.parametrize(
    "aud", ["https://other-service.example", ["https://other-service.example"], [], None, 42, [AUDIENCE, 7]]
)
async def test_wrong_aud(issuer: DevIssuer, verifier: TokenVerifier, aud: object) -> None:
    # Input: aud set to another service, an empty list, missing, a number, a list with a number.
    claims = good_claims(issuer)
    if aud is None:
        del claims["aud"]
    else:
        claims["aud"] = aud
    token = sign(header(issuer), claims, issuer.active_key)
    assert await rejected(verifier, token) in {"wrong_aud", "bad_aud"}


async def test_expired(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: exp 2 minutes ago (beyond the 60 s leeway).
    now = int(time.time())
    token = sign(header(issuer), good_claims(issuer, iat=now - 600, exp=now - 120), issuer.active_key)
    assert await rejected(verifier, token) == "expired"


async def test_exp_missing(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: no exp claim.
    claims = good_claims(issuer)
    del claims["exp"]
    assert await rejected(verifier, sign(header(issuer), claims, issuer.active_key)) == "bad_exp"


async def test_nbf_in_future(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: nbf 10 minutes ahead.
    now = int(time.time())
    token = sign(header(issuer), good_claims(issuer, nbf=now + 600, exp=now + 900), issuer.active_key)
    assert await rejected(verifier, token) == "not_yet_valid"


async def test_iat_far_in_future(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: iat one hour ahead.
    now = int(time.time())
    token = sign(header(issuer), good_claims(issuer, iat=now + 3600, exp=now + 3900), issuer.active_key)
    assert await rejected(verifier, token) == "issued_in_future"


async def test_iat_missing(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: no iat claim.
    claims = good_claims(issuer)
    del claims["iat"]
    assert await rejected(verifier, sign(header(issuer), claims, issuer.active_key)) == "bad_iat"


async def test_lifetime_too_long(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a token valid for ten years.
    now = int(time.time())
    token = sign(header(issuer), good_claims(issuer, exp=now + 10 * 365 * 86400), issuer.active_key)
    assert await rejected(verifier, token) == "bad_lifetime"


# --- typ ----------------------------------------------------------------------


async def test_typ_missing(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a header with no typ (authlib's RFC 9068 validator would let this through).
    token = sign(header(issuer, typ=None), good_claims(issuer), issuer.active_key)
    assert await rejected(verifier, token) == "bad_typ"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt"])
async def test_typ_jwt_rejected_by_default(issuer: DevIssuer, verifier: TokenVerifier, typ: str) -> None:
    # Input: typ "JWT" (e.g. an ID token) against an issuer with default settings.
    assert await rejected(verifier, mint(issuer, typ=typ)) == "bad_typ"


async def test_typ_jwt_accepted_when_configured(issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]) -> None:
    # Input: typ "JWT" against an issuer with accept_plain_jwt_typ = true: accepted.
    verifier = make_verifier(trusted(issuer.url, accept_plain_jwt_typ=True))
    assert (await verifier.verify(mint(issuer, typ="JWT"))).organisation_id == MALMO
    # ...but still not a missing typ or some other type.
    assert await rejected(verifier, sign(header(issuer, typ=None), good_claims(issuer), issuer.active_key)) == "bad_typ"
    assert await rejected(verifier, mint(issuer, typ="id_token+jwt")) == "bad_typ"


# --- keys ---------------------------------------------------------------------


async def test_unknown_kid(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a correctly signed token whose kid is not in the issuer's JWKS.
    token = sign(header(issuer, kid="no-such-key"), good_claims(issuer), issuer.active_key)
    assert await rejected(verifier, token) == "unknown_key"


async def test_kid_missing(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a correctly signed token with no kid header.
    token = sign(header(issuer, kid=None), good_claims(issuer), issuer.active_key)
    assert await rejected(verifier, token) == "bad_kid"


async def test_other_key_with_same_kid(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: signed by an attacker's EC key that claims the issuer's kid.
    own_key = ECKey.generate_key("P-256")
    token = sign(header(issuer), good_claims(issuer), own_key)
    assert await rejected(verifier, token) == "bad_signature"


async def test_signature_bytes_tampered(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a valid token with the claims swapped for another organisation's after signing.
    token = mint(issuer)
    head, _, sig = token.split(".")
    forged_payload = b64json(good_claims(issuer, org=STOCKHOLM))
    assert await rejected(verifier, f"{head}.{forged_payload}.{sig}") == "bad_signature"


def _self_signed_cert(key: ECKey) -> str:
    private = key.private_key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    import base64

    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@pytest.mark.parametrize("kid_choice", ["attacker-kid", "issuer-kid"])
@pytest.mark.parametrize("param", ["jku", "x5u", "jwk", "x5c"])
async def test_key_pointing_headers_never_trusted(
    issuer: DevIssuer, attacker: DevIssuer, verifier: TokenVerifier, param: str, kid_choice: str
) -> None:
    # Input: claims for Malmö signed by the attacker's key, with a header pointing at that key:
    # jku → attacker's JWKS URL (really served), x5u → attacker URL, jwk → attacker's public JWK
    # embedded, x5c → a self-signed certificate for the attacker's key. kid is either the
    # attacker's or the issuer's own.
    key = attacker.active_key
    assert isinstance(key, ECKey)
    value: Any = {
        "jku": attacker.url + "/jwks.json",
        "x5u": attacker.url + "/cert.pem",
        "jwk": key.as_dict(private=False),
        "x5c": [_self_signed_cert(key)],
    }[param]
    kid = key.kid if kid_choice == "attacker-kid" else issuer.active_key.kid
    token = sign(header(issuer, kid=kid, **{param: value}), good_claims(issuer), key)
    before = len(attacker.request_log)

    assert await rejected(verifier, token) == "forbidden_header"
    assert len(attacker.request_log) == before  # never fetched the attacker's key


@pytest.mark.parametrize("param", [{"crit": ["exp"], "exp": 1}, {"b64": False, "crit": ["b64"]}, {"b64": False}, {"cty": "JWT"}])
async def test_processing_headers_rejected(issuer: DevIssuer, verifier: TokenVerifier, param: dict[str, Any]) -> None:
    # Input: validly signed token with crit / b64=false (unencoded payload) / cty (nested JWT).
    token = sign(header(issuer, **param), good_claims(issuer), issuer.active_key)
    assert await rejected(verifier, token) == "forbidden_header"


# --- organisations ------------------------------------------------------------


async def test_municipality_a_issuer_claiming_municipality_b(
    issuer: DevIssuer, other_issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: both Malmö's and Stockholm's issuers are trusted, each for its own municipality.
    # Malmö's issuer signs a token with org = kommun-0180 (Stockholm).
    verifier = make_verifier(trusted(issuer.url, (MALMO,)), trusted(other_issuer.url, (STOCKHOLM,)))
    assert (await verifier.verify(mint(other_issuer, org=STOCKHOLM))).organisation_id == STOCKHOLM
    assert await rejected(verifier, mint(issuer, org=STOCKHOLM)) == "org_not_allowed_for_issuer"


async def test_municipality_a_key_with_municipality_b_iss(
    issuer: DevIssuer, other_issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]
) -> None:
    # Input: signed with Malmö's key, but iss = Stockholm's issuer and org = kommun-0180.
    verifier = make_verifier(trusted(issuer.url, (MALMO,)), trusted(other_issuer.url, (STOCKHOLM,)))
    claims = good_claims(issuer, iss=other_issuer.url, org=STOCKHOLM)
    token = sign(header(issuer), claims, issuer.active_key)
    assert await rejected(verifier, token) == "unknown_key"


@pytest.mark.parametrize("org", [None, "", "Kommun-1280", "kommun-1280 ", ["kommun-1280"], 1280, {"id": "kommun-1280"}])
async def test_missing_or_malformed_org(issuer: DevIssuer, verifier: TokenVerifier, org: object) -> None:
    # Input: org missing, empty, wrong case, trailing space, a list, a number, an object.
    claims = good_claims(issuer)
    claims.pop("org")
    if org is not None:
        claims["org"] = org
    assert await rejected(verifier, sign(header(issuer), claims, issuer.active_key)) == "bad_org"


# --- subjects and claim types -------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("sub", None, "bad_sub"),
        ("sub", "", "bad_sub"),
        ("sub", 123, "bad_sub"),
        ("sub", "x" * 300, "bad_sub"),
        ("sub", "a\nb", "bad_sub"),
        ("client_id", None, "bad_client_id"),
        ("client_id", ["malmo-portal"], "bad_client_id"),
        ("jti", 5, "bad_jti"),
        ("exp", "9999999999", "bad_exp"),
        ("exp", True, "bad_exp"),
        ("exp", 10**18, "bad_exp"),
        ("exp", -1, "bad_exp"),
        ("iat", [1], "bad_iat"),
        ("nbf", {"t": 1}, "bad_nbf"),
        ("roles", "x" * 200, "bad_roles"),
        ("roles", ["social_worker", 1], "bad_roles"),
        ("roles", ["r"] * 100, "bad_roles"),
        ("roles", {"social_worker": True}, "bad_roles"),
        ("scope", 7, "bad_scope"),
        ("scope", "a  b", "bad_scope"),
        ("scope", "caf\u00e9:read", "bad_scope"),
        ("scope", " ".join(["s"] * 100), "bad_scope"),
        ("scope", ["ok", None], "bad_scope"),
    ],
)
async def test_wrong_claim_types(
    issuer: DevIssuer, verifier: TokenVerifier, claim: str, value: object, reason: str
) -> None:
    # Input: a validly signed token with one claim missing, of the wrong type, or out of bounds.
    claims = good_claims(issuer)
    claims.pop(claim, None)
    if value is not None:
        claims[claim] = value
    assert await rejected(verifier, sign(header(issuer), claims, issuer.active_key)) == reason


async def test_huge_number_in_claims(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: signed payload with exp = a 4000-digit integer, and one with exp = 1e999.
    for exp in (b"9" * 4000, b"1e999"):
        payload = json.dumps(good_claims(issuer)).encode().replace(b'"exp": ', b'"exp": ' + exp + b', "x": ')
        token = sign(header(issuer), payload, issuer.active_key)
        assert await rejected(verifier, token) in {"malformed_payload", "too_large"}


async def test_duplicate_claim_names(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: signed payload with "org" twice (Malmö, then Stockholm); parsers disagree on such.
    payload = b'{"org": "kommun-1280", ' + json.dumps(good_claims(issuer)).encode()[1:]
    token = sign(header(issuer), payload, issuer.active_key)
    assert await rejected(verifier, token) == "malformed_payload"


async def test_payload_not_an_object(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: signed payloads that are a JSON list, a string and invalid UTF-8.
    for payload in (b"[1, 2]", b'"hello"', b"\xff\xfe{}"):
        token = sign(header(issuer), payload, issuer.active_key)
        assert await rejected(verifier, token) == "malformed_payload"


# --- raw token garbage ---------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",
        "...",
        "eyJ.eyJ.sig",
        "!!!.???.***",
        "Bearer abc.def.ghi",
        " " + "a.b.c",
        "\u00e5\u00e4\u00f6.x.y",
        "a" * 9000,
        "x.x.x\n",
    ],
)
async def test_garbage_strings(verifier: TokenVerifier, token: str) -> None:
    # Input: strings that are not compact JWS at all (wrong parts, bad base64, non-ASCII, huge).
    await rejected(verifier, token)


async def test_non_string_token(verifier: TokenVerifier) -> None:
    # Input: bytes and None instead of a string.
    assert await rejected(verifier, b"a.b.c") == "not_a_string"  # type: ignore[arg-type]
    assert await rejected(verifier, None) == "not_a_string"  # type: ignore[arg-type]


async def test_truncated_tokens(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a valid token cut at every length from 0 to its full length minus one.
    token = mint(issuer)
    await verifier.verify(token)
    for length in range(len(token)):
        await rejected(verifier, token[:length])


async def test_oversized_token(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a validly signed token padded with a 10 KiB claim.
    token = mint(issuer, extra_claims={"padding": "x" * 10_000})
    assert await rejected(verifier, token) == "too_large"


async def test_header_not_json(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: header segments that decode to non-JSON, a JSON list, deeply nested arrays.
    payload = b64json(good_claims(issuer))
    for raw in (b"not json", b"[]", b"[" * 3000 + b"]" * 3000, b'{"alg": NaN}'):
        await rejected(verifier, f"{b64(raw)}.{payload}.{b64(b'sig')}")


async def test_error_message_never_echoes_token(issuer: DevIssuer, verifier: TokenVerifier) -> None:
    # Input: a token whose sub carries a marker string and which is expired; neither the
    # message nor the reason nor repr contains the marker.
    marker = "PERSONNUMMER-19121212-1212"
    now = int(time.time())
    token = sign(header(issuer), good_claims(issuer, sub=marker, exp=now - 1000, iat=now - 2000), issuer.active_key)
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(token)
    for text in (str(caught.value), caught.value.reason, repr(caught.value)):
        assert marker not in text
        assert token not in text
