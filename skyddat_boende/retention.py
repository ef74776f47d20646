"""Retention: closed cases are erased after `SB_RETENTION_DAYS` (docs/decisions.md, "Retention").

A request that was withdrawn, or closed when its household moved out, is erased with its household,
offers and placement by the database function `erase_closed_cases` (sql/0017), which first adds the
cases to the monthly `closed_case_tally` and audits each erased request. Open requests are never
touched; the database refuses a period under 30 days (as does SB_RETENTION_DAYS), so erasure can never
reach cases closed recently. The housekeeping job runs it in bounded batches.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)

BATCH = 500
"""Cases erased per housekeeping run at most: one short transaction; the rest wait for the next run."""


async def erase_closed_cases(db: asyncpg.Connection, retention_days: int, batch: int = BATCH) -> int:
    """Erase up to `batch` cases closed more than `retention_days` ago; returns how many."""
    erased = await db.fetchval("select erase_closed_cases($1, $2)", retention_days, batch)
    if erased:
        log.info("closed cases erased", extra={"count": erased, "retention_days": retention_days})
    return erased


async def erase_closed_onward_requests(db: asyncpg.Connection, retention_days: int, batch: int = BATCH) -> int:
    """Onward requests (issue 24) moved in or withdrawn more than `retention_days` ago, with their offers
    (sql/0025); returns how many."""
    erased = await db.fetchval("select erase_closed_onward_requests($1, $2)", retention_days, batch)
    if erased:
        log.info("closed onward requests erased", extra={"count": erased, "retention_days": retention_days})
    return erased


def housekeeping(retention_days: int) -> list[Callable[[asyncpg.Connection], Awaitable[int]]]:
    """The housekeeping work for the configured retention: closed cases, then closed onward requests."""
    return [functools.partial(erase_closed_cases, retention_days=retention_days),
            functools.partial(erase_closed_onward_requests, retention_days=retention_days)]
