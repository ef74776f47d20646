"""Housing providers publish apartments and answer onward offers; social workers file onward requests
and, once their household's offer is accepted, read the apartment's address."""

from __future__ import annotations

import uuid
from typing import Literal

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.capacity.schemas import SNAPSHOT_MAX_BODY_BYTES, AddressWrite, AvailabilityResult
from skyddat_boende.conditional import answer_update, required_version, tagged
from skyddat_boende.dependencies import Db
from skyddat_boende.housing import apartments, repository, service
from skyddat_boende.housing.schemas import (
    ApartmentAddress, ApartmentCreate, ApartmentRead, ApartmentSnapshot, ApartmentUpdate, OnwardAccept, OnwardDecline,
    OnwardOfferRead, OnwardRequestCreate, OnwardRequestRead,
)
from skyddat_boende.idempotency import idempotent
from skyddat_boende.identity.principal import HOUSING_STAFF, SOCIAL_WORKER
from skyddat_boende.objects import audited, audited_reads, not_found, shown
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.problems import Conflict, Unprocessable, problem_responses

APARTMENTS_READ = secured(roles=[HOUSING_STAFF], scopes=["apartments:read", "apartments:write"])
APARTMENTS_WRITE = secured(roles=[HOUSING_STAFF], scopes=["apartments:write"])
OFFERS_READ = secured(roles=[HOUSING_STAFF], scopes=["onward-offers:read", "onward-offers:write"])
OFFERS_WRITE = secured(roles=[HOUSING_STAFF], scopes=["onward-offers:write"])
REQUESTS_READ = secured(roles=[SOCIAL_WORKER], scopes=["placements:read", "placements:write"])
REQUESTS_WRITE = secured(roles=[SOCIAL_WORKER], scopes=["placements:write"])
ADDRESS = secured(roles=[SOCIAL_WORKER])
ERRORS = problem_responses(400, 401, 403, 404, 429)
CHANGE_ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 429)
MoveAddressPurpose = Literal["arrange_move", "contact_provider", "follow_up", "emergency"]


def _organisation(request: Request) -> str:
    return request.user.organisation_id


class ApartmentController(Controller):
    path = "/apartments"
    tags = ["onward housing"]

    @get("/", summary="Your housing provider's apartments", responses=ERRORS, **APARTMENTS_READ)
    async def list_apartments(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[ApartmentRead]:
        return await apartments.list_for(db, _organisation(request), limit, offset)

    @post("/", summary="Publish an apartment (its address is write-only)", responses=CHANGE_ERRORS,
          **APARTMENTS_WRITE)
    async def create_apartment(
        self, db: Db, request: Request, data: JSONBody[ApartmentCreate]
    ) -> Response[ApartmentRead]:
        async def create() -> Response[ApartmentRead]:
            apartment = await apartments.create(db, _organisation(request), data)
            audited(request, "apartment", apartment.id)
            return tagged(apartment, status_code=201, location=f"/api/apartments/{apartment.id}")

        return await idempotent(db, request, create)

    @get("/{apartment_id:uuid}", summary="One of your apartments, with its ETag", responses=ERRORS,
         **APARTMENTS_READ)
    async def get_apartment(self, db: Db, request: Request, apartment_id: FromPath[uuid.UUID]) -> Response[ApartmentRead]:
        apartment = await apartments.get(db, _organisation(request), apartment_id)
        if apartment is None:
            raise await not_found(request, "apartment", apartment_id)
        return tagged(apartment)

    @patch("/{apartment_id:uuid}", summary="Change an apartment or its availability (needs If-Match)",
           description="Setting status 'unavailable' while an onward offer holds the apartment is 409: "
                       "decline the offer first. A let apartment cannot be changed (409).",
           responses=CHANGE_ERRORS, **APARTMENTS_WRITE)
    async def update_apartment(
        self, db: Db, request: Request, apartment_id: FromPath[uuid.UUID], data: JSONBody[ApartmentUpdate]
    ) -> Response[ApartmentRead]:
        version = required_version(request)
        current = await apartments.get(db, _organisation(request), apartment_id)
        if current is not None and current.offered and data.status == "unavailable":
            raise Conflict("An onward offer holds the apartment; answer the offer first.")
        outcome = await apartments.update(db, _organisation(request), apartment_id, version, data)
        return await _after_update(db, request, apartment_id, outcome)

    @put("/{apartment_id:uuid}/address", summary="Replace the apartment's address and contact (needs If-Match)",
         description="Write-only: shown only to the municipality whose household accepted it.",
         responses=CHANGE_ERRORS, **APARTMENTS_WRITE)
    async def set_apartment_address(
        self, db: Db, request: Request, apartment_id: FromPath[uuid.UUID], data: JSONBody[AddressWrite]
    ) -> Response[ApartmentRead]:
        version = required_version(request)
        outcome = await apartments.update(db, _organisation(request), apartment_id, version, ApartmentUpdate())
        if outcome == "updated":
            await apartments.set_address(db, apartment_id, data)
        return await _after_update(db, request, apartment_id, outcome)


class ApartmentAvailabilityController(Controller):
    path = "/apartment-availability"
    tags = ["onward housing"]

    @put("/", summary="Replace all of your provider's apartment availability at once (partner sync)",
         description="Listed apartments get the given status; every other apartment of yours that is not let "
                     "becomes unavailable. All or nothing: an unknown or let apartment, or one held by an open "
                     "onward offer that would become unavailable, changes nothing (422).",
         request_max_body_size=SNAPSHOT_MAX_BODY_BYTES, responses=CHANGE_ERRORS, **APARTMENTS_WRITE)
    async def replace_apartment_availability(
        self, db: Db, request: Request, data: JSONBody[ApartmentSnapshot]
    ) -> AvailabilityResult:
        try:
            updated, unavailable = await apartments.replace_availability(db, _organisation(request), data)
        except ValueError as exc:
            raise Unprocessable(str(exc) + "; nothing was changed.") from None
        audited(request, "housing_provider", _organisation(request))
        # every listed apartment gets a new version (no no-op detection as for units), so all of them changed
        return AvailabilityResult(updated, unavailable, changed=updated + unavailable)


async def _after_update(db: Db, request: Request, apartment_id: uuid.UUID, outcome: str) -> Response[ApartmentRead]:
    if outcome == "let":
        raise Conflict("The apartment is let; it can no longer be changed.")
    return await answer_update(request, "apartment", apartment_id, outcome,
                               lambda: apartments.get(db, _organisation(request), apartment_id))


class OnwardRequestController(Controller):
    path = "/onward-requests"
    tags = ["onward housing"]

    @post("/", summary="Request a home for a household; the best fitting apartment is offered at once",
          description="Linked to the household's shelter placement (placement_id), or standalone. The response "
                      "says which apartment was offered (municipality, rooms, rent only) or why none fits, "
                      "in numbers per rule.",
          responses=problem_responses(400, 401, 403, 409, 422, 429), **REQUESTS_WRITE)
    async def create_onward_request(
        self, db: Db, request: Request, data: JSONBody[OnwardRequestCreate]
    ) -> Response[OnwardRequestRead]:
        await service.check(db, request, data)

        async def create() -> Response[OnwardRequestRead]:
            created = await service.create(db, request, data)
            return Response(created, status_code=201, headers={"Location": f"/api/onward-requests/{created.id}"})

        return await idempotent(db, request, create)

    @get("/", summary="Your municipality's onward requests", responses=ERRORS, **REQUESTS_READ)
    async def list_onward_requests(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[OnwardRequestRead]:
        found = await repository.list_requests(db, _organisation(request), limit, offset)
        audited_reads(request, "onward_request", found)
        return found

    @get("/{onward_request_id:uuid}", summary="One onward request, its offers and their history",
         responses=ERRORS, **REQUESTS_READ)
    async def get_onward_request(
        self, db: Db, request: Request, onward_request_id: FromPath[uuid.UUID]
    ) -> OnwardRequestRead:
        return await service.read(db, request, onward_request_id)

    @post("/{onward_request_id:uuid}/withdraw", status_code=200, summary="Withdraw the onward request and any open offer",
          responses=problem_responses(401, 403, 404, 409, 429), **REQUESTS_WRITE)
    async def withdraw_onward_request(
        self, db: Db, request: Request, onward_request_id: FromPath[uuid.UUID]
    ) -> OnwardRequestRead:
        return await service.withdraw(db, request, onward_request_id)

    @get("/{onward_request_id:uuid}/address", summary="The accepted apartment's address, for the requesting municipality",
         description="Only the social workers of the municipality whose household accepted the apartment, and only "
                     "once it is accepted. Say why (purpose); every read is audited with it.",
         responses=ERRORS, **ADDRESS)
    async def get_apartment_address(
        self, db: Db, request: Request, onward_request_id: FromPath[uuid.UUID], purpose: FromQuery[MoveAddressPurpose]
    ) -> ApartmentAddress:
        offer_id = await db.fetchval(
            "select id from onward_offer where onward_request_id = $1 and status = 'accepted'", onward_request_id
        )
        if offer_id is None:
            raise await not_found(request, "apartment_address", onward_request_id)
        return await service.read_address(db, request, offer_id, purpose)


class OnwardOfferController(Controller):
    path = "/onward-offers"
    tags = ["onward housing"]

    @get("/", summary="Onward offers made on your apartments", responses=ERRORS, **OFFERS_READ)
    async def list_onward_offers(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[OnwardOfferRead]:
        found = await repository.provider_offers(db, _organisation(request), limit, offset)
        audited_reads(request, "onward_offer", found)
        return found

    @get("/{onward_offer_id:uuid}", summary="One onward offer and the household it is for", responses=ERRORS,
         **OFFERS_READ)
    async def get_onward_offer(self, db: Db, request: Request, onward_offer_id: FromPath[uuid.UUID]) -> OnwardOfferRead:
        found = await repository.provider_offer(db, _organisation(request), onward_offer_id)
        return await shown(request, "onward_offer", onward_offer_id, found)

    @post("/{onward_offer_id:uuid}/accept", status_code=200,
          summary="Accept with the signed-lease and move-in dates; the address is revealed to the municipality",
          responses=problem_responses(400, 401, 403, 404, 409, 422, 429), **OFFERS_WRITE)
    async def accept_onward_offer(
        self, db: Db, request: Request, onward_offer_id: FromPath[uuid.UUID], data: JSONBody[OnwardAccept]
    ) -> OnwardOfferRead:
        return await service.accept(db, request, onward_offer_id, data)

    @post("/{onward_offer_id:uuid}/decline", status_code=200,
          summary="Decline with a reason; the household is offered the next apartment",
          responses=problem_responses(400, 401, 403, 404, 409, 422, 429), **OFFERS_WRITE)
    async def decline_onward_offer(
        self, db: Db, request: Request, onward_offer_id: FromPath[uuid.UUID], data: JSONBody[OnwardDecline]
    ) -> OnwardOfferRead:
        return await service.decline(db, request, onward_offer_id, data.reason)

    @post("/{onward_offer_id:uuid}/move-in", status_code=200,
          summary="The household has moved in: its shelter placement ends and the shelter's beds are free",
          responses=problem_responses(401, 403, 404, 409, 429), **OFFERS_WRITE)
    async def move_in(self, db: Db, request: Request, onward_offer_id: FromPath[uuid.UUID]) -> OnwardOfferRead:
        return await service.move_in(db, request, onward_offer_id)
