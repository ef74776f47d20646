"""The batch starts from the previous round's solution: the engine takes it as a hint
(`matching.solver.solve(previous=...)`), keeps its pairs that still exist (same request waiting, same
unit free) and starts from it when it beats the engine's own first solutions.

Only the latest run's matches are kept (`batch_run.solution`), so the table does not grow with them.
"""

from __future__ import annotations

import logging

import asyncpg
import msgspec

from matching.types import Match, Result

log = logging.getLogger(__name__)

_matches = msgspec.json.Decoder(tuple[Match, ...])


async def previous_solution(db: asyncpg.Connection) -> Result | None:
    """The latest batch's solution as a hint, or None (no batch yet, or written by an engine whose
    match type has changed since: the batch then starts cold)."""
    raw = await db.fetchval("select solution::text from batch_run where solution is not null order by id desc limit 1")
    if raw is None:
        return None
    try:
        matches = _matches.decode(raw)
    except msgspec.ValidationError:
        log.warning("previous batch solution unreadable; starting cold")
        return None
    # only the matches are a hint; the rest describes no solve and is not read
    return Result(status="feasible", matches=matches, unmatched=(), objective=0, bound=0, gap=0.0, proof="",
                  wall_time_s=0.0)


async def remember(db: asyncpg.Connection, run_id: int, matches: list[Match]) -> None:
    """Keep this run's matches for the next run, and drop the previous run's."""
    await db.execute("update batch_run set solution = $2::text::jsonb where id = $1",
                     run_id, msgspec.json.encode(matches).decode())
    await db.execute("update batch_run set solution = null where solution is not null and id <> $1", run_id)
