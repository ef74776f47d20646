"""A per-process snapshot of what fast-track can offer: the available units as engine units and their
FastTrack indexes, built once and reused by every request. Holds (open offers) and today's intake are
read per request and applied to the indexes in place of rebuilding them.

The snapshot is rebuilt before use after a committed change to an available unit or a shelter (LISTEN
on the channel of sql/0023 and 0036) and on a new day; one older than MAX_AGE_SECONDS is rebuilt in the
background, on a connection of its own, while requests go on using it. A change whose notification is
still on its way is not seen yet: every candidate is re-checked inside the offer's transaction (`still_offerable`),
under the unit's row lock, so an offer is only ever made on a unit exactly as the engine saw it. Offers
do not notify (every fast-track makes one, and would rebuild the snapshot for the next): a shared unit's
free beds count the holds of its build, so beds held since are refused by the offer's bed trigger, and
beds an answered offer freed are seen at the next rebuild, within MAX_AGE_SECONDS.

The app registers its snapshot for its `places` (the municipalities it loaded once at startup, which
every caller of offer_next passes on); a caller without one (the CLI, a worker process) reads the
database each time, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass

import asyncpg

from matching.fast_track import FastTrack
from matching.lookahead import priced
from matching.types import FastTrackResult, Municipality, Offer, Request, Unit
from skyddat_boende import database
from skyddat_boende.matchmaking import adapter

log = logging.getLogger(__name__)

CHANNEL = "units_changed"
MAX_AGE_SECONDS = 5.0

# the unit and its shelter exactly as the snapshot saw them, still offerable. The unit is locked until the
# offer's transaction ends, as the offer's bed trigger locks it (sql/0018: a share lock raised by the
# trigger would deadlock two offers on one unit); the shelter is not locked: the lock order puts shelters
# after units, and a fast-track may go on to its next candidate unit
STILL_OFFERABLE = """
select 1 from unit u join shelter s on s.id = u.shelter_id
 where u.id = $1 and u.status = 'available' and u.version = $2 and u.beds_taken = $3 and s.version = $4
   for no key update of u
"""

# of the engine's candidates, those still as the snapshot saw them with room for the household now, by the
# rule of the offer's bed trigger (sql/0018): an unlocked read, so that units held or changed since the
# build are skipped here rather than each refused by a failed offer. Each candidate is looked up by its id
# and its holds counted for it alone: "limit 1" keeps the planner from merging the lookup into a join
# (which counted the holds of every unit of every shelter of the same version: 110 ms on 3,000 units)
OFFERABLE_NOW = """
select seen.id::text
  from unnest($1::uuid[], $2::int[], $3::int[], $4::int[]) as seen(id, version, beds_taken, shelter_version)
  cross join lateral (
      select u.shareable, u.beds from unit u
       where u.id = seen.id and u.status = 'available' and u.version = seen.version
         and u.beds_taken = seen.beds_taken and (u.shareable or u.beds_taken = 0)
         and (select s.version from shelter s where s.id = u.shelter_id) = seen.shelter_version
       limit 1) u
 where seen.beds_taken + offer_beds_held(seen.id, u.shareable, u.beds) + $5 <= u.beds
"""

# this moment's holds and intake in one round trip, as text (ids need no decoding into UUIDs here)
HOLDS_AND_INTAKE = f"""
with open_offers as ({adapter.OPEN_OFFERS}), intake as ({adapter.INTAKE_TODAY})
select (select array_agg(request_id::text order by unit_id) from open_offers) as holders,
       (select array_agg(unit_id::text order by unit_id) from open_offers) as held,
       (select json_object_agg(shelter_id, used) from intake) as intake
"""


@dataclass(frozen=True)
class _Built:
    fresh: list[Unit]
    stale: list[Unit]
    tracks: list[FastTrack]  # fresh first, then stale; empty lists left out
    versions: dict[str, tuple[int, int, int]]  # unit id -> (unit version, beds taken, shelter version)
    day: dt.date
    built_at: float
    generation: int


class UnitSnapshot:
    def __init__(self, pool: asyncpg.Pool, database_url: str, places: dict[str, Municipality], stale_hours: int):
        self.pool, self.database_url, self.places, self.stale_hours = pool, database_url, places, stale_hours
        self._built: _Built | None = None
        self._generation = 0
        self._listener: asyncpg.Connection | None = None
        self._building = asyncio.Lock()
        self._refresh: asyncio.Task | None = None

    async def start(self) -> None:
        try:
            self._listener = await database.connect(self.database_url)
            await self._listener.add_listener(CHANNEL, self._changed)
            self._listener.add_termination_listener(self._lost)
        except (database.DatabaseUnavailable, asyncpg.PostgresError, OSError):
            self._listener = None  # without notifications: rebuilt for every request
            log.warning("unit snapshot: no change notifications; rebuilt for every request")

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()

    def _changed(self, *args) -> None:
        self._generation += 1

    def offerable_ids(self) -> set[str]:
        """The units of the snapshot as built (empty before the first request)."""
        built = self._built
        return {u.id for u in built.fresh + built.stale} if built else set()

    def _lost(self, *args) -> None:
        self._listener = None

    async def availability(self, db: asyncpg.Connection) -> SnapshotAvailability:
        if self._stale(self._built):
            async with self._building:  # one rebuild at a time; the requests waiting for it then share it
                if self._stale(self._built):
                    self._built = await self._build(db)
        elif self._old(self._built) and self._refresh is None:
            self._refresh = asyncio.create_task(self._rebuild_old())
        built = self._built
        now = await db.fetchrow(HOLDS_AND_INTAKE)
        open_offers = [Offer(r, u) for r, u in zip(now["holders"] or (), now["held"] or ())]
        return SnapshotAvailability(built, open_offers, now["intake"] or {})

    def _stale(self, built: _Built | None) -> bool:
        """Rebuilt before use after any committed change (or without notifications, always) and on a new day."""
        if built is None or built.day != adapter.today() or self._listener is None:
            return True
        return built.generation != self._generation

    @staticmethod
    def _old(built: _Built) -> bool:
        """Rebuilt in the background after MAX_AGE_SECONDS: units grow stale by the clock alone, and beds
        that answered offers freed are seen then."""
        return time.monotonic() - built.built_at >= MAX_AGE_SECONDS

    async def _rebuild_old(self) -> None:
        try:
            async with self._building:
                built = self._built
                if built is not None and not self._stale(built) and self._old(built):
                    async with self.pool.acquire() as db:
                        self._built = await self._build(db)
        except (asyncpg.PostgresError, OSError, asyncio.TimeoutError):
            log.warning("unit snapshot: a background rebuild failed; the next request tries again", exc_info=True)
        finally:
            self._refresh = None

    async def _build(self, db: asyncpg.Connection) -> _Built:
        generation, day = self._generation, adapter.today()
        rows = await db.fetch(adapter.AVAILABLE_UNITS, self.stale_hours)
        # the acute and the "days" demand (matching.lookahead), as adapter.availability reads them
        demand = await adapter.acute_demand(db, self.places), await adapter.acute_demand(db, self.places, "days")
        # off the event loop: the other requests' work interleaves with it instead of waiting for all of it
        return await asyncio.to_thread(self._built_from, rows, demand, day, generation)

    def _built_from(self, rows: list[asyncpg.Record], demand, day: dt.date, generation: int) -> _Built:
        """The units priced with the acute and "days" demand they can expect (adapter.availability does
        the same)."""
        fresh, stale, versions = [], [], {}
        acute, days = demand
        units = priced([adapter.unit_from_row(row, self.places) for row in rows], acute, day, days)
        for row, unit in zip(rows, units):
            (stale if row["stale"] else fresh).append(unit)
            versions[unit.id] = (row["version"], row["beds_taken"], row["shelter_version"])
        tracks = [FastTrack(units, today=day) for units in (fresh, stale) if units]
        return _Built(fresh, stale, tracks, versions, day, time.monotonic(), generation)


class SnapshotAvailability(adapter.Availability):
    """The snapshot's units under this moment's holds and intake."""

    def __init__(self, built: _Built, open_offers: list[Offer], intake_used: dict[str, int]):
        super().__init__(built.fresh, built.stale, open_offers, intake_used)
        self._built = built

    def top(self, request: Request, n: int) -> list[FastTrackResult]:
        return [track.with_offers(self.open_offers, self.intake_used).top(request, n) for track in self._built.tracks]

    async def offerable(self, db: asyncpg.Connection, unit_ids: list[str], beds: int) -> list[str]:
        seen = [(uuid.UUID(i), *self._built.versions[i]) for i in unit_ids if i in self._built.versions]
        if not seen:
            return []
        ids, versions, taken, shelter_versions = (list(column) for column in zip(*seen))
        now = {r[0] for r in await db.fetch(OFFERABLE_NOW, ids, versions, taken, shelter_versions, beds)}
        return [i for i in unit_ids if i in now]

    async def still_offerable(self, db: asyncpg.Connection, unit_id: str, *, wait: bool = True) -> bool:
        """Lock the unit if it is still as built; without `wait`, False also while another transaction
        holds the unit's lock (another request offering it right now)."""
        seen = self._built.versions.get(unit_id)
        query = STILL_OFFERABLE if wait else STILL_OFFERABLE + " skip locked"
        return seen is not None and bool(await db.fetchval(query, uuid.UUID(unit_id), *seen))


_registered: dict[int, UnitSnapshot] = {}


def register(places: dict[str, Municipality], snapshot: UnitSnapshot) -> None:
    _registered[id(places)] = snapshot


def unregister(places: dict[str, Municipality]) -> None:
    _registered.pop(id(places), None)


async def availability(db: asyncpg.Connection, places: dict[str, Municipality], stale_hours: int) -> adapter.Availability:
    """The registered snapshot's availability for these places, or the database's as of now."""
    snapshot = _registered.get(id(places))
    if snapshot is None:
        return await adapter.availability(db, places, stale_hours)
    return await snapshot.availability(db)
