"""Aggregate figures for national follow-up: counts by county, every count from 1 to 4 suppressed (None)
and every other count rounded down to a multiple of 5 (statistics/disclosure.py), from a snapshot taken
at most once an hour, so that neither small numbers nor differences between two reads can point at a
person. Used by the API and the follow-up page."""

from __future__ import annotations

import datetime as dt

import asyncpg
import msgspec

from skyddat_boende.statistics.disclosure import SUPPRESS_BELOW, enough_for_a_quantile, suppress

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
), onward as (
    -- onward housing (issue 24), by the requesting municipality's county: households waiting for a home,
    -- moves from a shelter, the shelter beds those moves freed, and the median days from placement to move
    select left(o.municipality_code, 2) as county,
           count(*) filter (where r.status in ('waiting', 'offered')) as onward_waiting,
           count(p.id) filter (where r.status = 'moved_in') as onward_moves,
           coalesce(sum(p.beds) filter (where r.status = 'moved_in'), 0) as beds_freed,
           percentile_cont(0.5) within group (order by extract(epoch from r.moved_in_at - p.accepted_at) / 86400)
               filter (where r.status = 'moved_in' and p.id is not null) as median_days
      from onward_request r join organisation o on o.id = r.municipality_id
      left join placement p on p.id = r.placement_id
     group by 1
)
select c.code, c.name,
       coalesce((select n from requests q where q.county = c.code and q.status = 'waiting'), 0) as waiting,
       coalesce((select n from requests q where q.county = c.code and q.status = 'offered'), 0) as offered,
       coalesce((select n from requests q where q.county = c.code and q.status = 'placed'), 0) as placed,
       coalesce(p.units_free, 0) as units_free, coalesce(p.units_stale, 0) as units_stale,
       coalesce(w.onward_waiting, 0) as onward_waiting, coalesce(w.onward_moves, 0) as onward_moves,
       coalesce(w.beds_freed, 0) as beds_freed, w.median_days
  from county c left join places p on p.county = c.code left join onward w on w.county = c.code
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
    onward_waiting: int | None = 0
    """Onward requests (issue 24) waiting for a home or holding an offer."""
    beds_freed_by_onward_moves: int | None = 0
    """Shelter beds freed by households that moved on to a home."""
    median_days_to_onward_move: int | None = None
    """Median whole days from the shelter placement to the move to a home; null for fewer than
    SUPPRESS_BELOW moves (a median of one or two moves is one household's story)."""


class Statistics(msgspec.Struct, frozen=True):
    generated_at: dt.datetime
    suppressed_below: int
    by_county: list[CountyFigures]


def _median_days(moves: int, median: float | None) -> int | None:
    return round(median) if median is not None and enough_for_a_quantile(moves) else None


async def by_county(db: asyncpg.Connection, stale_hours: int) -> Statistics:
    rows = await db.fetch(BY_COUNTY, stale_hours)
    figures = [
        CountyFigures(r["code"], r["name"], *(suppress(r[k]) for k in
                                              ("waiting", "offered", "placed", "units_free", "units_stale")),
                      onward_waiting=suppress(r["onward_waiting"]), beds_freed_by_onward_moves=suppress(r["beds_freed"]),
                      median_days_to_onward_move=_median_days(r["onward_moves"], r["median_days"]))
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
