"""Social workers: a guided request form, the fast-track result (municipality only, why it fits, or why
nothing does, in numbers), the request's status, and the address once the shelter has accepted."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende import input_guard
from skyddat_boende.geography import repository as geography
from skyddat_boende.identity.principal import SOCIAL_WORKER
from skyddat_boende.objects import audited, not_found
from skyddat_boende.placement_requests import repository as requests
from skyddat_boende.placement_requests import service as request_service
from skyddat_boende.placement_requests.consistency import ContradictoryRequest
from skyddat_boende.placement_requests.schemas import RequestCreate
from skyddat_boende.placements import repository as placements
from skyddat_boende.placements import service as placement_service
from skyddat_boende.placements.schemas import ADDRESS_PURPOSES
from skyddat_boende.problems import Conflict
from skyddat_boende.web.common import Refused, back, flash, lang, page
from skyddat_boende.web.i18n import translate

SOCIAL = secured(roles=[SOCIAL_WORKER])
#: The long request form shows a refused personal identity number itself, keeping what else was typed.
REQUEST_FORM = SOCIAL | {"opt": SOCIAL["opt"] | {input_guard.SHOWS_REFUSAL: True}}
NEEDS = ("wheelchair", "pets", "substance_use", "mental_illness", "intellectual_disability")
PROTECTED_DATA = ("none", "sekretessmarkering", "skyddad_folkbokforing", "fingerade_personuppgifter")
ADULT_ROWS, CHILD_ROWS, THREAT_ROWS = 2, 6, 3
FIT_PARTS = ("preferred_region", "within_distance", "language", "honour_competence", "lgbtq_competence",
             "within_budget", "size_fit")


class FormErrors(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _int(value: Any) -> int | None:
    value = (value or "").strip()
    return int(value) if value.lstrip("-").isdigit() else None


def request_from_form(form: dict[str, str], by_name: dict[str, str], language: str) -> RequestCreate:
    """The form's fields as the API's RequestCreate; FormErrors names what is wrong. (A value that looks
    like a personal identity number never gets here: skyddat_boende.input_guard refuses the post.)"""
    errors: list[str] = []
    adults = []
    for i in range(1, ADULT_ROWS + 1):
        age = _int(form.get(f"adult{i}_age"))
        if age is not None or i == 1:
            adults.append({"gender": form.get(f"adult{i}_gender", ""), "age": age})
    children = []
    for i in range(1, CHILD_ROWS + 1):
        age = _int(form.get(f"child{i}_age"))
        if age is not None:
            children.append({"gender": form.get(f"child{i}_gender", ""), "age": age,
                             "decision_reference": form.get(f"child{i}_decision", "").strip()})
    threats = []
    for i in range(1, THREAT_ROWS + 1):
        name = form.get(f"threat{i}", "").strip()
        if not name:
            continue
        code = by_name.get(name.casefold()) or (name if name in by_name.values() else None)
        if code is None:
            errors.append(translate(language, "error_unknown_municipality", name=name))
        else:
            threats.append(code)
    body = {
        "case_reference": form.get("case_reference", "").strip(),
        "urgency": form.get("urgency", ""),
        "security_level_needed": _int(form.get("security_level_needed")),
        "protected_data_level": form.get("protected_data_level", ""),
        "adults": adults,
        "children": children,
        "needs": [need for need in NEEDS if form.get(f"need_{need}")],
        "honour_related": bool(form.get("honour_related")),
        "lgbtq": bool(form.get("lgbtq")),
        "languages": sorted({c.strip().lower() for c in form.get("languages", "").split(",") if c.strip()}),
        "require_honour_competence": bool(form.get("require_honour_competence")),
        "require_staff_language": bool(form.get("require_staff_language")),
        "threat_municipalities": sorted(set(threats)),
        "min_distance_km": _int(form.get("min_distance_km")) or 0,
        "latest_start_date": form.get("latest_start_date", ""),
    }
    if rate := _int(form.get("max_daily_rate_sek")):
        body["max_daily_rate_sek"] = rate
    if errors:
        raise FormErrors(errors)
    try:
        return msgspec.convert(body, RequestCreate, strict=False)
    except msgspec.ValidationError as exc:
        raise FormErrors([translate(language, "error_field", field=_field_of(str(exc)), message=_reason_of(str(exc)))])


def _field_of(message: str) -> str:
    return message.rpartition("at `$.")[2].rstrip("`") if "at `$." in message else "?"


def _reason_of(message: str) -> str:
    return message.partition(" - at ")[0]


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
        return await _form(db, request, {}, [])

    @post("/ny", name="social_create_request", **REQUEST_FORM)
    async def create_request(self, db: Db, request: Request) -> Template | Redirect:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "_csrf_token"}
        if refused := input_guard.refused_fields(request):  # shown again without them; nothing is stored
            kept = {k: v for k, v in form.items() if k not in refused}
            return await _form(db, request, kept, [translate(lang(request), "error_personal_number")])
        municipalities = await geography.municipalities(db)
        by_name = {m.name.casefold(): m.code for m in municipalities}
        try:
            data = request_from_form(form, by_name, lang(request))
            await request_service.check(db, data)
        except FormErrors as exc:
            return await _form(db, request, form, exc.messages)
        except ContradictoryRequest as exc:
            return await _form(db, request, form, [translate(lang(request), "contradiction_" + exc.extra["rule"],
                                                             **exc.extra)])
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
        return page(request, "social/request.html", req=found, municipalities=municipalities, counties=counties,
                    fit=fit, excluded=excluded, now=dt.datetime.now(dt.timezone.utc), section="requests")

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


async def _own_placement(db, request: Request, placement_id: uuid.UUID):
    placement = await placements.get(db, request.user.organisation_id, True, False, placement_id)
    if placement is None:
        raise await not_found(request, "shelter_address", placement_id)
    return placement


def _address_page(request: Request, placement, address, status_code: int = 200) -> Template:
    return page(request, "social/address.html", status_code=status_code, address=address,
                purposes=ADDRESS_PURPOSES, placement_id=placement.id, request_id=placement.request_id,
                section="requests")


async def _form(db, request: Request, values: dict[str, str], errors: list[str]) -> Template:
    municipalities = await geography.municipalities(db)
    defaults = {"urgency": "acute", "security_level_needed": "2", "protected_data_level": "none",
                "latest_start_date": dt.date.today().isoformat(), "min_distance_km": "0", "adult1_gender": "female"}
    return page(request, "social/new_request.html", status_code=400 if errors else 200,
                values=defaults | values, errors=errors, municipalities=municipalities, needs=NEEDS,
                protected_data=PROTECTED_DATA, adult_rows=ADULT_ROWS, child_rows=CHILD_ROWS,
                threat_rows=THREAT_ROWS, section="new")
