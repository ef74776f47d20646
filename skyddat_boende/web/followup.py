"""National follow-up: waiting and placed households and free places by county, as a table, a bar chart
and a map of the 21 counties; and "where to build", with unmet demand per 100,000 inhabitants on a second
map. Figures come from statistics.repository and statistics.demand, which suppress every count from 1 to
4; both maps are drawn from real county outlines (web/countymap.py)."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, get
from litestar.response import Template

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import NATIONAL_FOLLOWUP
from skyddat_boende.statistics import repository as statistics
from skyddat_boende.web.common import lang, page
from skyddat_boende.web.countymap import RATE_CLASSES, WAITING_CLASSES, CountyMap, county_map
from skyddat_boende.web.i18n import translate
from skyddat_boende.web.where_to_build import WhereToBuild, where_to_build

FOLLOW_UP = secured(roles=[NATIONAL_FOLLOWUP])


def rate_text(language: str, rate: float | None) -> str:
    if rate is None:
        return translate(language, "suppressed")
    text = f"{rate:.1f}"
    return text.replace(".", ",") if language == "sv" else text


def waiting_map(language: str, figures: statistics.Statistics) -> CountyMap:
    names = {c.county_code: c.county_name for c in figures.by_county}
    waiting = {c.county_code: c.waiting for c in figures.by_county}

    def title(code: str, value: float | None) -> str:
        shown = translate(language, "suppressed") if value is None else str(value)
        return f"{names.get(code, code)}: {translate(language, 'waiting').lower()} {shown}"

    return county_map(waiting, WAITING_CLASSES, title)


def unmet_map(language: str, where: WhereToBuild) -> CountyMap:
    counties = {c.code: c for c in where.counties}

    def title(code: str, value: float | None) -> str:
        county = counties[code]
        return translate(language, "rate_title", county=county.name, rate=rate_text(language, value),
                         n=rate_text(language, None) if county.unmet_last_month is None else county.unmet_last_month)

    return county_map({c.code: c.per_100k for c in where.counties}, RATE_CLASSES, title)


class FollowUpPages(Controller):
    path = "/uppfoljning"
    include_in_schema = False

    @get("/", name="followup_statistics", **FOLLOW_UP)
    async def statistics(self, db: Db, request: Request) -> Template:
        figures = await statistics.snapshot(request.app.state, db, request.app.state.settings.stale_after_hours)
        largest = max([(c.waiting or 0) + (c.placed or 0) for c in figures.by_county] + [1])
        where = await where_to_build(db, dt.datetime.now(dt.timezone.utc))
        language = lang(request)
        return page(request, "followup/statistics.html", figures=figures, largest=largest, where=where,
                    waiting_map=waiting_map(language, figures), unmet_map=unmet_map(language, where),
                    waiting_classes=WAITING_CLASSES, rate_classes=RATE_CLASSES,
                    rate=lambda value: rate_text(language, value), section="statistics")
