"""Housing staff: their apartments (one tap for availability) and the onward offers made on them (accept
with the lease and move-in dates, decline with a reason, record the move-in). Every change goes through
the same repositories and services as the API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import get_args

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from skyddat_boende.access import secured
from skyddat_boende.conditional import version_number
from skyddat_boende.dependencies import Db
from skyddat_boende.housing import apartments, repository, service
from skyddat_boende.housing.schemas import ApartmentUpdate, OnwardAccept, OnwardDeclineReason
from skyddat_boende.identity.principal import HOUSING_STAFF
from skyddat_boende.objects import audited, not_found
from skyddat_boende.problems import Problem
from skyddat_boende.web.common import Refused, back, flash, page
from skyddat_boende.web.staff import municipality_names

HOUSING = secured(roles=[HOUSING_STAFF])
STATUSES = ("available", "unavailable")
DECLINE_REASONS = get_args(OnwardDeclineReason)
REFUSALS = {"offer-not-open": "offer_not_open", "offer-expired": "offer_expired", "conflict": "onward_conflict",
            "move-in-in-the-past": "move_in_in_the_past", "bad-lease-dates": "bad_lease_dates"}
OFFERS = "/bostad/erbjudanden"


def _provider(request: Request) -> str:
    return request.user.organisation_id


class HousingStaffPages(Controller):
    path = "/bostad"
    include_in_schema = False

    @get("/", name="housing_apartments", **HOUSING)
    async def apartments(self, db: Db, request: Request) -> Template:
        found = await apartments.list_for(db, _provider(request), 200, 0)
        return page(request, "housing/apartments.html", apartments=found, names=await municipality_names(db),
                    statuses=STATUSES, section="apartments")

    @post("/lagenheter/{apartment_id:uuid}/status", name="housing_apartment_status", **HOUSING)
    async def set_status(self, db: Db, request: Request, apartment_id: FromPath[uuid.UUID]) -> Redirect:
        form = await request.form()
        status, version = form.get("status"), version_number(str(form.get("version", "")))
        if status not in STATUSES or version is None:
            raise Problem("Unknown status or version.")
        current = await apartments.get(db, _provider(request), apartment_id)
        if current is not None and current.offered and status == "unavailable":
            raise Refused(f"/bostad#apartment-{apartment_id}", "apartment_offered")
        outcome = await apartments.update(db, _provider(request), apartment_id, version,
                                          ApartmentUpdate(status=status))
        if outcome == "missing":
            raise await not_found(request, "apartment", apartment_id)
        if outcome != "updated":
            raise Refused(f"/bostad#apartment-{apartment_id}", "changed_meanwhile")
        audited(request, "apartment", apartment_id)
        flash(request, "apartment_updated", label=current.label)
        return back(f"/bostad#apartment-{apartment_id}")

    @get("/erbjudanden", name="housing_offers", **HOUSING)
    async def offers(self, db: Db, request: Request) -> Template:
        found = await repository.provider_offers(db, _provider(request), 50, 0)
        audited(request, "onward_offer", None, outcome="allowed")
        labels = {a.id: a.label for a in await apartments.list_for(db, _provider(request), 200, 0)}
        return page(request, "housing/offers.html", offers=found, labels=labels, names=await municipality_names(db),
                    reasons=DECLINE_REASONS, today=dt.date.today(), section="housing_offers")

    @post("/erbjudanden/{offer_id:uuid}/acceptera", name="housing_accept", **HOUSING)
    async def accept(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> Redirect:
        form = await request.form()
        try:
            dates = msgspec.convert({"lease_signed_on": form.get("lease_signed_on"),
                                     "move_in_on": form.get("move_in_on")}, OnwardAccept, strict=False)
        except msgspec.ValidationError:
            raise Refused(OFFERS, "bad_lease_dates") from None
        await _answer(service.accept(db, request, offer_id, dates))
        flash(request, "onward_accepted")
        return back(OFFERS)

    @post("/erbjudanden/{offer_id:uuid}/avboj", name="housing_decline", **HOUSING)
    async def decline(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> Redirect:
        reason = (await request.form()).get("reason")
        if reason not in DECLINE_REASONS:
            raise Problem("Choose a reason.")
        await _answer(service.decline(db, request, offer_id, reason))
        flash(request, "onward_declined")
        return back(OFFERS)

    @post("/erbjudanden/{offer_id:uuid}/inflyttning", name="housing_move_in", **HOUSING)
    async def move_in(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> Redirect:
        await _answer(service.move_in(db, request, offer_id))
        flash(request, "onward_moved_in")
        return back(OFFERS)


async def _answer(step) -> None:
    """Run the service step; a refusal the person can act on becomes a message on the offers page."""
    try:
        await step
    except Problem as exc:
        if exc.slug not in REFUSALS:
            raise
        raise Refused(OFFERS, REFUSALS[exc.slug]) from None
