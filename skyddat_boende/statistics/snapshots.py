"""Daily snapshots of demand and supply per county and need (sql/0030), taken by the housekeeping job.

Two kinds of figure:
- *events* of a day (Europe/Stockholm calendar day): requests filed, placements accepted (by time from
  the request to the accepted offer: within 1 day, within 7 days, later, plus an hours histogram for the
  median and 90th percentile), requests withdrawn unplaced ("never"), offers declined by reason. They are
  counted again at every run until the day is over, then kept (final). Retention erases a closed case at
  the earliest 30 days after it closed (sql/0017), and a day is final the day after, so no figure ever
  depends on an erased row.
- *state* at the day's first run: free and stale places (units), waiting requests, and, summed over the
  requests that are waiting, the units each hard rule excluded in their latest match (the engine's
  "why no match" counts, matching/rules.py).

Only non-zero aggregate counts are stored, never a row per person. A request counts under 'all' and under
each of its needs (sql/0030, request_demand_need); a unit under each need it can meet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import asyncpg

ZONE = ZoneInfo("Europe/Stockholm")
NEEDS = ("all", "children", "older_boys", "wheelchair", "pets", "substance_use", "mental_illness",
         "intellectual_disability", "language", "men", "lgbtq", "young_adults", "honour_related",
         "high_security", "protected_identity")
OUTCOMES = ("placed_within_1_day", "placed_within_7_days", "placed_later", "never_placed")
DECLINE_REASONS = ("full", "cannot_meet_needs", "security_concern", "too_close_to_threat", "other")
LAST_DAY_MEASURES = ("places_free", "places_stale", "waiting")
"""State figures that a longer period reports as of its last snapshotted day (the others are summed)."""
STATE_KINDS = (*LAST_DAY_MEASURES, "excluded")
MAX_HOURS = 24 * 90
"""Times to an accepted offer above this are counted at this value (the tail needs no finer detail)."""
BACKFILL_DAYS = 7
"""Days whose events a run still (re)counts if they are not final: covers a worker that was down."""

EVENTS = """
with events (request_id, measure) as (
    select r.id, 'requests_filed' from placement_request r
     where (r.created_at at time zone 'Europe/Stockholm')::date = $1
    union all
    select p.request_id, unnest(array[
               case when p.accepted_at - r.created_at <= interval '1 day' then 'placed_within_1_day'
                    when p.accepted_at - r.created_at <= interval '7 days' then 'placed_within_7_days'
                    else 'placed_later' end,
               'hours_to_accept:' || least(floor(extract(epoch from p.accepted_at - r.created_at) / 3600), $2)::int])
      from placement p join placement_request r on r.id = p.request_id
     where (p.accepted_at at time zone 'Europe/Stockholm')::date = $1
    union all
    select r.id, 'never_placed' from placement_request r     -- only a waiting or offered request is withdrawn
     where r.status = 'withdrawn' and (r.updated_at at time zone 'Europe/Stockholm')::date = $1
    union all
    select o.request_id, 'declined:' || o.decline_reason from offer o
     where o.status = 'declined' and (o.answered_at at time zone 'Europe/Stockholm')::date = $1
)
select n.county_code, n.need, e.measure, count(*) as value
  from events e join request_demand_need n on n.request_id = e.request_id
 group by 1, 2, 3
"""

STATE = """
with free (unit_id, measure) as (
    select u.id, unnest(case when u.availability_confirmed_at < $1::timestamptz - make_interval(hours => $2)
                             then array['places_free', 'places_stale'] else array['places_free'] end)
      from unit u where u.status = 'available' and u.beds_taken < u.beds
)
select n.county_code, n.need, f.measure, count(*) as value
  from free f join unit_demand_need n on n.unit_id = f.unit_id group by 1, 2, 3
union all
select n.county_code, n.need, 'waiting', count(*)
  from placement_request r join request_demand_need n on n.request_id = r.id
 where r.status = 'waiting' group by 1, 2
union all
select n.county_code, n.need, 'excluded:' || x.key, sum(x.value::bigint)
  from placement_request r
  join request_demand_need n on n.request_id = r.id
  cross join lateral jsonb_each_text(coalesce(r.last_match -> 'excluded', '{}')) x
 where r.status = 'waiting' and jsonb_typeof(r.last_match -> 'excluded') = 'object' and x.value ~ '^[0-9]{1,12}$'
 group by 1, 2, 3
"""

STORE = """
insert into demand_snapshot (day, county_code, need, measure, value)
select $1, c, n, m, v from unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) as t (c, n, m, v) where v > 0
"""


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZONE).date()


async def _store(db: asyncpg.Connection, day: dt.date, rows: list[asyncpg.Record]) -> None:
    await db.execute(STORE, day, [r["county_code"] for r in rows], [r["need"] for r in rows],
                     [r["measure"] for r in rows], [r["value"] for r in rows])


async def count_events(db: asyncpg.Connection, day: dt.date, final: bool) -> None:
    await db.execute("delete from demand_snapshot where day = $1 and split_part(measure, ':', 1) <> all($2::text[])",
                     day, list(STATE_KINDS))
    await _store(db, day, await db.fetch(EVENTS, day, MAX_HOURS))
    await db.execute("""insert into demand_snapshot_day (day, events_final) values ($1, $2)
                        on conflict (day) do update set events_final = excluded.events_final""", day, final)


async def take_state(db: asyncpg.Connection, now: dt.datetime, stale_hours: int) -> bool:
    """The day's state figures, unless this day's were taken already. True if taken now."""
    day = local_date(now)
    taken = await db.fetchval("""insert into demand_snapshot_day (day, state_taken) values ($1, true)
                                 on conflict (day) do update set state_taken = true
                                 where not demand_snapshot_day.state_taken returning true""", day)
    if taken:
        await _store(db, day, await db.fetch(STATE, now, stale_hours))
    return bool(taken)


async def take(db: asyncpg.Connection, now: dt.datetime, stale_hours: int) -> None:
    """One housekeeping run: today's state (once a day), and the events of today and of any recent day
    not yet final, in one transaction."""
    today = local_date(now)
    async with db.transaction():
        final = {r["day"] for r in await db.fetch(
            "select day from demand_snapshot_day where events_final and day >= $1",
            today - dt.timedelta(days=BACKFILL_DAYS))}
        for back in range(BACKFILL_DAYS, -1, -1):
            day = today - dt.timedelta(days=back)
            if day not in final:
                await count_events(db, day, final=day < today)
        await take_state(db, now, stale_hours)


def housekeeping(stale_hours: int, clock: Callable[[], dt.datetime]) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    """The housekeeping step for the configured staleness and clock."""

    async def snapshot(db: asyncpg.Connection) -> None:
        await take(db, clock(), stale_hours)

    return snapshot
