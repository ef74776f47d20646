"""National follow-up: aggregate, non-identifying figures and audit metadata. Never case content,
never addresses; every count between 1 and 4 is suppressed (shown as null) so small numbers cannot
point at a person."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import NATIONAL_FOLLOWUP
from skyddat_boende.objects import audited
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit
from skyddat_boende.problems import problem_responses

SUPPRESS_BELOW = 5
FOLLOW_UP = secured(roles=[NATIONAL_FOLLOWUP], scopes=["statistics:read"])

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


class AuditMetadata(msgspec.Struct, frozen=True):
    seq: int
    occurred_at: dt.datetime
    actor_organisation: str | None
    actor_role: str | None
    action: str
    object_type: str
    outcome: str


def suppress(n: int) -> int | None:
    return None if 0 < n < SUPPRESS_BELOW else n


class StatisticsController(Controller):
    tags = ["national follow-up"]

    @get("/statistics", summary="Waiting, offered and placed households and free places by county",
         description=f"Counts from 1 to {SUPPRESS_BELOW - 1} are null (suppressed).",
         responses=problem_responses(401, 403, 429), **FOLLOW_UP)
    async def statistics(self, db: Db, request: Request) -> Statistics:
        rows = await db.fetch(BY_COUNTY, request.app.state.settings.stale_after_hours)
        figures = [
            CountyFigures(r["code"], r["name"], *(suppress(r[k]) for k in
                                                  ("waiting", "offered", "placed", "units_free", "units_stale")))
            for r in rows
        ]
        return Statistics(dt.datetime.now(dt.timezone.utc), SUPPRESS_BELOW, figures)

    @get("/audit-events", summary="Audit metadata: who (organisation, role) did what kind of thing, when",
         description="No subjects, no object ids, no content. Newest first; page with before_seq.",
         responses=problem_responses(400, 401, 403, 429), **FOLLOW_UP)
    async def audit_events(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT,
        before_seq: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
    ) -> list[AuditMetadata]:
        rows = await db.fetch(
            """select seq, occurred_at, actor_organisation, actor_role, action, object_type, outcome
                 from audit_event where ($1::bigint is null or seq < $1) order by seq desc limit $2""",
            before_seq, limit,
        )
        await audited(db, request, "audit_event", None, outcome="allowed")
        return [AuditMetadata(**dict(r)) for r in rows]
