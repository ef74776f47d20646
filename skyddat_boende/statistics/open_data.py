"""Open data: today's free places per county and need, for anyone, without an account.

Counts only, through the same disclosure control as every published figure (statistics/disclosure.py),
from the day's snapshot (statistics/snapshots.py): no shelter, unit or municipality, no time finer than
the day. Served outside `/api` because it takes no token, but each client address is held to the same
per-address rate limit as `/api`, and the answer is cacheable (Cache-Control, ETag, 304 on If-None-Match)
so that dashboards and caches in front of the service carry the load. Format: docs/statistics.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler

from skyddat_boende.dependencies import Db
from skyddat_boende.problems import problem_responses
from skyddat_boende.statistics.demand import METHOD
from skyddat_boende.statistics.disclosure import ROUND_TO, SUPPRESS_BELOW, suppress
from skyddat_boende.statistics.snapshots import NEEDS, local_date

MAX_AGE_SECONDS = 600
"""As long as a housekeeping run: the figures change at most once a day, when the day's snapshot is taken."""
LICENCE = "CC0-1.0"

LATEST = """
select d.day, c.code, c.name, n.need,
       coalesce((select s.value from demand_snapshot s where s.day = d.day and s.county_code = c.code
                   and s.need = n.need and s.measure = 'places_free'), 0) as free,
       coalesce((select s.value from demand_snapshot s where s.day = d.day and s.county_code = c.code
                   and s.need = n.need and s.measure = 'places_stale'), 0) as stale
  from (select max(day) as day from demand_snapshot_day where state_taken and day <= $1) d
  cross join county c cross join unnest($2::text[]) with ordinality as n (need, position)
 where d.day is not null
 order by c.code, n.position
"""


class FreePlaces(msgspec.Struct, frozen=True):
    county_code: str
    county_name: str
    need: str
    free_places: int | None
    """Units with a free bed, able to take a household with this need; null when 1 to 4."""
    stale_places: int | None
    """Of those, units whose availability was not confirmed within the staleness limit."""


class OpenFreePlaces(msgspec.Struct, frozen=True):
    day: dt.date | None
    """The day the figures were taken (Europe/Stockholm), null before the first snapshot."""
    suppressed_below: int
    rounded_to: int
    licence: str
    method: str
    needs: list[str]
    rows: list[FreePlaces]


async def free_places(db: asyncpg.Connection, today: dt.date) -> OpenFreePlaces:
    rows = await db.fetch(LATEST, today, list(NEEDS))
    day = rows[0]["day"] if rows else None
    return OpenFreePlaces(day, SUPPRESS_BELOW, ROUND_TO, LICENCE, METHOD, list(NEEDS), [
        FreePlaces(r["code"], r["name"], r["need"], suppress(r["free"]), suppress(r["stale"])) for r in rows])


def as_csv(figures: OpenFreePlaces) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["day", "county_code", "county_name", "need", "free_places", "stale_places"])
    for r in figures.rows:
        writer.writerow([figures.day, r.county_code, r.county_name, r.need,
                         *("" if v is None else v for v in (r.free_places, r.stale_places))])
    return out.getvalue()


async def rate_limited(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The per-address limit of `/api`, for callers who have no token to be counted by."""
    host = connection.client.host if connection.client else None
    wait = await connection.app.state.rate_limiter.address_wait(host)
    if wait:
        raise TooManyRequestsException("Too many requests.", headers={"Retry-After": str(wait)})


def cacheable(request: Request, body: bytes, media_type: str) -> Response:
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}", "Vary": "Accept-Encoding",
               "Access-Control-Allow-Origin": "*"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


class OpenDataController(Controller):
    path = "/open-data"
    tags = ["open data"]
    guards = [rate_limited]

    @get("/free-places", summary="Today's free places per county and need (open data, no account)",
         description="Counts of units with a free bed, per county and need, from the day's snapshot; counts from "
                     "1 to 4 are null, the rest rounded down to multiples of 5. Cacheable: Cache-Control and ETag.",
         responses={**problem_responses(429)})
    async def free_places(self, db: Db, request: Request) -> Response[OpenFreePlaces]:
        figures = await free_places(db, local_date(dt.datetime.now(dt.timezone.utc)))
        return cacheable(request, msgspec.json.encode(figures), "application/json")

    @get("/free-places.csv", summary="The same as CSV", media_type="text/csv; charset=utf-8",
         responses={**problem_responses(429)})
    async def free_places_csv(self, db: Db, request: Request) -> Response[str]:
        figures = await free_places(db, local_date(dt.datetime.now(dt.timezone.utc)))
        return cacheable(request, as_csv(figures).encode(), "text/csv; charset=utf-8")
