"""Database rows in, engine types out: the only place that knows both the schema and `matching`."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable

import asyncpg

from matching.fast_track import FastTrack
from matching.generate import generate_requests
from matching.lookahead import HISTORY_DAYS, HORIZON_DAYS, MIN_HISTORY, PROFILES, AcuteDemand, from_history, priced
from matching.rules import tried_after
from matching.types import Adult, Child, FastTrackResult, Household, Municipality, Needs, Offer, Request, Unit

# free beds: a shareable unit has its beds less those taken and those held by open offers; any other
# unit is whole or nothing (sql/0018 holds the same rule when an offer is written)
AVAILABLE_UNITS = """
with held as (select unit_id, sum(beds)::int as beds from offer where status = 'open' group by unit_id),
free as (
    select u.*, case when u.shareable then u.beds - u.beds_taken - coalesce(h.beds, 0)
                     when u.beds_taken = 0 and h.beds is null then u.beds else 0 end as free_beds
      from unit u left join held h on h.unit_id = u.id
     where u.status = 'available')
select u.id, u.shelter_id, s.municipality_code, s.target_groups, s.security_level, s.protected_data_capability,
       u.free_beds, greatest(u.available_from, current_date) as available_from, s.daily_rate_sek, u.shareable,
       s.features, s.staff_languages, s.max_age_boys, s.max_age_girls, s.daily_intake_limit,
       u.availability_confirmed_at < now() - make_interval(hours => $1) as stale,
       u.version, u.beds_taken, s.version as shelter_version
  from free u join shelter s on s.id = u.shelter_id
 where u.free_beds > 0
 order by u.id
"""

# an open offer on a whole (non-shareable) unit holds it; on a shareable unit it holds only its beds,
# which free_beds above already leaves out
OPEN_OFFERS = """
select o.request_id, o.unit_id from offer o join unit u on u.id = o.unit_id
 where o.status = 'open' and not u.shareable
"""

# households a shelter has taken in today (accepted placements) or is about to (open offers)
INTAKE_TODAY = """
select u.shelter_id, count(*)::int as used
  from (select unit_id from placement where accepted_at >= date_trunc('day', now())
        union all select unit_id from offer where status = 'open') t
  join unit u on u.id = t.unit_id
 group by u.shelter_id
"""

REQUEST_ROWS = """
select r.*,
       coalesce((select json_agg(json_build_object('gender', a.gender, 'age', a.age) order by a.position)
                   from request_adult a where a.request_id = r.id), '[]') as adults,
       coalesce((select json_agg(json_build_object('gender', c.gender, 'age', c.age,
                                                   'decision_reference', c.decision_reference) order by c.position)
                   from request_child c where c.request_id = r.id), '[]') as children
  from placement_request r
"""


# what a request's earlier offers ruled out (matching.rules, rule "already_tried")
TRIED_OFFERS = """
select o.request_id, o.unit_id, u.shelter_id, o.decline_reason
  from offer o join unit u on u.id = o.unit_id
 where o.request_id = any($1::uuid[]) and o.status in ('declined', 'expired')
"""

SEEN = """
select count(*) from placement_request where urgency = $2 and created_at >= now() - make_interval(days => $1)
"""

Tried = tuple[frozenset[str], frozenset[str]]
NOTHING_TRIED: Tried = (frozenset(), frozenset())


class Availability:
    """One snapshot of what can be offered: engine units split fresh/stale, holds and intake."""

    def __init__(self, fresh: list[Unit], stale: list[Unit], open_offers: list[Offer], intake_used: dict[str, int]):
        self.fresh = fresh
        self.stale = stale
        self.open_offers = open_offers
        self.intake_used = intake_used

    @property
    def units(self) -> list[Unit]:
        return self.fresh + self.stale

    def top(self, request: Request, n: int) -> list[FastTrackResult]:
        """Fast-track over the fresh units, then over the stale ones (empty groups left out)."""
        return [FastTrack(units, today=today(), open_offers=self.open_offers, intake_used=self.intake_used).top(request, n)
                for units in (self.fresh, self.stale) if units]

    async def offerable(self, db: asyncpg.Connection, unit_ids: list[str], beds: int) -> list[str]:
        """The candidates worth trying, in the engine's order. Read in the offer's own transaction: all of
        them (matchmaking/snapshot.py leaves out those held or changed since its build)."""
        return unit_ids

    async def still_offerable(self, db: asyncpg.Connection, unit_id: str, *, wait: bool = True) -> bool:
        """Read in the offer's own transaction: nothing to re-check (matchmaking/snapshot.py re-checks)."""
        return True


async def municipalities(db: asyncpg.Connection) -> dict[str, Municipality]:
    rows = await db.fetch("select code, county_code, latitude, longitude from municipality")
    return {r["code"]: Municipality(r["code"], r["county_code"], r["latitude"], r["longitude"]) for r in rows}


async def availability(db: asyncpg.Connection, places: dict[str, Municipality], stale_hours: int) -> Availability:
    """Every free unit, each with the acute demand it can expect (matching.lookahead): fast-track and
    the batch read the same snapshot, so they keep the same units for acute arrivals."""
    rows = await db.fetch(AVAILABLE_UNITS, stale_hours)
    units = priced([unit_from_row(row, places) for row in rows], await acute_demand(db, places), today(),
                   await acute_demand(db, places, "days"))
    fresh = [u for u, row in zip(units, rows) if not row["stale"]]
    stale = [u for u, row in zip(units, rows) if row["stale"]]
    offers = [Offer(str(r["request_id"]), str(r["unit_id"])) for r in await db.fetch(OPEN_OFFERS)]
    intake = {str(r["shelter_id"]): r["used"] for r in await db.fetch(INTAKE_TODAY)}
    return Availability(fresh, stale, offers, intake)


async def acute_demand(db: asyncpg.Connection, places: dict[str, Municipality],
                       urgency: str = "acute") -> AcuteDemand | None:
    """The acute arrivals to expect (or with urgency="days", the "days" arrivals, which planned
    households pay for): the rate of the last HISTORY_DAYS, and the mix of those requests (the
    generator's mix while there are fewer than MIN_HISTORY). None: none came."""
    seen = await db.fetchval(SEEN, HISTORY_DAYS, urgency)
    recent, generated = (), ()
    if seen and seen < MIN_HISTORY:
        generated = _generated(places, urgency)
    elif seen:
        rows = await request_rows(db, "r.urgency = $2 and r.created_at >= now() - make_interval(days => $1)",
                                  HISTORY_DAYS, urgency, page=f"limit {PROFILES}")
        recent = tuple(request_from_row(r, places) for r in rows)
    # the same rule as the simulation's (bench/simulate.py): the policy measured is the policy deployed
    return from_history(seen, recent, generated, HORIZON_DAYS)


@functools.cache
def _generated_for(places: tuple[Municipality, ...], urgency: str) -> tuple[Request, ...]:
    requests = generate_requests(places, PROFILES, seed=0)
    return tuple(r for r in requests if r.urgency == urgency)


def _generated(places: dict[str, Municipality], urgency: str) -> tuple[Request, ...]:
    return _generated_for(tuple(sorted(places.values(), key=lambda m: m.code)), urgency)


def unit_from_row(row: asyncpg.Record, places: dict[str, Municipality]) -> Unit:
    return Unit(
        id=str(row["id"]),
        shelter_id=str(row["shelter_id"]),
        municipality=places[row["municipality_code"]],
        target_groups=frozenset(row["target_groups"]),
        security_level=row["security_level"],
        protected_data_capability=row["protected_data_capability"],
        beds=row["free_beds"],
        available_from=row["available_from"],
        daily_rate=row["daily_rate_sek"],
        shared=row["shareable"],
        features=frozenset(row["features"]),
        languages=frozenset(row["staff_languages"]),
        max_age_boys=row["max_age_boys"],
        max_age_girls=row["max_age_girls"],
        daily_intake_limit=row["daily_intake_limit"],
    )


async def request_rows(db: asyncpg.Connection, where: str, *args, page: str = "") -> list[asyncpg.Record]:
    """Requests with their household; `where` and `page` (limit/offset) are SQL written in this package."""
    return await db.fetch(f"{REQUEST_ROWS} where {where} order by r.waiting_since, r.id {page}", *args)


async def tried(db: asyncpg.Connection, request_ids: Iterable[uuid.UUID | str]) -> dict[str, Tried]:
    """Per request: (tried unit ids, excluded shelter ids) from its declined and expired offers."""
    answers: dict[str, list[tuple[str, str, str | None]]] = {}
    for r in await db.fetch(TRIED_OFFERS, [uuid.UUID(str(i)) for i in request_ids]):
        answers.setdefault(str(r["request_id"]), []).append(
            (str(r["unit_id"]), str(r["shelter_id"]), r["decline_reason"]))
    return {request_id: tried_after(rows) for request_id, rows in answers.items()}


def request_from_row(row: asyncpg.Record, places: dict[str, Municipality], tried: Tried = NOTHING_TRIED) -> Request:
    needs = set(row["needs"])
    household = Household(
        adults=tuple(Adult(a["gender"], a["age"]) for a in row["adults"]),
        children=tuple(Child(c["age"], c["gender"]) for c in row["children"]),
        needs=Needs(
            wheelchair="wheelchair" in needs, pets="pets" in needs, substance_use="substance_use" in needs,
            mental_illness="mental_illness" in needs, intellectual_disability="intellectual_disability" in needs,
            languages=tuple(row["languages"]), lgbtq=row["lgbtq"], honour_related=row["honour_related"],
            require_honour_competence=row["require_honour_competence"], require_languages=row["require_staff_language"],
        ),
        protected_data=row["protected_data_level"],
    )
    near = row["preferred_near_municipality"]
    return Request(
        id=str(row["id"]),
        household=household,
        waiting_since=row["waiting_since"].date(),
        urgency=row["urgency"],
        security_level=row["security_level_needed"],
        excluded_municipalities=tuple(row["excluded_municipalities"]),
        excluded_counties=tuple(row["excluded_counties"]),
        threats=tuple(places[c] for c in row["threat_municipalities"]),
        min_distance_km=float(row["min_distance_km"]),
        latest_start=row["latest_start_date"],
        preferred_counties=tuple(row["preferred_counties"]),
        near=places[near] if near else None,
        max_distance_km=float(row["max_distance_km"]) if row["max_distance_km"] else None,
        max_daily_rate=row["max_daily_rate_sek"],
        tried_unit_ids=tried[0],
        excluded_shelter_ids=tried[1],
    )


def today() -> dt.date:
    return dt.date.today()

