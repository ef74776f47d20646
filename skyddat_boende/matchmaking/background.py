"""Periodic work of every service process: expire offers past their hold (and offer the next place),
run the national batch on its interval (the advisory lock lets only one process run it), and
housekeeping (deleting what is kept only for a while, e.g. idempotency keys)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from matching.types import Municipality
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking.batch import next_run, run_batch
from skyddat_boende.matchmaking.service import expire_due_offers

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 600


class Scheduler:
    def __init__(
        self, pool: asyncpg.Pool, settings: Settings, places: dict[str, Municipality],
        housekeeping: list[Callable[[asyncpg.Connection], Awaitable[None]]] = (),
    ) -> None:
        self.pool, self.settings, self.places = pool, settings, places
        self.housekeeping = list(housekeeping)
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self.tasks.append(asyncio.create_task(self._every(
            lambda: self.settings.sweep_interval_seconds, self._sweep, "offer expiry")))
        self.tasks.append(asyncio.create_task(self._every(lambda: HOUSEKEEPING_SECONDS, self._housekeep, "housekeeping")))
        if self.settings.batch_interval_minutes:
            self.tasks.append(asyncio.create_task(self._every(
                lambda: next_run(self.settings.batch_interval_minutes, dt.datetime.now(dt.timezone.utc)),
                self._batch, "national batch")))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()

    async def _sweep(self) -> None:
        await expire_due_offers(self.pool, self.settings, self.places)

    async def _housekeep(self) -> None:
        async with self.pool.acquire() as conn:
            for work in self.housekeeping:
                await work(conn)

    async def _batch(self) -> None:
        await run_batch(self.pool, self.settings, self.places, "schedule")

    @staticmethod
    async def _every(delay: Callable[[], float], work: Callable[[], Awaitable[None]], name: str) -> None:
        while True:
            await asyncio.sleep(delay())
            try:
                await work()
            except Exception as exc:  # one failed round must not stop the loop; the type only, never data
                log.error("background work failed", extra={"work": name, "error_type": type(exc).__name__})
