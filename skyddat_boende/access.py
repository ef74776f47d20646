"""Who may call what: bearer-token authentication, role and scope rules, rate limits.

Every `/api` operation declares its rule with `secured(...)`; the router's `authorize` guard
applies the client address's rate limit, authenticates the caller, applies the caller's rate
limit (skyddat_boende/rate_limits.py) and checks the rule. An operation without a rule is refused
(deny by default). Which *objects* a caller sees is decided in the repositories, always filtered
by the caller's organisation: another organisation's object is simply not found (404), so its
existence is not confirmed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Operation

from skyddat_boende import audit
from skyddat_boende.identity import InvalidToken, Principal, TokenVerifier
from skyddat_boende.identity.principal import HOUSING_STAFF, NATIONAL_FOLLOWUP, SOCIAL_WORKER
from skyddat_boende.openapi_contract import add_guard_responses
from skyddat_boende.problems import Problem

log = logging.getLogger(__name__)

REALM = 'Bearer realm="skyddat-boende"'
# Roles and scopes that only make sense for one kind of organisation: a municipality's social workers,
# national bodies (organisation ids "nat-...") for national figures, audit metadata and the batch, and
# housing providers ("housing-...") for their apartments and the onward offers made on them.
NATIONAL = "nat-"
HOUSING = "housing-"
ROLE_ORGANISATION_PREFIX = {SOCIAL_WORKER: "kommun-", NATIONAL_FOLLOWUP: NATIONAL, HOUSING_STAFF: HOUSING}
SCOPE_ORGANISATION_PREFIX = {
    "statistics:read": NATIONAL, "audit:read": NATIONAL, "batch:run": NATIONAL,
    "apartments:read": HOUSING, "apartments:write": HOUSING, "onward-offers:read": HOUSING,
    "onward-offers:write": HOUSING,
}


class Access(msgspec.Struct, frozen=True):
    """People with any of `roles`, or partner systems (client-credentials tokens) with any of `scopes`."""

    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    any_caller: bool = False

    def allows(self, principal: Principal) -> bool:
        if self.any_caller:
            return True
        org = principal.organisation_id
        if principal.is_machine:
            return any(org.startswith(SCOPE_ORGANISATION_PREFIX.get(s, "")) for s in self.scopes & principal.scopes)
        return any(org.startswith(ROLE_ORGANISATION_PREFIX.get(role, "")) for role in self.roles & principal.roles)

    def describe(self) -> str:
        if self.any_caller:
            return "any authenticated caller"
        parts = []
        if self.roles:
            parts.append("roles: " + ", ".join(sorted(self.roles)))
        if self.scopes:
            parts.append("partner systems with scope: " + " or ".join(sorted(self.scopes)))
        return "; ".join(parts) or "nobody"


def secured(*, roles: Iterable[str] = (), scopes: Iterable[str] = (), any_caller: bool = False) -> dict[str, Any]:
    """Route-decorator arguments for an operation: its rule, and the same rule in the OpenAPI document."""
    rule = Access(frozenset(roles), frozenset(scopes), any_caller)

    @dataclass
    class AccessOperation(Operation):
        x_access: str | None = field(default=rule.describe(), metadata={"alias": "x-access"})

        def __post_init__(self) -> None:
            add_guard_responses(self)

    return {"opt": {"access": rule}, "operation_class": AccessOperation, "security": [{"bearer": []}]}


def actor_of(principal: Principal) -> audit.Actor:
    return audit.Actor(
        issuer=principal.issuer,
        subject=principal.subject,
        organisation=principal.organisation_id,
        role=",".join(sorted(principal.roles)) or None,
        client=principal.client_id,
    )


class AmbiguousCredentials(Problem):
    status, slug, title = 400, "ambiguous-credentials", "More than one Authorization header"


def bearer_token(connection: ASGIConnection) -> str | None:
    """The bearer token, None without one; 400 for several Authorization headers, or several joined by a
    comma on the way (which one a proxy or another framework would pick differs, so none is chosen:
    RFC 6750 §3.1 invalid_request; a bearer token never contains a comma)."""
    headers = connection.headers.getall("authorization", [])
    if len(headers) > 1 or any("," in header for header in headers):
        raise AmbiguousCredentials("Send exactly one Authorization header.",
                                   headers={"WWW-Authenticate": f'{REALM}, error="invalid_request"'})
    header = headers[0] if headers else ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(connection: ASGIConnection) -> Principal:
    token = bearer_token(connection)
    if token is None:
        raise NotAuthorizedException("A bearer access token is required.", headers={"WWW-Authenticate": REALM})
    verifier: TokenVerifier = connection.app.state.verifier
    try:
        return await verifier.verify(token)
    except InvalidToken as exc:
        log.info("token rejected", extra={"reason": exc.reason})
        raise NotAuthorizedException(
            "The access token is not valid.",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        ) from None


async def authorize(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The guard of every `/api` operation: the client address's rate limit before the token is even read
    (so floods of missing or invalid tokens are refused cheaply), then the caller's."""
    host = connection.client.host if connection.client else None
    _refuse_if_waiting(await connection.app.state.rate_limiter.address_wait(host))
    await admit(connection, handler, await authenticate(connection))


def _refuse_if_waiting(wait: int) -> None:
    if wait:
        raise TooManyRequestsException("Too many requests.", headers={"Retry-After": str(wait)})


async def admit(connection: ASGIConnection, handler: BaseRouteHandler, principal: Principal) -> None:
    """Given a verified caller, apply the rate limit and the handler's rule (the API's bearer token and the
    web pages' session token both end here, so both follow the same rules)."""
    connection.scope["user"] = principal
    _refuse_if_waiting(await connection.app.state.rate_limiter.client_wait(principal))
    rule: Access | None = handler.opt.get("access")
    if rule is None or not rule.allows(principal):
        await record_denial(connection, principal, handler_action(handler), "operation", None)
        raise PermissionDeniedException("Your role does not allow this operation.")


def handler_action(handler: BaseRouteHandler) -> str:
    """`api.<handler>`, or `web.<handler>` for a page (its router sets opt `audit_namespace`)."""
    return handler.opt.get("audit_namespace", "api") + "." + handler.handler_name


async def record_denial(
    connection: ASGIConnection, principal: Principal, action: str, object_type: str, object_id: str | None
) -> None:
    """A denied decision is audited on a connection of its own. Only for callers that hold no pooled
    connection yet (the guard runs before the request's own connection is taken): otherwise a burst of
    denials could each wait for a second connection and exhaust the pool."""
    async with connection.app.state.pool.acquire(timeout=10) as conn:
        await audit.record(conn, actor_of(principal), action, object_type, object_id, "denied")
