"""Who is calling: the result of a verified access token.

A `Principal` is built only by `TokenVerifier.verify`; everything in it has
been checked against the trusted issuer's configuration. It carries no personal
data beyond the issuer's opaque subject identifier.
"""

from __future__ import annotations

from typing import Final

import msgspec

SOCIAL_WORKER: Final = "social_worker"
SHELTER_STAFF: Final = "shelter_staff"
ORG_ADMIN: Final = "org_admin"
NATIONAL_FOLLOWUP: Final = "national_followup"
HOUSING_STAFF: Final = "housing_staff"

#: Every role the service knows. Roles in a token outside this set are dropped.
ROLES: Final[frozenset[str]] = frozenset({SOCIAL_WORKER, SHELTER_STAFF, ORG_ADMIN, NATIONAL_FOLLOWUP, HOUSING_STAFF})

#: Roles held by people (as opposed to partner systems).
HUMAN_ROLES: Final[frozenset[str]] = ROLES


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller.

    `is_machine` is true for a client-credentials token of a partner system:
    the subject is the client itself (``sub == client_id``) or the token holds
    no human role. Authorization for machines must go by `scopes`, not `roles`.
    """

    issuer: str
    subject: str
    client_id: str
    organisation_id: str
    roles: frozenset[str]
    scopes: frozenset[str]
    is_machine: bool
    #: The token's ``jti``, if it had one (for audit correlation).
    token_id: str | None = None
    #: The token's ``exp`` as seconds since the epoch.
    expires_at: float = 0.0

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
