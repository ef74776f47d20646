"""National follow-up: waiting and placed households and free places by county, as a table, a bar chart
and a schematic map of the 21 counties. Figures come from statistics.repository, which suppresses every
count from 1 to 4."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, get
from litestar.response import Template

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import NATIONAL_FOLLOWUP
from skyddat_boende.statistics import repository as statistics
from skyddat_boende.web.common import page
from skyddat_boende.web.countymap import TILE_SIZE, TILES, map_size
from skyddat_boende.web.where_to_build import where_to_build

FOLLOW_UP = secured(roles=[NATIONAL_FOLLOWUP])
#: Map shades by waiting households (suppressed counts get their own pattern-free shade).
SHADES = ((0, "#f1f5f9"), (5, "#bcd3ee"), (10, "#7ea9dc"), (25, "#3f7cc4"), (50, "#1d4f91"))


def shade(count: int | None) -> str:
    if count is None:
        return "#e2e8f0"
    colour = SHADES[0][1]
    for floor, value in SHADES:
        if count >= floor:
            colour = value
    return colour


class FollowUpPages(Controller):
    path = "/uppfoljning"
    include_in_schema = False

    @get("/", name="followup_statistics", **FOLLOW_UP)
    async def statistics(self, db: Db, request: Request) -> Template:
        figures = await statistics.snapshot(request.app.state, db, request.app.state.settings.stale_after_hours)
        counties = {c.county_code: c for c in figures.by_county}
        largest = max([(c.waiting or 0) + (c.placed or 0) for c in figures.by_county] + [1])
        width, height = map_size()
        where = await where_to_build(db, dt.datetime.now(dt.timezone.utc))
        return page(request, "followup/statistics.html", figures=figures, counties=counties, tiles=TILES,
                    tile=TILE_SIZE, map_width=width, map_height=height, shade=shade, largest=largest,
                    shades=SHADES, where=where, section="statistics")
