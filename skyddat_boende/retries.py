"""Conflicts and outages as the caller should see them.

A deadlock or serialization failure is PostgreSQL choosing a victim, not an error in the request: the
work is retried a few times inside the service, each attempt in a savepoint of the request's
transaction (rolling back to it releases the locks the attempt took). Only when every attempt lost is
the answer 503 with Retry-After. An unreachable database or a pool with no free connection is 503 with
Retry-After as well, never 500: the client may simply try again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from skyddat_boende.problems import RETRY_AFTER, ServiceUnavailable

ATTEMPTS = 4
BACKOFF_SECONDS = 0.02

T = TypeVar("T")


class Contended(Exception):
    """What an attempt locked changed before it could finish (a row it must lock first appeared after
    it looked): roll the attempt back and start it again."""


class Busy(ServiceUnavailable):
    slug, title = "busy", "Too many conflicting changes right now"


RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError, Contended)


async def retrying(db: asyncpg.Connection, work: Callable[..., Awaitable[T]], *args, **kwargs) -> T:
    """`await work(db, *args, **kwargs)` in a savepoint (or a transaction of its own if none is open),
    retried on deadlock and serialization failure; Busy (503) once every attempt lost."""
    for attempt in range(ATTEMPTS):
        try:
            async with db.transaction():
                return await work(db, *args, **kwargs)
        except RETRYABLE:
            if attempt == ATTEMPTS - 1:
                break
            await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
    raise Busy("Other changes to the same objects kept conflicting with this one; try again.", headers=dict(RETRY_AFTER))
