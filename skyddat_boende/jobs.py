"""The service's periodic work, run by `skyddat-boende worker` (or inside `serve` with SB_RUN_JOBS=1):
the national batch, the offer expiry sweep (which offers each request its next place), housekeeping
(deleting what is kept only for a while), pulling partners' availability feeds, and webhook delivery.

Several workers may run on one database. A ticked job's ticks are aligned to the wall clock; at each
tick a worker takes the job's advisory lock (so a run that outlasts its period is never overlapped)
and then claims the tick by inserting (job, tick) into job_run (so a tick that a quicker worker
already ran is not run again): each job runs once per tick, by whichever worker gets there first.
Webhook delivery is not ticked: every worker delivers, and the outbox's row claims
(webhooks/delivery.py) keep any one event with one worker at a time. Nor is audit chaining (every
SB_AUDIT_CHAIN_SECONDS): every worker chains, and the chaining function's own lock keeps it one at a
time; a round that finds nothing to chain costs one query.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg

from matching.types import Municipality
from skyddat_boende import audit, idempotency, rate_limits, retention
from skyddat_boende.config import Settings
from skyddat_boende.feeds import poller as feeds
from skyddat_boende.matchmaking.batch import run_batch
from skyddat_boende.housing import moves as onward_moves
from skyddat_boende.matchmaking.service import expire_due_offers
from skyddat_boende.statistics import snapshots
from skyddat_boende.web.auth import forget_expired_sessions
from skyddat_boende.webhooks import outbox
from skyddat_boende.webhooks.delivery import WebhookWorker

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 600
JOB_RUN_RETENTION_DAYS = 7
BATCH, SWEEP, HOUSEKEEPING, FEEDS = "batch", "offer-expiry", "housekeeping", "feeds"
ONWARD_SWEEP = "onward-offer-expiry"


async def forget_old_job_runs(db: asyncpg.Connection) -> None:
    """Housekeeping: the record of which worker ran which tick is kept a week."""
    await db.execute("delete from job_run where started_at < now() - make_interval(days => $1)",
                     JOB_RUN_RETENTION_DAYS)


HOUSEKEEPING_WORK: tuple[Callable[[asyncpg.Connection], Awaitable[None]], ...] = (
    idempotency.forget_expired_keys, outbox.forget_finished, forget_expired_sessions, forget_old_job_runs,
    rate_limits.forget_ended_windows,
)


@dataclass(frozen=True)
class Job:
    name: str
    period: float
    """Seconds between ticks; ticks fall on multiples of it (Unix time)."""
    work: Callable[[], Awaitable[object]]


def lock_key(job: str) -> int:
    """The job's advisory lock key: the first 8 bytes of sha256 of its name, as a signed bigint."""
    return int.from_bytes(hashlib.sha256(f"skyddat-boende job {job}".encode()).digest()[:8], "big", signed=True)


def seconds_to_next_tick(period: float, now: float) -> float:
    return period - (now % period)


def tick_at(period: float, now: float) -> dt.datetime:
    """The tick a worker woken at `now` runs: the nearest multiple of the period (a sleep may end a
    little early or late, and every worker must name the same tick)."""
    return dt.datetime.fromtimestamp(round(now / period) * period, dt.timezone.utc)


def worker_name() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:6]}"


async def run_tick(pool: asyncpg.Pool, job: Job, tick: dt.datetime, worker: str) -> bool:
    """Run the job for this tick unless another worker is running it or has run this tick.
    True if this worker ran it."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("select pg_try_advisory_lock($1)", lock_key(job.name)):
            return False
        try:
            claimed = await conn.fetchval(
                """insert into job_run (job, tick, worker) values ($1, $2, $3)
                   on conflict (job, tick) do nothing returning true""",
                job.name, tick, worker,
            )
            if not claimed:
                return False
            outcome = "failed"
            try:
                await job.work()
                outcome = "done"
            finally:
                await conn.execute("update job_run set finished_at = now(), outcome = $3 where job = $1 and tick = $2",
                                   job.name, tick, outcome)
            return True
        finally:
            await conn.execute("select pg_advisory_unlock($1)", lock_key(job.name))


FINISH_SECONDS = 8.0
"""How long stopping waits for a round in progress (a deployment's SIGTERM grace period is longer):
cut off, a round rolls back and its tick is recorded as failed."""


class Jobs:
    """Every periodic job of the service as asyncio tasks of one process, plus its webhook worker.
    `periods` overrides a job's period in seconds (tests use short ones); `clock` gives the
    time the daily snapshots are taken at (tests inject one)."""

    def __init__(
        self, pool: asyncpg.Pool, settings: Settings, places: dict[str, Municipality],
        *, periods: Mapping[str, float] = {}, worker: str | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
    ) -> None:
        self.pool, self.settings, self.places, self.clock = pool, settings, places, clock
        self.worker = worker or worker_name()
        self.jobs = [job for job in self._jobs() if job.period > 0]
        self.jobs = [Job(job.name, periods.get(job.name, job.period), job.work) for job in self.jobs]
        self.webhooks = WebhookWorker(pool, allow_loopback_http=settings.development)
        self.housekeeping = [*HOUSEKEEPING_WORK, *retention.housekeeping(settings.retention_days)]
        self.tasks: list[asyncio.Task] = []

    def _jobs(self) -> list[Job]:
        return [
            Job(SWEEP, self.settings.sweep_interval_seconds,
                lambda: expire_due_offers(self.pool, self.settings, self.places)),
            Job(ONWARD_SWEEP, self.settings.sweep_interval_seconds,
                lambda: onward_moves.sweep(self.pool, self.settings, self.places)),
            Job(HOUSEKEEPING, HOUSEKEEPING_SECONDS, self._housekeep),
            Job(BATCH, self.settings.batch_interval_minutes * 60,
                lambda: run_batch(self.pool, self.settings, self.places, "schedule")),
            Job(FEEDS, self.settings.feed_poll_seconds, lambda: feeds.poll_due(self.pool, self.settings)),
        ]

    def start(self) -> None:
        self.webhooks.start()
        self.tasks.extend(asyncio.create_task(self._every(job), name=f"job-{job.name}") for job in self.jobs)
        self.tasks.append(asyncio.create_task(self._chain_audit(), name="audit-chain"))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        await self.webhooks.stop()

    async def _housekeep(self) -> None:
        # the day's snapshot before retention, so that no figure ever waits on a row about to be erased
        snapshot = snapshots.housekeeping(self.settings.stale_after_hours, self.clock)
        async with self.pool.acquire() as conn:
            for work in (snapshot, *self.housekeeping):
                await work(conn)

    async def _chain_audit(self) -> None:
        """Moves committed audit events into the hash chain: until then they wait, durable, in audit_pending."""
        while True:
            try:
                async with self.pool.acquire() as conn:
                    await audit.chain_pending(conn)
            except Exception as exc:  # one failed round must not stop the loop; the type only, never data
                log.error("background work failed", extra={"work": "audit-chain", "error_type": type(exc).__name__})
            await asyncio.sleep(self.settings.audit_chain_seconds)

    async def _every(self, job: Job) -> None:
        while True:
            await asyncio.sleep(seconds_to_next_tick(job.period, time.time()))
            round_ = asyncio.create_task(run_tick(self.pool, job, tick_at(job.period, time.time()), self.worker))
            try:
                await asyncio.shield(round_)
            except asyncio.CancelledError:  # stopping: the round in progress finishes (or runs out of time)
                await asyncio.wait({round_}, timeout=FINISH_SECONDS)
                round_.cancel()
                raise
            except Exception as exc:  # one failed round must not stop the loop; the type only, never data
                log.error("background work failed", extra={"work": job.name, "error_type": type(exc).__name__})


async def run_worker(settings: Settings, url: str, *, ready: Callable[[Jobs], None] = lambda jobs: None) -> None:
    """The worker process: run every job until SIGTERM or SIGINT, then finish the rounds in progress."""
    import signal

    from skyddat_boende import database
    from skyddat_boende.matchmaking import adapter

    pool = await database.create_pool(url, max_size=settings.db_pool_max, service_role=True,
                                      require_service_role=not settings.development)
    try:
        async with pool.acquire() as conn:
            places = await adapter.municipalities(conn)
        jobs = Jobs(pool, settings, places)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        jobs.start()
        ready(jobs)
        try:
            await stop.wait()
        finally:
            await jobs.stop()
    finally:
        await pool.close()
