"""Onward housing steps shared by the API and the pages: check and file an onward request (offered an
apartment at once), answer an onward offer, record the move-in, read the address. Each is audited in
the request's transaction; a denied lookup is audited too."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
from litestar import Request

from matching.onward import ONWARD_RULES_BY_NAME, impossible
from matching.rules import RuleContext
from skyddat_boende.housing import moves, repository
from skyddat_boende.housing.schemas import (
    ApartmentAddress, OnwardAccept, OnwardOfferRead, OnwardRequestCreate, OnwardRequestRead,
)
from skyddat_boende.objects import audited, changed, not_found, shown
from skyddat_boende.offers.service import REFUSALS
from skyddat_boende.placement_requests import consistency
from skyddat_boende.placement_requests.schemas import RequestCreate
from skyddat_boende.problems import Conflict, Problem
from skyddat_boende.retries import retrying
from skyddat_boende.workflow import Answer


class MoveInInThePast(Problem):
    status, slug, title = 422, "move-in-in-the-past", "The move-in date is in the past"


class PlacementNotLinkable(Problem):
    status, slug, title = 422, "placement-not-linkable", "Not an active placement of your municipality"


class NoApartmentCanFit(Problem):
    """`rule` says which: 'rooms' (the household is too large for every apartment in the allowed area)
    or 'rent' (the ceiling is below every rent there)."""

    status, slug, title = 422, "no-apartment-can-fit", "No apartment in the allowed area can ever fit"


class BadLeaseDates(Problem):
    status, slug, title = 422, "bad-lease-dates", "The lease and move-in dates do not fit"


async def check(db: asyncpg.Connection, request: Request, data: OnwardRequestCreate) -> None:
    """Raise a specific 422 before anything is stored."""
    today = repository.today()
    if data.earliest_move_in < today:
        raise MoveInInThePast("earliest_move_in is before today.")
    if data.earliest_move_in > today + dt.timedelta(days=consistency.MAX_LEAD_DAYS):
        raise consistency.ContradictoryRequest(f"earliest_move_in is more than {consistency.MAX_LEAD_DAYS} days "
                                               "ahead.", rule="start_too_far_ahead", days=consistency.MAX_LEAD_DAYS)
    await consistency.check(db, _as_placement_request(data), today)
    if data.placement_id is not None and not await db.fetchval(
        """select 1 from placement p join placement_request r on r.id = p.request_id
            where p.id = $1 and r.municipality_id = $2 and p.status in ('accepted', 'checked_in')""",
        data.placement_id, request.user.organisation_id,
    ):
        raise PlacementNotLinkable("placement_id is not an active placement of your municipality's requests.")
    draft = repository.engine_request(_draft_row(data), request.app.state.places)
    rule = impossible(draft, await repository.all_apartments(db, request.app.state.places), RuleContext(today=today))
    if rule is not None:
        raise NoApartmentCanFit(f"Every published apartment in the allowed area is "
                                f"{ONWARD_RULES_BY_NAME[rule].excluded_text}.", rule=rule)


def _as_placement_request(data: OnwardRequestCreate) -> RequestCreate:
    """The placement request's own consistency rules (known codes, distance within Sweden, ...)."""
    return RequestCreate(
        case_reference=data.case_reference, urgency=data.urgency, security_level_needed=1,
        protected_data_level=data.protected_data_level, adults=data.adults, latest_start_date=data.earliest_move_in,
        children=data.children, needs=data.needs, excluded_municipalities=data.excluded_municipalities,
        excluded_counties=data.excluded_counties, threat_municipalities=data.threat_municipalities,
        min_distance_km=data.min_distance_km, preferred_counties=data.preferred_counties,
    )


def _draft_row(data: OnwardRequestCreate) -> dict:
    return {
        "id": uuid.UUID(int=0), "adults": [{"gender": a.gender, "age": a.age} for a in data.adults],
        "children": [{"gender": c.gender, "age": c.age} for c in data.children], "needs": data.needs,
        "protected_data_level": data.protected_data_level, "waiting_since": dt.datetime.now(),
        "urgency": data.urgency, "excluded_municipalities": data.excluded_municipalities,
        "excluded_counties": data.excluded_counties, "threat_municipalities": data.threat_municipalities,
        "min_distance_km": data.min_distance_km, "preferred_counties": data.preferred_counties,
        "max_rent_sek": data.max_rent_sek, "earliest_move_in": data.earliest_move_in,
    }


async def create(db: asyncpg.Connection, request: Request, data: OnwardRequestCreate) -> OnwardRequestRead:
    municipality = request.user.organisation_id
    try:
        async with db.transaction():
            request_id = await repository.insert_request(db, municipality, data)
    except asyncpg.UniqueViolationError as exc:
        what = "placement" if exc.constraint_name == "onward_request_one_per_placement" else "case reference"
        raise Conflict(f"Your municipality already has an onward request for this {what}.") from None
    audited(request, "onward_request", request_id)
    state = request.app.state
    await retrying(db, moves.offer_next, request_id, state.settings, state.places)
    return await repository.get_request(db, municipality, request_id)


async def read(db: asyncpg.Connection, request: Request, request_id: uuid.UUID) -> OnwardRequestRead:
    found = await repository.get_request(db, request.user.organisation_id, request_id)
    return await shown(request, "onward_request", request_id, found)


async def withdraw(db: asyncpg.Connection, request: Request, request_id: uuid.UUID) -> OnwardRequestRead:
    """Withdraw the onward request and its open offer; Conflict once accepted, moved in or withdrawn."""
    municipality = request.user.organisation_id
    withdrawn = await retrying(db, moves.withdraw, municipality, request_id)
    await changed(request, "onward_request", request_id, withdrawn,
                  refused="The onward request is already accepted, moved in or withdrawn.")
    return await repository.get_request(db, municipality, request_id)


async def decline(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID, reason: str) -> OnwardOfferRead:
    provider, state = request.user.organisation_id, request.app.state
    answer = await retrying(db, moves.decline, provider, offer_id, reason, state.settings, state.places)
    return await _answered(db, request, offer_id, answer)


async def accept(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID, data: OnwardAccept) -> OnwardOfferRead:
    if data.move_in_on < repository.today():
        raise MoveInInThePast("move_in_on is before today.")
    if data.move_in_on < data.lease_signed_on:
        raise BadLeaseDates("move_in_on is before lease_signed_on.")
    provider = request.user.organisation_id
    answer = await retrying(db, moves.accept, provider, offer_id, data.lease_signed_on, data.move_in_on)
    return await _answered(db, request, offer_id, answer)


async def move_in(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID) -> OnwardOfferRead:
    answer = await retrying(db, moves.move_in, request.user.organisation_id, offer_id)
    if answer is Answer.ANSWERED:
        raise Conflict("Only an accepted onward offer, not yet moved into, can be moved into.")
    return await _answered(db, request, offer_id, answer)


async def _answered(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID, answer: Answer) -> OnwardOfferRead:
    if answer is Answer.MISSING:
        raise await not_found(request, "onward_offer", offer_id)
    if answer is not Answer.DONE:
        problem, detail = REFUSALS[answer]
        raise problem(detail)
    audited(request, "onward_offer", offer_id)
    return await repository.provider_offer(db, request.user.organisation_id, offer_id)


async def read_address(db: asyncpg.Connection, request: Request, offer_id: uuid.UUID, purpose: str) -> ApartmentAddress:
    """The address for the caller's municipality once its household accepted (onward_address() decides),
    audited either way, with the social worker's purpose."""
    found = await repository.address(db, request.user.organisation_id, offer_id)
    return await shown(request, "apartment_address", offer_id, found, purpose=purpose)
