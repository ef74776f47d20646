"""The national batch: every waiting request matched at once (matching.solver), one instance at a time.

Fresh availability is matched first; requests still unmatched then get a second solve over stale
(unconfirmed) units, so a fresh place is never passed over for a stale one. Every solution is checked
by the engine's independent validator before a single offer is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging

import asyncpg
import msgspec

from matching.solver import solve
from matching.types import Municipality, Problem, Result
from matching.validator import validate
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter
from skyddat_boende.matchmaking.service import create_offer

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
            async with pool.acquire() as db, db.transaction():
                return await _run(db, settings, places, trigger)
        finally:
            await lock_conn.execute("select pg_advisory_unlock($1)", LOCK_KEY)


async def _run(db: asyncpg.Connection, settings: Settings, places, trigger: str) -> BatchReport:
    run_id = await db.fetchval("insert into batch_run (trigger) values ($1) returning id", trigger)
    await db.execute("select id from placement_request where status = 'waiting' for update")
    rows = {str(r["id"]): r for r in await adapter.request_rows(db, "r.status = 'waiting'")}
    tried = await adapter.tried(db, rows)
    requests = [adapter.request_from_row(r, places, tried.get(i, adapter.NOTHING_TRIED)) for i, r in rows.items()]
    available = await adapter.availability(db, places, settings.stale_after_hours)
    offers, objective, gap, status = 0, 0, 0.0, "optimal"
    for units in (available.fresh, available.stale):
        if not requests or not units:
            continue
        problem = Problem(today=adapter.today(), requests=tuple(requests), units=tuple(units),
                          open_offers=tuple(available.open_offers), intake_used=available.intake_used)
        result: Result = await asyncio.to_thread(solve, problem, TIME_LIMIT_SECONDS, workers=None, seed=0)
        if violations := validate(problem, result.matches):
            raise InvalidSolution(f"{len(violations)} hard-rule violations; no offers written")
        objective, gap, status = objective + result.objective, max(gap, result.gap), result.status
        placed = set()
        for match in result.matches:
            fit = msgspec.structs.asdict(match.score.fit)
            if await create_offer(db, rows[match.request_id], match.unit_id, fit, settings):
                offers += 1
                placed.add(match.request_id)
        requests = [r for r in requests if r.id not in placed]
    await db.execute(
        """update batch_run set finished_at = now(), waiting_requests = $2, offers_made = $3, solver_status = $4,
                               objective = $5, gap = $6 where id = $1""",
        run_id, len(rows), offers, status, objective, gap,
    )
    log.info("batch finished", extra={"run_id": run_id, "waiting": len(rows), "offers": offers, "status": status})
    return BatchReport(run_id, len(rows), offers, status, objective, gap)


def next_run(interval_minutes: int, now: dt.datetime) -> float:
    """Seconds until the next scheduled run (runs align to the interval)."""
    period = interval_minutes * 60
    return period - (now.timestamp() % period)
