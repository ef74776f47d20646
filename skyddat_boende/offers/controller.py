"""Shelter staff answer the offers made to their units: accept (a placement) or decline with a reason
(the next candidate is offered at once)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import SHELTER_STAFF
from skyddat_boende.objects import audited_reads, shown
from skyddat_boende.offers import repository, service
from skyddat_boende.offers.schemas import Decline, OfferRead, OfferStatus
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.problems import problem_responses

READ = secured(roles=[SHELTER_STAFF], scopes=["offers:read", "offers:write"])
WRITE = secured(roles=[SHELTER_STAFF], scopes=["offers:write"])
ANSWER_ERRORS = problem_responses(400, 401, 403, 404, 409, 429, 503)


def _operator(request: Request) -> str:
    return request.user.organisation_id


class OfferController(Controller):
    path = "/offers"
    tags = ["offers"]

    @get("/", summary="Offers made to your operator's units", responses=problem_responses(400, 401, 403, 429),
         **READ)
    async def list_offers(
        self, db: Db, request: Request, status: FromQuery[OfferStatus | None] = None, limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> list[OfferRead]:
        found = await repository.list_for(db, _operator(request), status, limit, offset)
        audited_reads(request, "offer", found)
        return found

    @get("/{offer_id:uuid}", summary="One offer and the household it is for",
         responses=problem_responses(401, 403, 404, 429), **READ)
    async def get_offer(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> OfferRead:
        return await shown(request, "offer", offer_id, await repository.get(db, _operator(request), offer_id))

    @post("/{offer_id:uuid}/accept", status_code=200, summary="Accept: the household is placed in the unit",
          description="Idempotent: accepting an offer your operator already accepted answers the same placement. "
                      "503 with Retry-After when conflicting changes or the database keep it from finishing.",
          responses=ANSWER_ERRORS, **WRITE)
    async def accept_offer(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> OfferRead:
        return await service.accept(db, request, offer_id)

    @post("/{offer_id:uuid}/decline", status_code=200, summary="Decline with a reason; the next place is offered",
          responses=ANSWER_ERRORS, **WRITE)
    async def decline_offer(
        self, db: Db, request: Request, offer_id: FromPath[uuid.UUID], data: JSONBody[Decline]
    ) -> OfferRead:
        return await service.decline(db, request, offer_id, data.reason)
