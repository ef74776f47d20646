"""Which token issuers this service trusts, and for what.

The configuration is a JSON list of objects, one per issuer, e.g.::

    [{"issuer": "https://idp.malmo.se/realms/soc",
      "audience": "https://skyddat-boende.example/api",
      "organisations": ["kommun-1280"]}]

A municipality's own identity provider should list only that municipality;
``["*"]`` (any organisation) is for a national provider and must be stated
explicitly.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

import msgspec

from .principal import ROLES

#: Asymmetric signature algorithms the verifier can be configured to accept.
#: "none" and the HMAC family (HS*) are never allowed: with a public key as the
#: HMAC secret anyone could forge tokens (RFC 8725 §2.1, §3.1).
SUPPORTED_ALGORITHMS: Final[frozenset[str]] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "Ed25519"}
)
DEFAULT_ALGORITHMS: Final[tuple[str, ...]] = ("RS256", "ES256")

ANY_ORGANISATION: Final = "*"
ORGANISATION_ID_PATTERN: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_ORGANISATION_ID_LENGTH: Final = 64

_LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_valid_organisation_id(value: object) -> bool:
    """``kommun-1280``, ``operator-kvinnojouren-lund`` and the like."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ORGANISATION_ID_LENGTH
        and ORGANISATION_ID_PATTERN.fullmatch(value) is not None
    )


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, development: bool, what: str) -> None:
    """An https URL; plain http only for a development issuer on loopback."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as error:
        raise ValueError(f"{what} is not a valid URL") from error
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what} must not contain credentials")
    if parts.query or parts.fragment:
        raise ValueError(f"{what} must not have a query or fragment")
    if not host:
        raise ValueError(f"{what} has no host")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and development and is_loopback_host(host):
        return
    raise ValueError(
        f"{what} must use https (plain http only for a development issuer on localhost/127.0.0.1)"
    )


ClaimPath = str | tuple[str, ...]
"""A top-level claim name, or a list of names leading into nested objects
(e.g. ``["realm_access", "roles"]`` for Keycloak)."""


class TrustedIssuer(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    #: The issuer identifier, compared exactly with the token's ``iss`` and the
    #: discovery document's ``issuer``.
    issuer: str
    #: This service's audience; the token's ``aud`` must contain it.
    audience: str
    #: Organisation ids this issuer may act for, or ``["*"]`` for any.
    organisations: tuple[str, ...]
    #: Signature algorithms accepted from this issuer.
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    #: Claim holding the organisation id. ``None`` means the token carries none
    #: and the issuer's single configured organisation is used.
    org_claim: ClaimPath | None = "org"
    roles_claim: ClaimPath = "roles"
    #: Space-delimited string (RFC 8693 style) or a list of strings.
    scope_claim: ClaimPath = "scope"
    #: Maps the issuer's role names to ours; names not in it are taken as-is.
    #: Roles outside the service's vocabulary are dropped either way.
    role_map: dict[str, str] = msgspec.field(default_factory=dict)
    #: Accept ``typ: JWT`` as well as ``at+jwt`` (RFC 9068 §4 wants at+jwt).
    accept_plain_jwt_typ: bool = False
    leeway_seconds: int = 60
    #: Longest accepted ``exp - iat``.
    max_token_lifetime_seconds: int = 24 * 3600
    #: A local development issuer. A production server must refuse these.
    development: bool = False

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def any_organisation(self) -> bool:
        return ANY_ORGANISATION in self.organisations

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _validate(cfg: TrustedIssuer) -> None:
    name = f"trusted issuer {cfg.issuer!r}"
    if not cfg.issuer or len(cfg.issuer) > 512:
        raise ValueError("issuer must be a non-empty URL of at most 512 characters")
    check_url(cfg.issuer, development=cfg.development, what=f"{name}: issuer")
    if not cfg.audience or len(cfg.audience) > 512:
        raise ValueError(f"{name}: audience must be a non-empty string of at most 512 characters")

    if not cfg.organisations:
        raise ValueError(f"{name}: organisations must not be empty (use [\"*\"] for a national issuer)")
    if ANY_ORGANISATION in cfg.organisations and len(cfg.organisations) != 1:
        raise ValueError(f"{name}: \"*\" must be the only entry in organisations")
    for org in cfg.organisations:
        if org != ANY_ORGANISATION and not is_valid_organisation_id(org):
            raise ValueError(f"{name}: {org!r} is not a valid organisation id")
    if len(set(cfg.organisations)) != len(cfg.organisations):
        raise ValueError(f"{name}: duplicate organisation ids")
    if cfg.org_claim is None and (cfg.any_organisation or len(cfg.organisations) != 1):
        raise ValueError(f"{name}: org_claim may be null only for an issuer of exactly one organisation")

    if not cfg.algorithms:
        raise ValueError(f"{name}: algorithms must not be empty")
    for alg in cfg.algorithms:
        if alg.lower() == "none" or alg.upper().startswith("HS"):
            raise ValueError(f"{name}: algorithm {alg!r} is never allowed (only asymmetric signatures)")
        if alg not in SUPPORTED_ALGORITHMS:
            raise ValueError(
                f"{name}: unsupported algorithm {alg!r}; choose from {sorted(SUPPORTED_ALGORITHMS)}"
            )

    for field, path in (("org_claim", cfg.org_claim), ("roles_claim", cfg.roles_claim), ("scope_claim", cfg.scope_claim)):
        if path is None:
            continue
        parts = [path] if isinstance(path, str) else path
        if not parts or not all(isinstance(p, str) and 0 < len(p) <= 128 for p in parts) or len(parts) > 4:
            raise ValueError(f"{name}: {field} must be a claim name or a list of 1-4 claim names")

    for theirs, ours in cfg.role_map.items():
        if ours not in ROLES:
            raise ValueError(f"{name}: role_map maps {theirs!r} to unknown role {ours!r}")

    if not 0 <= cfg.leeway_seconds <= 300:
        raise ValueError(f"{name}: leeway_seconds must be between 0 and 300")
    if not 60 <= cfg.max_token_lifetime_seconds <= 7 * 24 * 3600:
        raise ValueError(f"{name}: max_token_lifetime_seconds must be between 60 and 604800")


def load_trusted_issuers(raw: bytes | str) -> list[TrustedIssuer]:
    """Decode and validate a JSON list of trusted issuers.

    Raises ValueError with a message naming the problem.
    """
    try:
        issuers = msgspec.json.decode(raw, type=list[TrustedIssuer])
    except msgspec.ValidationError as error:
        raise ValueError(f"invalid trusted issuer configuration: {error}") from error
    except msgspec.DecodeError as error:
        raise ValueError(f"trusted issuer configuration is not valid JSON: {error}") from error
    seen: set[str] = set()
    for cfg in issuers:
        if cfg.issuer in seen:
            raise ValueError(f"duplicate trusted issuer {cfg.issuer!r}")
        seen.add(cfg.issuer)
    return issuers
