"""Demand and supply by period, county and need, from the daily snapshots (statistics/snapshots.py),
published through the disclosure control (statistics/disclosure.py). Used by the follow-up API (CSV too)
and, for today's free places, by the open data endpoint."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Literal, get_args

import asyncpg
import msgspec

from matching.rules import EXCLUSION_NAMES
from skyddat_boende.problems import Problem
from skyddat_boende.statistics.disclosure import ROUND_TO, SUPPRESS_BELOW, enough_for_a_quantile, suppress
from skyddat_boende.statistics.snapshots import (
    DECLINE_REASONS, LAST_DAY_MEASURES, NEEDS, OUTCOMES, local_date,
)

Period = Literal["day", "week", "month", "year"]
PERIODS: tuple[str, ...] = get_args(Period)
MAX_PERIODS = {"day": 400, "week": 160, "month": 120, "year": 20}
EARLIEST = dt.date(2020, 1, 1)
MAX_CELLS = 20_000
METHOD = "https://github.com/skyddat-boende/skyddat-boende/blob/main/docs/statistics.md"

PERIOD_FIGURES = """
with cells as (
    select date_trunc($1::text, s.day::timestamp)::date as period_start, s.day, s.county_code, s.need, s.measure,
           s.value
      from demand_snapshot s
     where s.day between $2 and $3 and ($4::text is null or s.county_code = $4) and ($5::text is null or s.need = $5)
), state_day as (
    select date_trunc($1::text, d.day::timestamp)::date as period_start, max(d.day) as day
      from demand_snapshot_day d where d.state_taken and d.day between $2 and $3 group by 1
)
select period_start, county_code, need, measure, sum(value)::bigint as value
  from cells where measure <> all($6::text[]) group by 1, 2, 3, 4
union all
select c.period_start, c.county_code, c.need, c.measure, c.value
  from cells c join state_day d on d.period_start = c.period_start and d.day = c.day
 where c.measure = any($6::text[])
"""


class BadFigureRequest(Problem):
    status, slug, title = 400, "bad-figure-request", "Figures not available for this request"


class DemandCell(msgspec.Struct, frozen=True):
    period_start: dt.date
    county_code: str
    county_name: str
    need: str
    days_covered: int
    """Days of the period with a snapshot (a period without any has no figures, not zeros)."""
    requests_filed: int | None
    placed_within_1_day: int | None
    placed_within_7_days: int | None
    placed_later: int | None
    never_placed: int | None
    unmet: int | None
    """Placed only after more than 7 days, or never (withdrawn): protected as one count."""
    median_hours_to_accept: int | None
    p90_hours_to_accept: int | None
    declined: dict[str, int | None]
    excluded: dict[str, int | None]
    """Hard rule (or kept_for_acute, the acute price) -> units it excluded, summed over the waiting requests
    of each day."""
    waiting: int | None
    places_free: int | None
    places_stale: int | None


class DemandFigures(msgspec.Struct, frozen=True):
    period: str
    start: dt.date
    end: dt.date
    suppressed_below: int
    rounded_to: int
    method: str
    cells: list[DemandCell]


def period_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return day


def next_start(start: dt.date, period: str) -> dt.date:
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(days=7)
    if period == "month":
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start.replace(year=start.year + 1)


def period_starts(start: dt.date, end: dt.date, period: str) -> list[dt.date]:
    out, at = [], period_start(start, period)
    while at <= end:
        out.append(at)
        at = next_start(at, period)
    return out


def check(period: str, start: dt.date, end: dt.date, county: str | None, need: str | None,
          counties: dict[str, str], today: dt.date) -> list[dt.date]:
    """The whole calendar periods asked for; BadFigureRequest (with the allowed values) otherwise."""
    if period not in PERIODS:
        raise BadFigureRequest("Unknown period.", allowed_periods=list(PERIODS))
    if county is not None and county not in counties:
        raise BadFigureRequest("Unknown county.", allowed_counties=sorted(counties))
    if need is not None and need not in NEEDS:
        raise BadFigureRequest("Unknown need.", allowed_needs=list(NEEDS))
    if not EARLIEST <= start <= end <= today:
        raise BadFigureRequest("The dates are out of range: start <= end, both within the allowed range.",
                               earliest=EARLIEST.isoformat(), latest=today.isoformat())
    starts = period_starts(start, end, period)
    if len(starts) > MAX_PERIODS[period]:
        raise BadFigureRequest(f"At most {MAX_PERIODS[period]} periods of one {period} per request.",
                               max_periods=MAX_PERIODS[period])
    if len(starts) * (1 if county else len(counties)) * (1 if need else len(NEEDS)) > MAX_CELLS:
        raise BadFigureRequest(f"More than {MAX_CELLS} cells: choose a county or a need, or a longer period.",
                               max_cells=MAX_CELLS)
    return starts


def quantile(histogram: dict[int, int], fraction: float) -> int | None:
    """The smallest value with at least `fraction` of the values at or below it (percentile_disc),
    published only for enough values."""
    n = sum(histogram.values())
    if not enough_for_a_quantile(n):
        return None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= fraction * n:
            return value
    return None


def cell(start: dt.date, code: str, name: str, need: str, days: int, figures: dict[str, int]) -> DemandCell:
    hours = {int(m.split(":")[1]): v for m, v in figures.items() if m.startswith("hours_to_accept:")}
    return DemandCell(
        start, code, name, need, days,
        suppress(figures.get("requests_filed", 0)),
        *(suppress(figures.get(o, 0)) for o in OUTCOMES),
        suppress(figures.get("placed_later", 0) + figures.get("never_placed", 0)),
        quantile(hours, 0.5), quantile(hours, 0.9),
        {r: suppress(figures.get("declined:" + r, 0)) for r in DECLINE_REASONS},
        {r: suppress(figures.get("excluded:" + r, 0)) for r in EXCLUSION_NAMES},
        **{m: suppress(figures.get(m, 0)) for m in LAST_DAY_MEASURES},
    )


async def counties(db: asyncpg.Connection) -> dict[str, str]:
    return {r["code"]: r["name"] for r in await db.fetch("select code, name from county order by code")}


async def figures(db: asyncpg.Connection, period: str, start: dt.date, end: dt.date, county: str | None,
                  need: str | None, now: dt.datetime) -> DemandFigures:
    names = await counties(db)
    starts = check(period, start, end, county, need, names, local_date(now))
    first, last = starts[0], next_start(starts[-1], period) - dt.timedelta(days=1)
    stored: dict[tuple, dict[str, int]] = defaultdict(dict)
    for r in await db.fetch(PERIOD_FIGURES, period, first, last, county, need, list(LAST_DAY_MEASURES)):
        stored[(r["period_start"], r["county_code"], r["need"])][r["measure"]] = r["value"]
    covered = {r["p"]: r["n"] for r in await db.fetch(
        "select date_trunc($1::text, day::timestamp)::date as p, count(*)::int as n from demand_snapshot_day "
        "where day between $2 and $3 group by 1", period, first, last)}
    cells = [cell(s, code, names[code], n, covered.get(s, 0), stored.get((s, code, n), {}))
             for s in starts for code in ([county] if county else names) for n in ([need] if need else NEEDS)]
    return DemandFigures(period, first, last, SUPPRESS_BELOW, ROUND_TO, METHOD, cells)


def as_csv(result: DemandFigures) -> str:
    """The same table, one line per cell; withheld counts are empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    flat = ["period_start", "county_code", "county_name", "need", "days_covered", "requests_filed", *OUTCOMES,
            "unmet", "median_hours_to_accept", "p90_hours_to_accept", *("declined_" + r for r in DECLINE_REASONS),
            *("excluded_" + r for r in EXCLUSION_NAMES), *LAST_DAY_MEASURES]
    writer.writerow(["period", *flat])
    for c in result.cells:
        values = [c.period_start, c.county_code, c.county_name, c.need, c.days_covered, c.requests_filed,
                  c.placed_within_1_day, c.placed_within_7_days, c.placed_later, c.never_placed,
                  c.unmet, c.median_hours_to_accept, c.p90_hours_to_accept, *c.declined.values(), *c.excluded.values(),
                  *(getattr(c, m) for m in LAST_DAY_MEASURES)]
        writer.writerow([result.period, *("" if v is None else v for v in values)])
    return out.getvalue()
