"""What the service knows about the caller: their organisation, roles and scopes."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get

from skyddat_boende.access import secured
from skyddat_boende.identity import Principal


class Caller(msgspec.Struct, frozen=True):
    issuer: str
    subject: str
    client_id: str
    organisation_id: str
    roles: list[str]
    scopes: list[str]
    is_machine: bool


class CallerController(Controller):
    tags = ["identity"]

    @get("/me", summary="The authenticated caller as the service sees them", **secured(any_caller=True))
    async def whoami(self, request: Request) -> Caller:
        p: Principal = request.user
        return Caller(p.issuer, p.subject, p.client_id, p.organisation_id, sorted(p.roles), sorted(p.scopes), p.is_machine)
