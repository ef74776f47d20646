"""The national batch: every waiting request matched at once (matching.solver), one instance at a time.

The batch reads one snapshot (no row locked), solves with no connection held, then writes each offer in
a short transaction of its own that re-checks the pair: a request withdrawn or offered meanwhile is
skipped, and a unit filled meanwhile is refused by the database (sql/0018); that request waits for the
next round. Fresh availability is matched first; requests still unmatched then get a second solve over stale
(unconfirmed) units, so a fresh place is never passed over for a stale one. Every solution is checked
by the engine's independent validator before a single offer is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass

import asyncpg
import msgspec

from matching.solver import solve
from matching.types import Municipality, Problem, Result
from matching.validator import validate
from skyddat_boende import workflow
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter, warm_start
from skyddat_boende.matchmaking.service import create_offer
from skyddat_boende.retries import retrying

log = logging.getLogger(__name__)

LOCK_KEY = int.from_bytes(hashlib.sha256(b"skyddat-boende national batch").digest()[:8], "big", signed=True)
TIME_LIMIT_SECONDS = 20.0


class BatchReport(msgspec.Struct, frozen=True):
    run_id: int
    waiting_requests: int
    offers_made: int
    solver_status: str
    objective: int
    gap: float


class InvalidSolution(RuntimeError):
    """The validator found a hard-rule violation: no offer is written."""


async def run_batch(
    pool: asyncpg.Pool, settings: Settings, places: dict[str, Municipality], trigger: str
) -> BatchReport | None:
    """Run once; None if another process holds the batch lock right now."""
    async with pool.acquire() as lock_conn:
        if not await lock_conn.fetchval("select pg_try_advisory_lock($1)", LOCK_KEY):
            return None
        try:
            return await _run(pool, settings, places, trigger)
        finally:
            await lock_conn.execute("select pg_advisory_unlock($1)", LOCK_KEY)


@dataclass(frozen=True)
class _Snapshot:
    rows: dict[str, asyncpg.Record]
    available: adapter.Availability
    tried: dict[str, adapter.Tried]


async def _snapshot(db: asyncpg.Connection, places, stale_hours: int) -> _Snapshot:
    """Waiting requests and free beds as of one moment, read without locking a row: requests may be
    withdrawn and units taken while the engine solves; the writes re-check each pair."""
    async with db.transaction(isolation="repeatable_read", readonly=True):
        rows = {str(r["id"]): r for r in await adapter.request_rows(db, "r.status = 'waiting'")}
        available = await adapter.availability(db, places, stale_hours)
        tried = await adapter.tried(db, rows)
    return _Snapshot(rows, available, tried)


async def _run(pool: asyncpg.Pool, settings: Settings, places, trigger: str) -> BatchReport:
    async with pool.acquire() as db:
        run_id = await db.fetchval("insert into batch_run (trigger) values ($1) returning id", trigger)
        snap = await _snapshot(db, places, settings.stale_after_hours)
        previous, solution = await warm_start.previous_solution(db), []
    rows, available = snap.rows, snap.available
    requests = [adapter.request_from_row(r, places, snap.tried.get(i, adapter.NOTHING_TRIED))
                for i, r in rows.items()]
    offers, objective, gap, status = 0, 0, 0.0, "optimal"
    for units in (available.fresh, available.stale):
        if not requests or not units:
            continue
        problem = Problem(today=adapter.today(), requests=tuple(requests), units=tuple(units),
                          open_offers=tuple(available.open_offers), intake_used=available.intake_used)
        result: Result = await asyncio.to_thread(solve, problem, TIME_LIMIT_SECONDS, workers=None, seed=0,
                                                 previous=previous)
        if violations := validate(problem, result.matches):
            raise InvalidSolution(f"{len(violations)} hard-rule violations; no offers written")
        objective, gap, status = objective + result.objective, max(gap, result.gap), result.status
        solution.extend(result.matches)
        placed = await _write_offers(pool, rows, result.matches, settings)
        offers += len(placed)
        requests = [r for r in requests if r.id not in placed]
    async with pool.acquire() as db:
        await warm_start.remember(db, run_id, solution)
        await db.execute(
            """update batch_run set finished_at = now(), waiting_requests = $2, offers_made = $3, solver_status = $4,
                                   objective = $5, gap = $6 where id = $1""",
            run_id, len(rows), offers, status, objective, gap,
        )
    log.info("batch finished", extra={"run_id": run_id, "waiting": len(rows), "offers": offers, "status": status})
    return BatchReport(run_id, len(rows), offers, status, objective, gap)


async def _write_offers(pool: asyncpg.Pool, rows: dict, matches, settings: Settings) -> set[str]:
    """One short transaction per pair, the longest waiting request first. A pair no longer free is skipped; its request waits for
    the next round."""
    placed, order = set(), {request_id: n for n, request_id in enumerate(rows)}
    async with pool.acquire() as db:
        for match in sorted(matches, key=lambda m: order[m.request_id]):
            fit = msgspec.structs.asdict(match.score.fit)
            if await retrying(db, _offer_pair, rows[match.request_id], match.unit_id, fit, settings):
                placed.add(match.request_id)
    return placed


async def _offer_pair(db: asyncpg.Connection, row: asyncpg.Record, unit_id: str, fit: dict, settings: Settings):
    request = await workflow.lock_request(db, row["id"])
    if request is None or request["status"] != "waiting":
        return None  # withdrawn or offered a place since the snapshot
    return await create_offer(db, row, unit_id, fit, settings)

