"""Social workers: "Ny bostad" — a home for a household placed in a shelter. The onward request takes the
placement request's household and exclusions; the social worker adds the rent ceiling and the earliest
move-in. Then the onward offer, its status and history, and the address once the provider accepted."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import get_args

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.geography import repository as geography
from skyddat_boende.housing import repository, service
from skyddat_boende.housing.controller import MoveAddressPurpose
from skyddat_boende.housing.schemas import OnwardRequestCreate
from skyddat_boende.identity.principal import SOCIAL_WORKER
from skyddat_boende.objects import audited, not_found
from skyddat_boende.placement_requests import repository as requests
from skyddat_boende.placement_requests.schemas import RequestRead
from skyddat_boende.problems import Problem
from skyddat_boende.web.common import back, lang, page
from skyddat_boende.web.i18n import translate

SOCIAL = secured(roles=[SOCIAL_WORKER])
PURPOSES = get_args(MoveAddressPurpose)
HOME = "/socialtjanst/bostad"


class OnwardPages(Controller):
    path = HOME
    include_in_schema = False

    @get("/", name="social_onward_list", **SOCIAL)
    async def list_onward(self, db: Db, request: Request) -> Template:
        found = await repository.list_requests(db, request.user.organisation_id, 100, 0)
        audited(request, "onward_request", None, outcome="allowed")
        return page(request, "social/onward_list.html", onward=found, section="onward")

    @get("/ny", name="social_onward_new", **SOCIAL)
    async def new_onward(self, db: Db, request: Request, placement: FromQuery[uuid.UUID]) -> Template:
        placed = await _placed_request(db, request, placement)
        return _form(request, placed, placement, {"case_reference": placed.case_reference,
                                                   "earliest_move_in": dt.date.today().isoformat()}, None)

    @post("/ny", name="social_onward_create", **SOCIAL)
    async def create_onward(self, db: Db, request: Request, placement: FromQuery[uuid.UUID]) -> Template | Redirect:
        placed = await _placed_request(db, request, placement)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "_csrf_token"}
        try:
            data = msgspec.convert(_body(placed, placement, form), OnwardRequestCreate, strict=False)
        except msgspec.ValidationError:
            return _form(request, placed, placement, form, translate(lang(request), "onward_form_invalid"))
        try:
            await service.check(db, request, data)
            created = await service.create(db, request, data)
        except Problem as exc:
            return _form(request, placed, placement, form, _problem_text(request, exc))
        return back(f"{HOME}/{created.id}")

    @get("/{onward_id:uuid}", name="social_onward", **SOCIAL)
    async def show_onward(self, db: Db, request: Request, onward_id: FromPath[uuid.UUID]) -> Template:
        return await _onward_page(db, request, onward_id, None)

    @post("/{onward_id:uuid}/adress", name="social_onward_address", **SOCIAL)
    async def address(self, db: Db, request: Request, onward_id: FromPath[uuid.UUID]) -> Template:
        """The read, with the reason from the form body (audited with it, never in a URL)."""
        purpose = (await request.form()).get("purpose")
        offer_id = await db.fetchval(
            "select id from onward_offer where onward_request_id = $1 and status = 'accepted'", onward_id)
        if purpose not in PURPOSES or offer_id is None:
            raise await not_found(request, "apartment_address", onward_id)
        found = await service.read_address(db, request, offer_id, purpose)
        return await _onward_page(db, request, onward_id, found)


async def _placed_request(db, request: Request, placement_id: uuid.UUID) -> RequestRead:
    """The caller's municipality's request placed with this placement, else 404."""
    request_id = await db.fetchval("select request_id from placement where id = $1", placement_id)
    found = await requests.get(db, request.user.organisation_id, request_id) if request_id else None
    if found is None or found.placement_id != placement_id:
        raise await not_found(request, "placement", placement_id)
    return found


def _body(placed: RequestRead, placement_id: uuid.UUID, form: dict[str, str]) -> dict:
    return {
        "case_reference": form.get("case_reference", "").strip(), "placement_id": str(placement_id),
        "urgency": "planned", "protected_data_level": placed.protected_data_level,
        "adults": [{"gender": a.gender, "age": a.age} for a in placed.adults],
        "children": [{"gender": c.gender, "age": c.age, "decision_reference": c.decision_reference}
                     for c in placed.children],
        "needs": [n for n in placed.needs if n in ("wheelchair", "pets")],
        "excluded_municipalities": placed.excluded_municipalities, "excluded_counties": placed.excluded_counties,
        "threat_municipalities": placed.threat_municipalities, "min_distance_km": placed.min_distance_km,
        "preferred_counties": placed.preferred_counties,
        "max_rent_sek": (form.get("max_rent_sek") or "").strip(),
        "earliest_move_in": form.get("earliest_move_in", ""),
    }


def _problem_text(request: Request, exc: Problem) -> str:
    language = lang(request)
    if exc.slug == "contradictory-request":
        return translate(language, f"contradiction_{exc.extra['rule']}", **exc.extra)
    if exc.slug == "no-apartment-can-fit":
        return translate(language, f"onward_refused_rule_{exc.extra['rule']}")
    return translate(language, f"onward_refused_{exc.slug.replace('-', '_')}")


def _form(request: Request, placed: RequestRead, placement_id, values: dict, error: str | None) -> Template:
    return page(request, "social/onward_new.html", status_code=400 if error else 200, placed=placed,
                placement_id=placement_id, values=values, error=error, section="onward")


async def _onward_page(db, request: Request, onward_id: uuid.UUID, address) -> Template:
    found = await service.read(db, request, onward_id)
    names = {m.code: m.name for m in await geography.municipalities(db)}
    excluded = sorted(((n, rule) for rule, n in (found.match.excluded if found.match else {}).items() if n),
                      reverse=True)
    return page(request, "social/onward.html", onward=found, names=names, excluded=excluded, address=address,
                purposes=PURPOSES, section="onward")
