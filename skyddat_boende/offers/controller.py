"""Shelter staff answer the offers made to their units: accept (a placement) or decline with a reason
(the next candidate is offered at once)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from skyddat_boende import events
from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import SHELTER_STAFF
from skyddat_boende.matchmaking import service
from skyddat_boende.objects import audited, not_found
from skyddat_boende.offers import repository
from skyddat_boende.offers.repository import Answer
from skyddat_boende.offers.schemas import Decline, OfferRead, OfferStatus
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.problems import Problem, problem_responses

READ = secured(roles=[SHELTER_STAFF], scopes=["offers:read", "offers:write"])
WRITE = secured(roles=[SHELTER_STAFF], scopes=["offers:write"])
ANSWER_ERRORS = problem_responses(400, 401, 403, 404, 409, 429)


class OfferNotOpen(Problem):
    status, slug, title = 409, "offer-not-open", "The offer is no longer open"


class OfferExpired(Problem):
    status, slug, title = 409, "offer-expired", "The offer has expired"


class PlaceTaken(Problem):
    status, slug, title = 409, "place-taken", "The place cannot take this household now"


REFUSALS: dict[Answer, tuple[type[Problem], str]] = {
    Answer.ANSWERED: (OfferNotOpen, "The offer was already answered, withdrawn or expired."),
    Answer.EXPIRED: (OfferExpired, "The offer's hold ran out; the request moves on to the next place."),
    Answer.INTAKE_FULL: (PlaceTaken, "The shelter has reached its daily intake limit."),
    Answer.UNIT_FULL: (PlaceTaken, "The unit has no room left for this household."),
}


def _operator(request: Request) -> str:
    return request.user.organisation_id


class OfferController(Controller):
    path = "/offers"
    tags = ["offers"]

    @get("/", summary="Offers made to your operator's units", responses=problem_responses(400, 401, 403, 429),
         **READ)
    async def list_offers(
        self, db: Db, request: Request, status: OfferStatus | None = None, limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> list[OfferRead]:
        return await repository.list_for(db, _operator(request), status, limit, offset)

    @get("/{offer_id:uuid}", summary="One offer and the household it is for",
         responses=problem_responses(401, 403, 404, 429), **READ)
    async def get_offer(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> OfferRead:
        offer = await repository.get(db, _operator(request), offer_id)
        if offer is None:
            raise await not_found(request, "offer", offer_id)
        return offer

    @post("/{offer_id:uuid}/accept", status_code=200, summary="Accept: the household is placed in the unit",
          responses=ANSWER_ERRORS, **WRITE)
    async def accept_offer(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> OfferRead:
        row, answer, placement_id = await repository.accept(db, _operator(request), offer_id)
        await _refuse_unless_done(request, offer_id, answer)
        await audited(db, request, "offer", offer_id)
        await audited(db, request, "placement", placement_id)
        await events.publish(db, row["municipality_id"], "offer.accepted", offer_id=offer_id,
                             request_id=row["request_id"], placement_id=placement_id)
        return await repository.get(db, _operator(request), offer_id)

    @post("/{offer_id:uuid}/decline", status_code=200, summary="Decline with a reason; the next place is offered",
          responses=ANSWER_ERRORS, **WRITE)
    async def decline_offer(
        self, db: Db, request: Request, offer_id: FromPath[uuid.UUID], data: JSONBody[Decline]
    ) -> OfferRead:
        row, answer = await repository.decline(db, _operator(request), offer_id, data.reason)
        await _refuse_unless_done(request, offer_id, answer)
        await audited(db, request, "offer", offer_id)
        await events.publish(db, row["municipality_id"], "offer.declined", offer_id=offer_id,
                             request_id=row["request_id"])
        await service.offer_next(db, row["request_id"], request.app.state.settings, request.app.state.places)
        return await repository.get(db, _operator(request), offer_id)


async def _refuse_unless_done(request: Request, offer_id: uuid.UUID, answer: Answer) -> None:
    if answer is Answer.MISSING:
        raise await not_found(request, "offer", offer_id)
    if answer is not Answer.DONE:
        problem, detail = REFUSALS[answer]
        raise problem(detail)
