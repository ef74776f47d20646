"""Answering an offer, shared by the API and the shelter staff's pages: accept (a placement) or decline
with a reason (the next candidate is offered at once). Audited and published in the request's transaction."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Request

from skyddat_boende import workflow
from skyddat_boende.matchmaking import service as matchmaking
from skyddat_boende.objects import audited, not_found
from skyddat_boende.offers import repository
from skyddat_boende.offers.schemas import OfferRead
from skyddat_boende.problems import Problem
from skyddat_boende.retries import retrying
from skyddat_boende.workflow import Answer


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


async def accept(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID) -> OfferRead:
    """Accept for the caller's operator; raises NotFound or one of the refusals above."""
    operator = request.user.organisation_id
    _, answer, placement_id = await retrying(db, workflow.accept, operator, offer_id)
    await _refuse_unless_done(request, offer_id, answer)
    audited(request, "offer", offer_id)
    audited(request, "placement", placement_id)
    return await repository.get(db, operator, offer_id)


async def decline(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID, reason: str) -> OfferRead:
    """Decline for the caller's operator, then offer the request its next candidate."""
    operator = request.user.organisation_id
    _, answer = await retrying(db, _decline_and_offer_next, request, operator, offer_id, reason)
    await _refuse_unless_done(request, offer_id, answer)
    audited(request, "offer", offer_id)
    return await repository.get(db, operator, offer_id)


async def _decline_and_offer_next(db: asyncpg.Connection, request: Request, operator: str, offer_id, reason: str):
    row, answer = await workflow.decline(db, operator, offer_id, reason)
    if answer is Answer.DONE:
        await matchmaking.offer_next(db, row["request_id"], request.app.state.settings, request.app.state.places)
    return row, answer


async def _refuse_unless_done(request: Request, offer_id: uuid.UUID, answer: Answer) -> None:
    if answer is Answer.MISSING:
        raise await not_found(request, "offer", offer_id)
    if answer is not Answer.DONE:
        problem, detail = REFUSALS[answer]
        raise problem(detail)
