"""National follow-up: aggregate, non-identifying figures and audit metadata. Never case content,
never addresses; every count between 1 and 4 is suppressed (shown as null) so small numbers cannot
point at a person."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromQuery, Parameter

from skyddat_boende import audit
from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import NATIONAL_FOLLOWUP
from skyddat_boende.objects import audited
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit
from skyddat_boende.problems import problem_responses
from skyddat_boende.statistics import demand, repository
from skyddat_boende.statistics.demand import DemandFigures
from skyddat_boende.statistics.repository import SUPPRESS_BELOW, Statistics

FOLLOW_UP = secured(roles=[NATIONAL_FOLLOWUP], scopes=["statistics:read"])
AUDIT_METADATA = secured(roles=[NATIONAL_FOLLOWUP], scopes=["audit:read"])


class AuditMetadata(msgspec.Struct, frozen=True):
    seq: int
    occurred_on: dt.date
    """The day only: exact times could link one organisation's action to another's."""
    actor_organisation: str | None
    actor_role: str | None
    action: str
    object_type: str
    outcome: str


DEFAULT_SPAN_DAYS = {"day": 30, "week": 84, "month": 334, "year": 4 * 366}
DEMAND_DESCRIPTION = (
    "Per whole calendar period (day, week, month or year; weeks start on Monday, Europe/Stockholm days), "
    "county of the placing municipality (requests) or of the shelter (places), and need ('all' or one need). "
    "From the daily snapshots: events are summed over the period's days; waiting requests and free and stale "
    "places are as of the period's last snapshotted day. Counts from 1 to 4 are null, the rest rounded down "
    "to multiples of 5; medians and 90th percentiles (hours from request to accepted offer) need 5 placements. "
    "start defaults to a span before end, end to today. Method: docs/statistics.md.")


async def _demand(db, request: Request, period: str, start: dt.date | None, end: dt.date | None,
                  county: str | None, need: str | None) -> DemandFigures:
    now = dt.datetime.now(dt.timezone.utc)
    end = end or demand.local_date(now)
    start = start or end - dt.timedelta(days=DEFAULT_SPAN_DAYS.get(period, 0))
    return await demand.figures(db, period, start, end, county, need, now)


class StatisticsController(Controller):
    tags = ["national follow-up"]

    @get("/statistics", summary="Waiting, offered and placed households and free places by county",
         description=f"Counts from 1 to {SUPPRESS_BELOW - 1} are null (suppressed); the rest are rounded "
                     "down to multiples of 5, from an hourly snapshot (generated_at).",
         responses=problem_responses(401, 403, 429), **FOLLOW_UP)
    async def statistics(self, db: Db, request: Request) -> Statistics:
        return await repository.snapshot(request.app.state, db, request.app.state.settings.stale_after_hours)

    @get("/statistics/demand", summary="Demand and supply by period, county and need (where to build more)",
         description=DEMAND_DESCRIPTION, responses=problem_responses(400, 401, 403, 429), **FOLLOW_UP)
    async def demand(
        self, db: Db, request: Request, period: FromQuery[str] = "month", start: FromQuery[dt.date | None] = None,
        end: FromQuery[dt.date | None] = None, county: FromQuery[str | None] = None,
        need: FromQuery[str | None] = None,
    ) -> DemandFigures:
        return await _demand(db, request, period, start, end, county, need)

    @get("/statistics/demand.csv", summary="The same figures as CSV (one line per cell; withheld counts empty)",
         description=DEMAND_DESCRIPTION, media_type="text/csv; charset=utf-8",
         responses=problem_responses(400, 401, 403, 429), **FOLLOW_UP)
    async def demand_csv(
        self, db: Db, request: Request, period: FromQuery[str] = "month", start: FromQuery[dt.date | None] = None,
        end: FromQuery[dt.date | None] = None, county: FromQuery[str | None] = None,
        need: FromQuery[str | None] = None,
    ) -> Response[str]:
        figures = await _demand(db, request, period, start, end, county, need)
        return Response(demand.as_csv(figures), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="demand-{figures.period}-{figures.start}-{figures.end}.csv"'})

    @get("/audit-events", summary="Audit metadata: who (organisation, role) did what kind of thing, when",
         description="No subjects, no object ids, no content, and the day rather than the time. Newest first; "
                     "page with before_seq.",
         responses=problem_responses(400, 401, 403, 429), **AUDIT_METADATA)
    async def audit_events(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT,
        before_seq: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
    ) -> list[AuditMetadata]:
        await audit.chain_pending(db)  # so that the page shows every committed event
        rows = await db.fetch(
            """select seq, (occurred_at at time zone 'Europe/Stockholm')::date as occurred_on, actor_organisation,
                      actor_role, action, object_type, outcome
                 from audit_event where ($1::bigint is null or seq < $1) order by seq desc limit $2""",
            before_seq, limit,
        )
        audited(request, "audit_event", None, outcome="allowed")
        return [AuditMetadata(**dict(r)) for r in rows]
