"""Verification of OAuth 2.0 JWT access tokens (RFC 9068, RFC 8725).

`TokenVerifier.verify` turns a bearer token into a `Principal` or raises
`InvalidToken`. Nothing in the token is trusted before its signature has been
checked with a key from the issuer's own JWKS: the unverified ``iss`` is used
only to pick the issuer's configuration and keys, and the verifier, not the
token, decides which algorithms are acceptable.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Final

import httpx
from joserfc import jws
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from ._json import loads_object
from .issuers import SUPPORTED_ALGORITHMS, TrustedIssuer, is_valid_organisation_id
from .keys import JwksCache
from .principal import HUMAN_ROLES, ROLES, Principal

log = logging.getLogger(__name__)

MAX_TOKEN_BYTES: Final = 8 * 1024
MAX_ID_LENGTH: Final = 200  # the audit trail keeps subjects and client ids up to 200 characters
MAX_AUDIENCES: Final = 16
MAX_ROLES: Final = 32
MAX_SCOPES: Final = 64
MAX_SCOPE_LENGTH: Final = 128
#: Upper bound for NumericDate claims (about year 4000); bigger is nonsense.
MAX_NUMERIC_DATE: Final = 64_000_000_000

#: Header parameters that point at keys or change how the JWS is processed.
#: The verifier never follows them, so a token carrying one is rejected.
FORBIDDEN_HEADERS: Final = frozenset({"jku", "x5u", "jwk", "x5c", "crit", "b64", "zip", "enc", "cty"})
ACCESS_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})
PLAIN_JWT_TYPES: Final = frozenset({"jwt", "application/jwt"})

_TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: RFC 6749 §3.3 scope-token characters.
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
#: Printable, no control characters or whitespace at the ends.
_IDENTIFIER: Final = re.compile(r"[^\x00-\x1f\x7f]+")

#: alg → (kty, curve or None)
_ALG_KEY_TYPES: Final[dict[str, tuple[type[Key], str | None]]] = {
    "RS256": (RSAKey, None),
    "RS384": (RSAKey, None),
    "RS512": (RSAKey, None),
    "PS256": (RSAKey, None),
    "PS384": (RSAKey, None),
    "PS512": (RSAKey, None),
    "ES256": (ECKey, "P-256"),
    "ES384": (ECKey, "P-384"),
    "ES512": (ECKey, "P-521"),
    "Ed25519": (OKPKey, "Ed25519"),
}
assert set(_ALG_KEY_TYPES) == SUPPORTED_ALGORITHMS


class InvalidToken(Exception):
    """The token is not acceptable. Answer 401 and say nothing more.

    `reason` is a fixed identifier for logs (e.g. ``"expired"``); it never
    contains anything taken from the token.
    """

    MESSAGE: Final = "invalid access token"

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason

    def __repr__(self) -> str:
        return f"InvalidToken(reason={self.reason!r})"


class TokenVerifier:
    """Verifies bearer access tokens from the configured trusted issuers.

    A development issuer is refused unless ``allow_development`` is set, so a
    production server cannot trust one by a configuration slip.
    """

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        http_client: httpx.AsyncClient,
        now: Callable[[], float] = time.time,
        *,
        allow_development: bool = False,
        max_token_bytes: int = MAX_TOKEN_BYTES,
        min_refresh_interval: float = 30.0,
        max_key_age: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        configs = list(issuers)
        self._issuers: dict[str, TrustedIssuer] = {}
        for cfg in configs:
            if cfg.development and not allow_development:
                raise ValueError(
                    f"trusted issuer {cfg.issuer!r} is a development issuer; "
                    "refusing it outside development mode"
                )
            if cfg.issuer in self._issuers:
                raise ValueError(f"duplicate trusted issuer {cfg.issuer!r}")
            self._issuers[cfg.issuer] = cfg
        self._now = now
        self._max_token_bytes = max_token_bytes
        self.keys = JwksCache(
            configs,
            http_client,
            min_refresh_interval=min_refresh_interval,
            max_key_age=max_key_age,
            monotonic=monotonic,
        )
        self._verified = VerifiedSignatures()

    @property
    def issuers(self) -> tuple[TrustedIssuer, ...]:
        return tuple(self._issuers.values())

    async def verify(self, token: str) -> Principal:
        """The caller behind a bearer token, or `InvalidToken`."""
        try:
            return await self._verify(token)
        except InvalidToken:
            raise
        except Exception as error:  # noqa: BLE001 - nothing in a token may crash the service
            # Only the exception type: its message could quote token content.
            log.warning("unexpected error while verifying a token: %s", type(error).__name__)
            raise InvalidToken("unexpected_error") from None

    async def _verify(self, token: str) -> Principal:
        # 1. Shape and size, before any decoding.
        if not isinstance(token, str):
            raise InvalidToken("not_a_string")
        if len(token) > self._max_token_bytes:
            raise InvalidToken("too_large")
        if not _TOKEN_SHAPE.fullmatch(token):
            raise InvalidToken("malformed")
        header_b64, payload_b64, _signature_b64 = token.split(".")

        # 2. Header, parsed but not trusted.
        header = _decode_segment(header_b64, "malformed_header")
        if FORBIDDEN_HEADERS & header.keys():
            raise InvalidToken("forbidden_header")
        alg = header.get("alg")
        kid = header.get("kid")
        typ = header.get("typ")
        if not isinstance(alg, str):
            raise InvalidToken("bad_alg")
        if not isinstance(kid, str) or not 0 < len(kid) <= 256:
            raise InvalidToken("bad_kid")

        # 3. The unverified iss only selects which configuration and keys to use.
        unverified = _decode_segment(payload_b64, "malformed_payload")
        iss = unverified.get("iss")
        cfg = self._issuers.get(iss) if isinstance(iss, str) else None
        if cfg is None:
            raise InvalidToken("unknown_issuer")
        if alg not in cfg.algorithms:
            raise InvalidToken("alg_not_allowed")
        _check_typ(typ, cfg)

        # 4. Signature, with keys from the issuer's JWKS that fit the alg.
        candidates = [k for k in await self.keys.get_keys(cfg.issuer, kid) if _key_fits(k, alg)]
        if not candidates:
            raise InvalidToken("unknown_key")
        payload = self._verified.payload(token, candidates)
        if payload is None:
            key, payload = _verify_signature(token, alg, candidates)
            self._verified.add(token, key, payload)

        # 5. Claims, now from signed bytes.
        try:
            claims = loads_object(payload)
        except ValueError:
            raise InvalidToken("malformed_payload") from None
        return _principal_from_claims(claims, cfg, self._now())


def _decode_segment(segment: str, reason: str) -> dict[str, Any]:
    if len(segment) % 4 == 1:
        raise InvalidToken(reason)
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return loads_object(raw)
    except ValueError:  # binascii.Error is a ValueError
        raise InvalidToken(reason) from None


def _check_typ(typ: object, cfg: TrustedIssuer) -> None:
    """RFC 9068 §4: typ must be at+jwt; RFC 8725 §3.11 explicit typing."""
    if not isinstance(typ, str):
        raise InvalidToken("bad_typ")
    lowered = typ.lower()
    if lowered in ACCESS_TOKEN_TYPES:
        return
    if cfg.accept_plain_jwt_typ and lowered in PLAIN_JWT_TYPES:
        return
    raise InvalidToken("bad_typ")


def _key_fits(key: Key, alg: str) -> bool:
    """The key's type (and curve) matches the alg, and the JWK's own alg, if any."""
    key_class, curve = _ALG_KEY_TYPES[alg]
    if not isinstance(key, key_class):
        return False
    if curve is not None and key.curve_name != curve:  # type: ignore[attr-defined]
        return False
    return key.alg is None or key.alg == alg


class VerifiedSignatures:
    """Tokens whose signature a key verified, most recently used last. A client presents the same token
    on every call for minutes; checking its signature again each time is most of the cost of a call.

    A token (the exact string: header, payload and signature) counts as verified only while the very key
    object that verified it is still one of the issuer's current keys for its kid: a key withdrawn from
    the JWKS, or any refresh of the JWKS (which imports new key objects), means verifying again. Only the
    signature check is saved: every claim (expiry, audience, organisation, roles) is still checked on
    every call, from the signed payload."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[Key, bytes]] = OrderedDict()

    def payload(self, token: str, current_keys: list[Key]) -> bytes | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        key, payload = entry
        if not any(current is key for current in current_keys):
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return payload

    def add(self, token: str, key: Key, payload: bytes) -> None:
        self._entries[token] = (key, payload)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)


def _verify_signature(token: str, alg: str, candidates: list[Key]) -> tuple[Key, bytes]:
    # A registry allowing exactly this alg, which we already checked against
    # the issuer's allow-list; joserfc checks the key type once more.
    registry = jws.JWSRegistry(algorithms=[alg], strict_check_header=False)
    for key in candidates[:4]:
        try:
            obj = jws.deserialize_compact(token, key, registry=registry)
        except Exception:  # noqa: BLE001 - BadSignatureError and any decoding failure
            continue
        if obj.payload is not None:
            return key, obj.payload
    raise InvalidToken("bad_signature")


def _principal_from_claims(claims: dict[str, Any], cfg: TrustedIssuer, now: float) -> Principal:
    if claims.get("iss") != cfg.issuer:
        raise InvalidToken("bad_iss")
    _check_audience(claims.get("aud"), cfg.audience)

    leeway = cfg.leeway_seconds
    exp = _numeric_date(claims.get("exp"), "bad_exp", required=True)
    iat = _numeric_date(claims.get("iat"), "bad_iat", required=True)
    nbf = _numeric_date(claims.get("nbf"), "bad_nbf", required=False)
    assert exp is not None and iat is not None
    if now >= exp + leeway:
        raise InvalidToken("expired")
    if iat > now + leeway:
        raise InvalidToken("issued_in_future")
    if nbf is not None and nbf > now + leeway:
        raise InvalidToken("not_yet_valid")
    if exp <= iat or exp - iat > cfg.max_token_lifetime_seconds:
        raise InvalidToken("bad_lifetime")

    subject = _identifier(claims.get("sub"), "bad_sub", required=True)
    client_id = _identifier(claims.get("client_id"), "bad_client_id", required=True)
    token_id = _identifier(claims.get("jti"), "bad_jti", required=False)
    assert subject is not None and client_id is not None

    organisation_id = _organisation(claims, cfg)
    roles = _roles(_claim(claims, cfg.roles_claim), cfg)
    scopes = _scopes(_claim(claims, cfg.scope_claim))

    return Principal(
        issuer=cfg.issuer,
        subject=subject,
        client_id=client_id,
        organisation_id=organisation_id,
        roles=roles,
        scopes=scopes,
        is_machine=subject == client_id or not (roles & HUMAN_ROLES),
        token_id=token_id,
        expires_at=float(exp),
    )


def _claim(claims: dict[str, Any], path: str | tuple[str, ...]) -> Any:
    value: Any = claims
    for name in (path,) if isinstance(path, str) else path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _check_audience(aud: object, expected: str) -> None:
    if isinstance(aud, str):
        audiences: list[object] = [aud]
    elif isinstance(aud, list) and 0 < len(aud) <= MAX_AUDIENCES:
        audiences = aud
    else:
        raise InvalidToken("bad_aud")
    if not all(isinstance(a, str) for a in audiences):
        raise InvalidToken("bad_aud")
    if expected not in audiences:
        raise InvalidToken("wrong_aud")


def _numeric_date(value: object, reason: str, *, required: bool) -> float | None:
    if value is None:
        if required:
            raise InvalidToken(reason)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidToken(reason)
    if not math.isfinite(value) or not 0 <= value <= MAX_NUMERIC_DATE:
        raise InvalidToken(reason)
    return float(value)


def _identifier(value: object, reason: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_ID_LENGTH
        or not _IDENTIFIER.fullmatch(value)
        or value != value.strip()
    ):
        raise InvalidToken(reason)
    return value


def _organisation(claims: dict[str, Any], cfg: TrustedIssuer) -> str:
    if cfg.org_claim is None:
        # Validated in the configuration: exactly one organisation, not "*".
        return cfg.organisations[0]
    org = _claim(claims, cfg.org_claim)
    if not is_valid_organisation_id(org):
        raise InvalidToken("bad_org")
    if not cfg.any_organisation and org not in cfg.organisations:
        raise InvalidToken("org_not_allowed_for_issuer")
    return org  # type: ignore[no-any-return]


def _roles(value: object, cfg: TrustedIssuer) -> frozenset[str]:
    if value is None:
        return frozenset()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or len(names) > MAX_ROLES:
        raise InvalidToken("bad_roles")
    roles: set[str] = set()
    for name in names:
        if not isinstance(name, str) or not 0 < len(name) <= MAX_SCOPE_LENGTH:
            raise InvalidToken("bad_roles")
        role = cfg.role_map.get(name, name)
        if role in ROLES:
            roles.add(role)
    return frozenset(roles)


def _scopes(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        if len(value) > MAX_SCOPES * (MAX_SCOPE_LENGTH + 1):
            raise InvalidToken("bad_scope")
        names: object = value.split(" ") if value else []
    else:
        names = value
    if not isinstance(names, list) or len(names) > MAX_SCOPES:
        raise InvalidToken("bad_scope")
    for name in names:
        if not isinstance(name, str) or len(name) > MAX_SCOPE_LENGTH or not _SCOPE_TOKEN.fullmatch(name):
            raise InvalidToken("bad_scope")
    return frozenset(names)  # type: ignore[arg-type]
