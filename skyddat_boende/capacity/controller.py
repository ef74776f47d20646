"""Shelter staff and their operators' systems keep shelters, units and availability current."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.capacity import repository
from skyddat_boende.capacity.schemas import (
    AddressWrite, AvailabilityResult, AvailabilitySnapshot, Confirmation, ShelterCreate, ShelterRead, ShelterUpdate,
    MAX_SNAPSHOT_UNITS, SNAPSHOT_MAX_BODY_BYTES, UnitCreate, UnitRead, UnitUpdate,
)
from skyddat_boende.conditional import PreconditionFailed, answer_update, required_version, tagged
from skyddat_boende.dependencies import Db
from skyddat_boende.idempotency import idempotent
from skyddat_boende.identity.principal import SHELTER_STAFF
from skyddat_boende.objects import audited, not_found
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.problems import Unprocessable, problem_responses

READ = secured(roles=[SHELTER_STAFF], scopes=["capacity:read", "capacity:write"])
WRITE = secured(roles=[SHELTER_STAFF], scopes=["capacity:write"])
ERRORS = problem_responses(400, 401, 403, 404, 429)
CHANGE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 429)


def _operator(request: Request) -> str:
    return request.user.organisation_id


def _stale_hours(request: Request) -> int:
    return request.app.state.settings.stale_after_hours


class ShelterController(Controller):
    path = "/shelters"
    tags = ["capacity"]

    @get("/", summary="Your operator's shelters", responses=ERRORS, **READ)
    async def list_shelters(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[ShelterRead]:
        return await repository.list_shelters(db, _operator(request), limit, offset)

    @post("/", summary="Publish a new shelter (its address is write-only)", responses=CHANGE_ERRORS, **WRITE)
    async def create_shelter(self, db: Db, request: Request, data: JSONBody[ShelterCreate]) -> Response[ShelterRead]:
        async def create() -> Response[ShelterRead]:
            shelter = await repository.create_shelter(db, _operator(request), data)
            audited(request, "shelter", shelter.id)
            return tagged(shelter, status_code=201, location=f"/api/shelters/{shelter.id}")

        return await idempotent(db, request, create)

    @get("/{shelter_id:uuid}", summary="One of your shelters, with its ETag", responses=ERRORS, **READ)
    async def get_shelter(self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID]) -> Response[ShelterRead]:
        shelter = await repository.get_shelter(db, _operator(request), shelter_id)
        if shelter is None:
            raise await not_found(request, "shelter", shelter_id)
        return tagged(shelter)

    @patch("/{shelter_id:uuid}", summary="Change a shelter (needs If-Match)", responses=CHANGE_ERRORS, **WRITE)
    async def update_shelter(
        self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID], data: JSONBody[ShelterUpdate]
    ) -> Response[ShelterRead]:
        version = required_version(request)
        outcome = await repository.update_shelter(db, _operator(request), shelter_id, version, data)
        return await _after_update(db, request, "shelter", shelter_id, outcome)

    @put("/{shelter_id:uuid}/address", summary="Replace the shelter's address and contact (needs If-Match)",
         description="Write-only: the address is shown only to the placing municipality of an accepted placement.",
         responses=CHANGE_ERRORS, **WRITE)
    async def set_address(
        self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID], data: JSONBody[AddressWrite]
    ) -> Response[ShelterRead]:
        version = required_version(request)
        outcome = await repository.update_shelter(db, _operator(request), shelter_id, version, ShelterUpdate())
        if outcome == "updated":
            await repository.set_address(db, shelter_id, data)
        return await _after_update(db, request, "shelter", shelter_id, outcome)

    @post("/{shelter_id:uuid}/confirm", status_code=200, summary="Confirm 'no change today' for all its units",
          responses=ERRORS, **WRITE)
    async def confirm_shelter(self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID]) -> Confirmation:
        confirmed = await repository.confirm_units(db, _operator(request), shelter_id=shelter_id)
        if confirmed is None:
            raise await not_found(request, "shelter", shelter_id)
        return Confirmation(*confirmed)

    @get("/{shelter_id:uuid}/units", summary="The shelter's units and their availability", responses=ERRORS, **READ)
    async def list_units(self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID]) -> list[UnitRead]:
        units = await repository.list_units(db, _operator(request), shelter_id, _stale_hours(request))
        if units is None:
            raise await not_found(request, "shelter", shelter_id)
        return units

    @post("/{shelter_id:uuid}/units", summary="Add a unit (a room or flat)", responses=CHANGE_ERRORS, **WRITE)
    async def create_unit(
        self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID], data: JSONBody[UnitCreate]
    ) -> Response[UnitRead]:
        async def create() -> Response[UnitRead]:
            unit = await repository.create_unit(db, _operator(request), shelter_id, data, _stale_hours(request))
            if unit is None:
                raise await not_found(request, "shelter", shelter_id)
            audited(request, "unit", unit.id)
            return tagged(unit, status_code=201, location=f"/api/units/{unit.id}")

        return await idempotent(db, request, create)


class UnitController(Controller):
    path = "/units"
    tags = ["capacity"]

    @get("/{unit_id:uuid}", summary="One unit, with its ETag", responses=ERRORS, **READ)
    async def get_unit(self, db: Db, request: Request, unit_id: FromPath[uuid.UUID]) -> Response[UnitRead]:
        unit = await repository.get_unit(db, _operator(request), unit_id, _stale_hours(request))
        if unit is None:
            raise await not_found(request, "unit", unit_id)
        return tagged(unit)

    @patch("/{unit_id:uuid}", summary="Change a unit or its availability (needs If-Match)",
           responses=CHANGE_ERRORS, **WRITE)
    async def update_unit(self, db: Db, request: Request, unit_id: FromPath[uuid.UUID], data: JSONBody[UnitUpdate]) -> Response[UnitRead]:
        version = required_version(request)
        outcome = await repository.update_unit(db, _operator(request), unit_id, version, data)
        return await _after_update(db, request, "unit", unit_id, outcome)

    @post("/{unit_id:uuid}/confirm", status_code=200, summary="Confirm 'no change' for one unit",
          responses=ERRORS, **WRITE)
    async def confirm_unit(self, db: Db, request: Request, unit_id: FromPath[uuid.UUID]) -> Confirmation:
        confirmed = await repository.confirm_units(db, _operator(request), unit_id=unit_id)
        if confirmed is None:
            raise await not_found(request, "unit", unit_id)
        return Confirmation(*confirmed)


class AvailabilityController(Controller):
    path = "/availability"
    tags = ["capacity"]

    @get("/", summary="All of your operator's availability, with its collection ETag", responses=ERRORS, **READ)
    async def read_availability(self, db: Db, request: Request) -> Response[AvailabilitySnapshot]:
        snapshot, tag = await repository.availability(db, _operator(request))
        return Response(snapshot, headers={"ETag": tag})

    @put("/", summary="Replace all of your operator's availability at once (partner sync)",
         description="Listed units get the given status; every other unit of your operator is set out of service. "
                     "All or nothing: one unknown unit id changes nothing. Every unit is confirmed as of now; only "
                     "units whose state changes get a new version (and a `unit.changed` webhook), so an identical "
                     "sync changes no ETag. Send If-Match with the ETag of `GET /api/availability` (or of your "
                     "last sync) so that another system's change since then is not overwritten unknowingly (412). "
                     f"The body may be up to {SNAPSHOT_MAX_BODY_BYTES // 1024} KiB (413 above), enough for "
                     f"{MAX_SNAPSHOT_UNITS} units.",
         request_max_body_size=SNAPSHOT_MAX_BODY_BYTES, responses=CHANGE_ERRORS, **WRITE)
    async def replace_availability(
        self, db: Db, request: Request, data: JSONBody[AvailabilitySnapshot]
    ) -> Response[AvailabilityResult]:
        try:
            result = await repository.replace_availability(db, _operator(request), data, _if_match(request))
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        except repository.AvailabilityChanged:
            raise PreconditionFailed("Your operator's availability changed since that ETag; read it again "
                                     "(GET /api/availability) and retry.") from None
        if result is None:
            raise Unprocessable("The snapshot lists a unit that is not one of your operator's; nothing was changed.")
        audited(request, "operator", _operator(request), purpose=None if result.changed else "confirmed")
        return Response(AvailabilityResult(result.listed, result.set_out_of_service, result.changed),
                        headers={"ETag": result.tag})


def _if_match(request: Request) -> str | None:
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip()
    return value[2:] if value.startswith("W/") else value


async def _after_update(db: Db, request: Request, object_type: str, object_id: uuid.UUID, outcome: str) -> Response:
    async def current() -> ShelterRead | UnitRead:
        if object_type == "shelter":
            return await repository.get_shelter(db, _operator(request), object_id)
        return await repository.get_unit(db, _operator(request), object_id, _stale_hours(request))

    return await answer_update(request, object_type, object_id, outcome, current)
