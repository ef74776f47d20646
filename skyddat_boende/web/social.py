"""Social workers: a guided request form, the fast-track result (municipality only, why it fits, or why
nothing does, in numbers), the request's status, and the address once the shelter has accepted."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from matching.scoring import GIVE_WAY_DAYS, last_give_way_day
from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende import input_guard
from skyddat_boende.geography import repository as geography
from skyddat_boende.identity.principal import SOCIAL_WORKER
from skyddat_boende.matchmaking.adapter import today
from skyddat_boende.objects import audited, not_found
from skyddat_boende.placement_requests import repository as requests
from skyddat_boende.placement_requests import service as request_service
from skyddat_boende.placement_requests.consistency import ContradictoryRequest
from skyddat_boende.placements import repository as placements
from skyddat_boende.placements import service as placement_service
from skyddat_boende.placements.schemas import ADDRESS_PURPOSES
from skyddat_boende.statistics import repository as statistics
from skyddat_boende.problems import Conflict
from skyddat_boende.web.common import Refused, back, flash, lang, page
from skyddat_boende.web import live
from skyddat_boende.web import request_form as form_rules
from skyddat_boende.web.i18n import translate
from skyddat_boende.web.languages import LANGUAGE_NAMES

SOCIAL = secured(roles=[SOCIAL_WORKER])
#: The long request form shows a refused personal identity number itself, keeping what else was typed.
REQUEST_FORM = SOCIAL | {"opt": SOCIAL["opt"] | {input_guard.SHOWS_REFUSAL: True}}
FIT_PARTS = ("preferred_region", "within_distance", "language", "honour_competence", "lgbtq_competence",
             "within_budget", "size_fit")
#: The field next to which a refusal from the shared consistency check is shown.
RULE_FIELDS = {"min_distance_beyond_sweden": "min_distance_km", "distance_without_threat": "min_distance_km",
               "max_distance_without_place": "max_distance_km", "preferred_place_excluded": "near_municipality",
               "county_preferred_and_excluded": "excl_county1", "start_in_the_past": "latest_start_date",
               "start_too_far_ahead": "latest_start_date", "shared_decision_reference": "child1_decision",
               "required_language_missing": "languages"}


async def _places(db) -> form_rules.Places:
    municipalities = {m.name.casefold(): m.code for m in await geography.municipalities(db)}
    counties = {c.name.casefold(): c.code for c in await geography.counties(db)}
    return form_rules.Places(municipalities, counties)


class SocialWorkerPages(Controller):
    path = "/socialtjanst"
    include_in_schema = False

    @get("/", name="social_requests", **SOCIAL)
    async def list_requests(self, db: Db, request: Request) -> Template:
        found = await requests.list_for(db, request.user.organisation_id, None, 100, 0)
        audited(request, "placement_request", None, outcome="allowed")
        return page(request, "social/requests.html", requests=found, section="requests")

    @get("/ny", name="social_new_request", **SOCIAL)
    async def new_request(self, db: Db, request: Request) -> Template:
        return await _form(db, request, {}, {})

    @post("/ny", name="social_create_request", **REQUEST_FORM)
    async def create_request(self, db: Db, request: Request) -> Template | Redirect:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "_csrf_token"}
        if refused := input_guard.refused_fields(request):  # shown again without them; nothing is stored
            kept = {k: v for k, v in form.items() if k not in refused}
            return await _form(db, request, kept, {"form": translate(lang(request), "error_personal_number")})
        try:
            data = form_rules.request_from_form(form, await _places(db), lang(request), dt.date.today())
            await request_service.check(db, data)
        except form_rules.FormErrors as exc:
            return await _form(db, request, form, exc.errors)
        except ContradictoryRequest as exc:
            field = RULE_FIELDS.get(exc.extra["rule"], "form")
            return await _form(db, request, form, {field: translate(lang(request), "contradiction_" + exc.extra["rule"],
                                                                    **exc.extra)})
        created = await request_service.create(db, request, data)
        return back(f"/socialtjanst/arenden/{created.id}")

    @get("/arenden/{request_id:uuid}", name="social_request", **SOCIAL)
    async def show_request(self, db: Db, request: Request, request_id: FromPath[uuid.UUID]) -> Template:
        found = await request_service.read(db, request, request_id)
        municipalities = {m.code: m for m in await geography.municipalities(db)}
        counties = {c.code: c.name for c in await geography.counties(db)}
        fit = [part for part in FIT_PARTS if found.offer and found.offer.fit.get(part)]
        excluded = sorted(((n, rule) for rule, n in (found.match.excluded if found.match else {}).items() if n),
                          reverse=True)
        # the batch's own rule and clock (matching.scoring.priority, the adapter's dates)
        until = found.status == "waiting" and last_give_way_day(found.urgency, found.waiting_since.date(), today())
        window = {"ended": until - dt.timedelta(days=GIVE_WAY_DAYS), "until": until} if until else None
        return page(request, "social/request.html", req=found, municipalities=municipalities, counties=counties,
                    fit=fit, excluded=excluded, distances=await _distances(db, found),
                    window_passed=window,
                    history=await live.request_history(db, request_id),
                    live_state=await live.request_state(db, request.user.organisation_id, request_id),
                    poll_seconds=request.app.state.settings.live_poll_seconds, soon_minutes=live.SOON_MINUTES,
                    now=dt.datetime.now(dt.timezone.utc), section="requests")

    @get("/arenden/{request_id:uuid}/lage", name="social_request_state", **SOCIAL)
    async def request_state(self, db: Db, request: Request, request_id: FromPath[uuid.UUID]) -> Response:
        """Whether the request changed since the page was drawn (the page then fetches itself again)."""
        state = await live.request_state(db, request.user.organisation_id, request_id)
        if state is None:
            raise await not_found(request, "placement_request", request_id)
        return Response(state, media_type=MediaType.TEXT)

    @post("/arenden/{request_id:uuid}/aterkalla", name="social_withdraw", **SOCIAL)
    async def withdraw(self, db: Db, request: Request, request_id: FromPath[uuid.UUID]) -> Redirect:
        try:
            await request_service.withdraw(db, request, request_id)
        except Conflict:
            raise Refused(f"/socialtjanst/arenden/{request_id}", "withdraw_refused") from None
        flash(request, "request_withdrawn")
        return back(f"/socialtjanst/arenden/{request_id}")

    @get("/placeringar/{placement_id:uuid}/adress", name="social_address", **SOCIAL)
    async def address_reason(self, db: Db, request: Request, placement_id: FromPath[uuid.UUID]) -> Template:
        """First the reason; the address only on the form's POST. A link (another site's too) can make a
        browser send a GET, so a GET never reads the address nor records a read, whatever its query."""
        placement = await _own_placement(db, request, placement_id)
        return _address_page(request, placement, None)

    @post("/placeringar/{placement_id:uuid}/adress", name="social_read_address", **SOCIAL)
    async def address(self, db: Db, request: Request, placement_id: FromPath[uuid.UUID]) -> Template:
        """The read, with the reason from the form body (kept in the audit trail, never in a URL)."""
        placement = await _own_placement(db, request, placement_id)
        purpose = (await request.form()).get("purpose")
        if purpose not in ADDRESS_PURPOSES:
            return _address_page(request, placement, None, status_code=400)
        found = await placement_service.read_address(db, request, placement_id, purpose)
        return _address_page(request, placement, found)


async def _distances(db, found) -> dict[str, int]:
    """How far the offered place lies from the nearest threat area and from the wished municipality."""
    if found.offer is None:
        return {}
    where, distances = found.offer.municipality_code, {}
    threats = [await geography.distance_between(db, where, code) for code in found.threat_municipalities]
    if known := [km for km in threats if km is not None]:
        distances["threat"] = round(min(known))
    if found.preferred_near_municipality:
        km = await geography.distance_between(db, where, found.preferred_near_municipality)
        distances["near"] = round(km) if km is not None else None
    return {k: v for k, v in distances.items() if v is not None}


async def _own_placement(db, request: Request, placement_id: uuid.UUID):
    placement = await placements.get(db, request.user.organisation_id, True, False, placement_id)
    if placement is None:
        raise await not_found(request, "shelter_address", placement_id)
    return placement


def _address_page(request: Request, placement, address, status_code: int = 200) -> Template:
    return page(request, "social/address.html", status_code=status_code, address=address,
                purposes=ADDRESS_PURPOSES, placement_id=placement.id, request_id=placement.request_id,
                section="requests")


async def _form(db, request: Request, values: dict[str, str], errors: dict[str, str]) -> Template:
    defaults = {"urgency": "acute", "security_level_needed": "2", "protected_data_level": "none",
                "latest_start_date": dt.date.today().isoformat(), "min_distance_km": "0", "adult1_gender": "female"}
    figures = await statistics.snapshot(request.app.state, db, request.app.state.settings.stale_after_hours)
    return page(request, "social/new_request.html", status_code=400 if errors else 200, free_by_county=figures,
                values=defaults | values, errors=errors, municipalities=await geography.municipalities(db),
                counties=await geography.counties(db), languages=LANGUAGE_NAMES, needs=form_rules.NEEDS,
                protected_data=form_rules.PROTECTED_DATA, urgencies=form_rules.URGENCIES,
                adult_rows=form_rules.ADULT_ROWS, child_rows=form_rules.CHILD_ROWS, name_rows=form_rules.NAME_ROWS,
                section="new")
