"""Placements: the placing municipality follows them and, only now, reads the address; shelter staff
record check-in, planned end and move-out (which frees the unit)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.conditional import PreconditionFailed, required_version, tagged
from skyddat_boende.dependencies import Db
from skyddat_boende.identity import Principal
from skyddat_boende.identity.principal import SHELTER_STAFF, SOCIAL_WORKER
from skyddat_boende.objects import audited, audited_reads, not_found, shown
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.placements import repository, service
from skyddat_boende.placements.schemas import AddressPurpose, CheckIn, PlacementRead, PlannedEnd, ShelterAddress
from skyddat_boende.problems import problem_responses

READ = secured(roles=[SOCIAL_WORKER, SHELTER_STAFF], scopes=["placements:read", "placements:write", "offers:write"])
STAFF = secured(roles=[SHELTER_STAFF], scopes=["offers:write"])
ADDRESS = secured(roles=[SOCIAL_WORKER])
ERRORS = problem_responses(400, 401, 403, 404, 409, 429)


def _sides(request: Request) -> tuple[str, bool, bool]:
    """(organisation, sees as placing municipality, sees as operator)."""
    p: Principal = request.user
    if p.is_machine:
        placer = bool({"placements:read", "placements:write"} & p.scopes)
        return p.organisation_id, placer, "offers:write" in p.scopes
    return p.organisation_id, SOCIAL_WORKER in p.roles, SHELTER_STAFF in p.roles


class PlacementController(Controller):
    path = "/placements"
    tags = ["placements"]

    @get("/", summary="Placements of your municipality's requests, or in your operator's units",
         responses=problem_responses(400, 401, 403, 429), **READ)
    async def list_placements(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[PlacementRead]:
        found = await repository.list_for(db, *_sides(request), limit, offset)
        audited_reads(request, "placement", found)
        return found

    @get("/{placement_id:uuid}", summary="One placement, with its ETag", responses=ERRORS, **READ)
    async def get_placement(
        self, db: Db, request: Request, placement_id: FromPath[uuid.UUID]
    ) -> Response[PlacementRead]:
        placement = await repository.get(db, *_sides(request), placement_id)
        return tagged(await shown(request, "placement", placement_id, placement))

    @get("/{placement_id:uuid}/address", summary="The shelter's address and contact, for the placing municipality",
         description="Only the social workers of the municipality whose request was placed, and only while the "
                     "placement is active. Say why (purpose); every read is audited with it.",
         responses=ERRORS, **ADDRESS)
    async def get_address(
        self, db: Db, request: Request, placement_id: FromPath[uuid.UUID], purpose: FromQuery[AddressPurpose]
    ) -> ShelterAddress:
        return await service.read_address(db, request, placement_id, purpose)

    @post("/{placement_id:uuid}/check-in", status_code=200, summary="The household has arrived",
          responses=ERRORS, **STAFF)
    async def check_in(
        self, db: Db, request: Request, placement_id: FromPath[uuid.UUID], data: JSONBody[CheckIn]
    ) -> Response[PlacementRead]:
        return await _transition(db, request, placement_id, "checked_in", data.planned_end_date)

    @post("/{placement_id:uuid}/move-out", status_code=200, summary="The household has left; the unit is freed",
          responses=ERRORS, **STAFF)
    async def move_out(self, db: Db, request: Request, placement_id: FromPath[uuid.UUID]) -> Response[PlacementRead]:
        return await _transition(db, request, placement_id, "moved_out", None)

    @patch("/{placement_id:uuid}", summary="Set the planned end date (needs If-Match)",
           responses=problem_responses(400, 401, 403, 404, 412, 428, 429), **STAFF)
    async def set_planned_end(
        self, db: Db, request: Request, placement_id: FromPath[uuid.UUID], data: JSONBody[PlannedEnd]
    ) -> Response[PlacementRead]:
        version = required_version(request)
        outcome = await repository.set_planned_end(db, request.user.organisation_id, placement_id, version,
                                                   data.planned_end_date)
        if outcome == "missing":
            raise await not_found(request, "placement", placement_id)
        if outcome == "stale":
            raise PreconditionFailed("The placement changed since you read it, or has ended.")
        audited(request, "placement", placement_id)
        return tagged(await repository.get(db, request.user.organisation_id, False, True, placement_id))


async def _transition(db: Db, request: Request, placement_id: uuid.UUID, to: str, planned_end) -> Response:
    return tagged(await service.transition(db, request, placement_id, to, planned_end))
