"""Rules a request must not contradict; each breach is a 422 that names the fields, before anything is stored."""

from __future__ import annotations

import datetime as dt

import asyncpg

from skyddat_boende.placement_requests.schemas import RequestCreate
from skyddat_boende.problems import Problem

MAX_LEAD_DAYS = 365


class ContradictoryRequest(Problem):
    """`rule` (also in the response body) names which check failed; the web pages translate it."""

    status, slug, title = 422, "contradictory-request", "The request contradicts itself"


# the codes of both kinds that do not exist, counted in one round trip
UNKNOWN_CODES = """
select (select count(*) from unnest($1::text[]) c where not exists (select 1 from municipality m where m.code = c)),
       (select count(*) from unnest($2::text[]) c where not exists (select 1 from county k where k.code = c))
"""


async def check(db: asyncpg.Connection, data: RequestCreate, today: dt.date) -> None:
    codes = set(data.threat_municipalities) | set(data.excluded_municipalities)
    if data.preferred_near_municipality:
        codes.add(data.preferred_near_municipality)
    counties = set(data.excluded_counties) | set(data.preferred_counties)
    unknown, unknown_counties = (await db.fetchrow(UNKNOWN_CODES, sorted(codes), sorted(counties))
                                 if codes or counties else (0, 0))
    if unknown:
        raise ContradictoryRequest(f"{unknown} municipality code(s) do not exist.", rule="unknown_municipality", count=unknown)
    if unknown_counties:
        raise ContradictoryRequest(f"{unknown_counties} county code(s) do not exist.", rule="unknown_county",
                                   count=unknown_counties)
    _check_fields(data, today)
    if data.min_distance_km:
        farthest = await db.fetchval(
            """select max(nearest) from (
                   select min(distance_km(t.latitude, t.longitude, m.latitude, m.longitude)) as nearest
                     from municipality m, municipality t where t.code = any($1::text[]) group by m.code) d""",
            data.threat_municipalities,
        )
        if data.min_distance_km > farthest:
            raise ContradictoryRequest(
                f"min_distance_km is {data.min_distance_km} km, but no municipality in Sweden is farther than "
                f"{farthest:.0f} km from the threat areas.",
                rule="min_distance_beyond_sweden", km=data.min_distance_km, farthest_km=round(farthest),
            )


def _check_fields(data: RequestCreate, today: dt.date) -> None:
    if data.min_distance_km and not data.threat_municipalities:
        raise ContradictoryRequest("min_distance_km needs at least one threat municipality.", rule="distance_without_threat")
    if data.max_distance_km is not None and data.preferred_near_municipality is None:
        raise ContradictoryRequest("max_distance_km needs preferred_near_municipality.", rule="max_distance_without_place")
    if data.preferred_near_municipality in set(data.threat_municipalities) | set(data.excluded_municipalities):
        raise ContradictoryRequest("preferred_near_municipality is also a threat or excluded municipality.",
                                   rule="preferred_place_excluded")
    if data.require_staff_language and not set(data.languages) - {"sv"}:
        raise ContradictoryRequest("require_staff_language needs a language other than Swedish in languages.",
                                   rule="required_language_missing")
    if set(data.preferred_counties) & set(data.excluded_counties):
        raise ContradictoryRequest("a county is both preferred and excluded.", rule="county_preferred_and_excluded")
    if data.latest_start_date < today:
        raise ContradictoryRequest("latest_start_date is in the past.", rule="start_in_the_past")
    if data.latest_start_date > today + dt.timedelta(days=MAX_LEAD_DAYS):
        raise ContradictoryRequest(f"latest_start_date is more than {MAX_LEAD_DAYS} days ahead.", rule="start_too_far_ahead",
                                   days=MAX_LEAD_DAYS)
    references = [c.decision_reference for c in data.children]
    if len(set(references)) != len(references):
        raise ContradictoryRequest("two children share a decision_reference; each child has its own decision.",
                                   rule="shared_decision_reference")
