"""Aggregate figures for national follow-up: counts by county, every count from 1 to 4 suppressed (None)
and every other count rounded down to a multiple of 5 (statistics/disclosure.py), from a snapshot taken
at most once an hour, so that neither small numbers nor differences between two reads can point at a
person. Used by the API and the follow-up page."""

from __future__ import annotations

import datetime as dt

import asyncpg
import msgspec

from skyddat_boende.statistics.disclosure import SUPPRESS_BELOW, suppress

__all__ = ["SUPPRESS_BELOW", "Statistics", "by_county", "snapshot", "suppress"]

SNAPSHOT_MAX_AGE = dt.timedelta(hours=1)

BY_COUNTY = """
with requests as (
    select left(o.municipality_code, 2) as county, r.status, count(*) as n
      from placement_request r join organisation o on o.id = r.municipality_id
     where r.status in ('waiting', 'offered', 'placed') group by 1, 2
), places as (
    select left(s.municipality_code, 2) as county,
           count(*) filter (where u.status = 'available' and u.beds_taken < u.beds) as units_free,
           count(*) filter (where u.status = 'available' and u.beds_taken < u.beds
                              and u.availability_confirmed_at < now() - make_interval(hours => $1)) as units_stale
      from unit u join shelter s on s.id = u.shelter_id group by 1
)
select c.code, c.name,
       coalesce((select n from requests q where q.county = c.code and q.status = 'waiting'), 0) as waiting,
       coalesce((select n from requests q where q.county = c.code and q.status = 'offered'), 0) as offered,
       coalesce((select n from requests q where q.county = c.code and q.status = 'placed'), 0) as placed,
       coalesce(p.units_free, 0) as units_free, coalesce(p.units_stale, 0) as units_stale
  from county c left join places p on p.county = c.code
 order by c.code
"""


class CountyFigures(msgspec.Struct, frozen=True):
    county_code: str
    county_name: str
    waiting: int | None
    offered: int | None
    placed: int | None
    units_free: int | None
    units_stale: int | None


class Statistics(msgspec.Struct, frozen=True):
    generated_at: dt.datetime
    suppressed_below: int
    by_county: list[CountyFigures]


async def by_county(db: asyncpg.Connection, stale_hours: int) -> Statistics:
    rows = await db.fetch(BY_COUNTY, stale_hours)
    figures = [
        CountyFigures(r["code"], r["name"], *(suppress(r[k]) for k in
                                              ("waiting", "offered", "placed", "units_free", "units_stale")))
        for r in rows
    ]
    return Statistics(dt.datetime.now(dt.timezone.utc), SUPPRESS_BELOW, figures)


async def snapshot(state, db: asyncpg.Connection, stale_hours: int) -> Statistics:
    """The figures as of this process's latest snapshot, refreshed when older than an hour."""
    current: Statistics | None = getattr(state, "statistics_snapshot", None)
    if current is None or dt.datetime.now(dt.timezone.utc) - current.generated_at > SNAPSHOT_MAX_AGE:
        current = await by_county(db, stale_hours)
        state.statistics_snapshot = current
    return current
