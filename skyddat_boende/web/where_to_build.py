"""The "where to build" part of the follow-up page: per county, the needs most often unmet last month and
the unmet trend over the last 12 months, from the published demand figures (statistics/demand.py), so the
page shows nothing the API does not: every count has passed the disclosure control. The rate per
100,000 inhabitants is computed from the published count of the last whole month, never from raw rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from skyddat_boende.statistics import demand, population
from skyddat_boende.statistics.snapshots import local_date

MONTHS = 12
TOP_NEEDS = 3


@dataclass(frozen=True)
class CountyDemand:
    code: str
    name: str
    top_needs: list[tuple[str, int]]
    """(need, unmet households) last month, largest first; withheld and zero counts left out."""
    trend: list[int | None]
    """Unmet households (all needs) per month, oldest first; None where withheld."""
    unmet_last_month: int | None
    per_100k: float | None
    """unmet_last_month per 100,000 inhabitants of the county; None where withheld."""


@dataclass(frozen=True)
class WhereToBuild:
    months: list[dt.date]
    last_month: dt.date
    counties: list[CountyDemand]
    largest: int


async def where_to_build(db: asyncpg.Connection, now: dt.datetime) -> WhereToBuild:
    today = local_date(now)
    back = today.year * 12 + today.month - 1 - (MONTHS - 1)
    first = dt.date(back // 12, back % 12 + 1, 1)
    figures = await demand.figures(db, "month", first, today, None, None, now)
    months = demand.period_starts(first, today, "month")
    last_month = months[-2] if len(months) > 1 else months[-1]
    cells = {(c.period_start, c.county_code, c.need): c for c in figures.cells}
    names = await demand.counties(db)
    counties = []
    for code, name in names.items():
        top = sorted(((c.need, c.unmet) for c in (cells[(last_month, code, n)] for n in demand.NEEDS[1:])
                      if c.unmet), key=lambda pair: -pair[1])[:TOP_NEEDS]
        unmet = cells[(last_month, code, "all")].unmet
        counties.append(CountyDemand(code, name, top, [cells[(m, code, "all")].unmet for m in months],
                                     unmet, population.per_100k(unmet, code)))
    largest = max([v or 0 for c in counties for v in c.trend] + [5])
    return WhereToBuild(months, last_month, counties, largest)
