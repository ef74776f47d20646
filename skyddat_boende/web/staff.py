"""Shelter staff: the board of places (one tap per status, "no change today"), offers to answer, and
placements to check in and out. Every change goes through the same repositories and services as the API."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
import uuid
from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from skyddat_boende.access import secured
from skyddat_boende.capacity import repository as capacity
from skyddat_boende.capacity.schemas import UnitStatus, UnitUpdate
from skyddat_boende.conditional import version_number
from skyddat_boende.dependencies import Db
from skyddat_boende.geography import repository as geography
from skyddat_boende.identity.principal import SHELTER_STAFF
from skyddat_boende.objects import audited, not_found
from skyddat_boende.offers import repository as offers
from skyddat_boende.offers import service as offer_service
from skyddat_boende.offers.schemas import DeclineReason
from skyddat_boende.placements import repository as placements
from skyddat_boende.placements import service as placement_service
from skyddat_boende.problems import Conflict, Problem
from skyddat_boende.web import live
from skyddat_boende.web.common import Refused, back, flash, lang, page
from skyddat_boende.web.i18n import shown_status, translate

STAFF = secured(roles=[SHELTER_STAFF])
UNIT_STATUSES = ("available", "occupied", "out_of_service")
DECLINE_REASONS = ("full", "cannot_meet_needs", "security_concern", "too_close_to_threat", "other")
OFFER_REFUSALS = {"offer-not-open": "offer_not_open", "offer-expired": "offer_expired", "place-taken": "place_taken"}


def natural_key(label: str) -> list:
    """"Rum 2" before "Rum 10": digits compare as numbers, the rest case-insensitively."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in re.split(r"(\d+)", label)]


def _operator(request: Request) -> str:
    return request.user.organisation_id


async def _units_by_id(db, request: Request) -> dict[uuid.UUID, tuple[str, str]]:
    """unit id -> (shelter label, unit label) for the operator's own units."""
    labels = {}
    stale = request.app.state.settings.stale_after_hours
    for shelter in await capacity.list_shelters(db, _operator(request), 200, 0):
        for unit in await capacity.list_units(db, _operator(request), shelter.id, stale) or []:
            labels[unit.id] = (shelter.label, unit.label)
    return labels


async def municipality_names(db) -> dict[str, str]:
    return {m.code: m.name for m in await geography.municipalities(db)}


class ShelterStaffPages(Controller):
    path = "/boende"
    include_in_schema = False

    @get("/", name="staff_board", **STAFF)
    async def board(self, db: Db, request: Request) -> Template:
        stale = request.app.state.settings.stale_after_hours
        shelters = []
        for shelter in await capacity.list_shelters(db, _operator(request), 200, 0):
            units = await capacity.list_units(db, _operator(request), shelter.id, stale) or []
            shelters.append((shelter, sorted(units, key=lambda unit: natural_key(unit.label)),
                             Counter(shown_status(u.status, u.beds_taken, u.beds) for u in units)))
        shelters.sort(key=lambda entry: natural_key(entry[0].label))
        names = await municipality_names(db)
        changed = request.session.pop("unit_changed", None)
        return page(request, "staff/board.html", shelters=shelters, names=names, statuses=UNIT_STATUSES,
                    changed=changed, section="board")

    @post("/enheter/{unit_id:uuid}/status", name="staff_unit_status", **STAFF)
    async def set_status(self, db: Db, request: Request, unit_id: FromPath[uuid.UUID]) -> Redirect:
        form = await request.form()
        status, version = form.get("status"), version_number(str(form.get("version", "")))
        if status not in UNIT_STATUSES or version is None:
            raise Problem("Unknown status or version.")
        data = msgspec.convert({"status": status}, UnitUpdate)
        outcome = await capacity.update_unit(db, _operator(request), unit_id, version, data)
        if outcome == "missing":
            raise await not_found(request, "unit", unit_id)
        if outcome == "stale":
            raise Refused(f"/boende#unit-{unit_id}", "changed_meanwhile")
        else:
            audited(request, "unit", unit_id)
            unit = await capacity.get_unit(db, _operator(request), unit_id, request.app.state.settings.stale_after_hours)
            # shown in the unit's own card, where the tap was, not at the top of a long page
            request.session["unit_changed"] = {"id": str(unit_id), "text": translate(
                lang(request), "unit_updated", unit=unit.label, status=translate(lang(request), f"status_{status}"))}
        return back(f"/boende#unit-{unit_id}")

    @post("/{shelter_id:uuid}/bekrafta", name="staff_confirm", **STAFF)
    async def confirm(self, db: Db, request: Request, shelter_id: FromPath[uuid.UUID]) -> Redirect:
        confirmed = await capacity.confirm_units(db, _operator(request), shelter_id=shelter_id)
        if confirmed is None:
            raise await not_found(request, "shelter", shelter_id)
        flash(request, "confirmed_units", n=confirmed[0])
        return back(f"/boende#shelter-{shelter_id}")

    @get("/erbjudanden", name="staff_offers", **STAFF)
    async def offers(self, db: Db, request: Request) -> Template:
        open_offers = sorted(await offers.list_for(db, _operator(request), "open", 50, 0), key=lambda o: o.expires_at)
        answered = [o for o in await offers.list_for(db, _operator(request), None, 20, 0) if o.status != "open"]
        audited(request, "offer", None, outcome="allowed")
        return page(request, "staff/offers.html", open_offers=open_offers, answered=answered,
                    units=await _units_by_id(db, request), names=await municipality_names(db),
                    reasons=DECLINE_REASONS, now=dt.datetime.now(dt.timezone.utc), section="offers",
                    live_state=await live.offers_state(db, _operator(request)),
                    poll_seconds=request.app.state.settings.live_poll_seconds,
                    soon_minutes=live.SOON_MINUTES)

    @get("/erbjudanden/lage", name="staff_offers_state", **STAFF)
    async def offers_state(self, db: Db, request: Request) -> Response:
        """Whether the operator's offers changed since the page was drawn."""
        return Response(await live.offers_state(db, _operator(request)), media_type=MediaType.TEXT)

    @post("/erbjudanden/{offer_id:uuid}/acceptera", name="staff_accept", **STAFF)
    async def accept(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> Redirect:
        try:
            await offer_service.accept(db, request, offer_id)
        except Problem as exc:
            if exc.slug not in OFFER_REFUSALS:
                raise
            raise Refused("/boende/erbjudanden", OFFER_REFUSALS[exc.slug]) from None
        flash(request, "offer_accepted")
        return back("/boende/placeringar")

    @post("/erbjudanden/{offer_id:uuid}/avboj", name="staff_decline", **STAFF)
    async def decline(self, db: Db, request: Request, offer_id: FromPath[uuid.UUID]) -> Redirect:
        reason = (await request.form()).get("reason")
        try:
            msgspec.convert(reason, DeclineReason)
        except msgspec.ValidationError:
            raise Refused(f"/boende/erbjudanden#offer-{offer_id}", "choose_reason_first") from None
        try:
            await offer_service.decline(db, request, offer_id, reason)
        except Problem as exc:
            if exc.slug not in OFFER_REFUSALS:
                raise
            raise Refused("/boende/erbjudanden", OFFER_REFUSALS[exc.slug]) from None
        flash(request, "offer_declined")
        return back("/boende/erbjudanden")

    @get("/placeringar", name="staff_placements", **STAFF)
    async def placements(self, db: Db, request: Request) -> Template:
        found = await placements.list_for(db, _operator(request), False, True, 100, 0)
        audited(request, "placement", None, outcome="allowed")
        households = {}  # who is coming or living there, as the offer described them (no names)
        for placement in found:
            if placement.status == "moved_out":
                continue
            if offer := await offers.get(db, _operator(request), placement.offer_id):
                households[placement.id] = offer.household
        return page(request, "staff/placements.html", placements=found, households=households,
                    units=await _units_by_id(db, request),
                    names=await municipality_names(db), today=dt.date.today(), section="placements")

    @post("/placeringar/{placement_id:uuid}/incheckning", name="staff_check_in", **STAFF)
    async def check_in(self, db: Db, request: Request, placement_id: FromPath[uuid.UUID]) -> Redirect:
        raw = (await request.form()).get("planned_end_date") or None
        try:
            planned_end = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            raise Problem("planned_end_date must be a date.") from None
        return await _transition(db, request, placement_id, "checked_in", planned_end, "checked_in_done")

    @post("/placeringar/{placement_id:uuid}/utflyttning", name="staff_move_out", **STAFF)
    async def move_out(self, db: Db, request: Request, placement_id: FromPath[uuid.UUID]) -> Redirect:
        return await _transition(db, request, placement_id, "moved_out", None, "moved_out_done")


async def _transition(db, request: Request, placement_id: uuid.UUID, to: str, planned_end: Any, done: str) -> Redirect:
    try:
        await placement_service.transition(db, request, placement_id, to, planned_end)
    except Conflict:
        raise Refused("/boende/placeringar", "placement_conflict") from None
    flash(request, done)
    return back(f"/boende/placeringar#placement-{placement_id}")


__all__ = ["ShelterStaffPages", "UnitStatus"]
