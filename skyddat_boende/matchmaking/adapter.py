"""Database rows in, engine types out: the only place that knows both the schema and `matching`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import asyncpg

from matching.types import Adult, Child, Household, Municipality, Needs, Offer, Request, Unit

# free beds: a shareable unit has beds - beds_taken; any other unit is whole or nothing
AVAILABLE_UNITS = """
select u.id, u.shelter_id, s.municipality_code, s.target_groups, s.security_level, s.protected_data_capability,
       case when u.shareable then u.beds - u.beds_taken when u.beds_taken = 0 then u.beds else 0 end as free_beds,
       greatest(u.available_from, current_date) as available_from, s.daily_rate_sek, u.shareable, s.features,
       s.staff_languages, s.max_age_boys, s.max_age_girls, s.daily_intake_limit,
       u.availability_confirmed_at < now() - make_interval(hours => $1) as stale
  from unit u join shelter s on s.id = u.shelter_id
 where u.status = 'available'
   and (case when u.shareable then u.beds - u.beds_taken when u.beds_taken = 0 then u.beds else 0 end) > 0
 order by u.id
"""

OPEN_OFFERS = "select request_id, unit_id from offer where status = 'open'"

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

    def without(self, unit_ids: Iterable[str]) -> Availability:
        skip = set(unit_ids)
        return Availability([u for u in self.fresh if u.id not in skip], [u for u in self.stale if u.id not in skip],
                            self.open_offers, self.intake_used)


async def municipalities(db: asyncpg.Connection) -> dict[str, Municipality]:
    rows = await db.fetch("select code, county_code, latitude, longitude from municipality")
    return {r["code"]: Municipality(r["code"], r["county_code"], r["latitude"], r["longitude"]) for r in rows}


async def availability(db: asyncpg.Connection, places: dict[str, Municipality], stale_hours: int) -> Availability:
    fresh, stale = [], []
    for row in await db.fetch(AVAILABLE_UNITS, stale_hours):
        (stale if row["stale"] else fresh).append(unit_from_row(row, places))
    offers = [Offer(str(r["request_id"]), str(r["unit_id"])) for r in await db.fetch(OPEN_OFFERS)]
    intake = {str(r["shelter_id"]): r["used"] for r in await db.fetch(INTAKE_TODAY)}
    return Availability(fresh, stale, offers, intake)


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


def request_from_row(row: asyncpg.Record, places: dict[str, Municipality]) -> Request:
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
    )


def today() -> dt.date:
    return dt.date.today()

