"""Periodic jobs out of the request path: worker processes run them, each once per tick however many
workers there are; a web process without SB_RUN_JOBS runs none; the expiry sweep works in small
transactions."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

from litestar.testing import AsyncTestClient

from skyddat_boende import audit, database
from skyddat_boende.config import Settings
from skyddat_boende.jobs import BATCH, HOUSEKEEPING, SWEEP, Job, Jobs, run_tick
from skyddat_boende.matchmaking import adapter
from skyddat_boende.matchmaking.service import expire_due_offers
from skyddat_boende.webhooks import outbox
from tests import factories
from tests.conftest import make_app
from tests.helpers import running_server, running_worker
from tests.webhook_support import Receiver
from tests.workflow_support import MALMO, STOCKHOLM, mother_with_son_and_dog, organisations, publish, shelter_body

NORTH = "operator-north"


async def _expired_offers(conn, count: int, expires_at: dt.datetime) -> list[uuid.UUID]:
    """`count` open offers past their hold, all with the same expiry (as one national batch makes them),
    each to its own request (an adult woman, acute) on its own unit of one shelter in Stockholm."""
    org = await factories.municipality_org(conn, MALMO)
    shelter = await factories.shelter(conn, await factories.operator_org(conn, "sweep-test"), daily_intake_limit=50)
    offers = []
    for _ in range(count):
        request = await factories.request(conn, org)
        await conn.execute("insert into request_adult (request_id, position, gender, age) values ($1, 1, 'female', 34)",
                           request)
        offers.append(await conn.fetchval(
            """insert into offer (request_id, unit_id, beds, created_at, expires_at)
               values ($1, $2, 1, $3::timestamptz - interval '2 hours', $3) returning id""",
            request, await factories.unit(conn, shelter, beds=1), expires_at))
        await conn.execute("update placement_request set status = 'offered', version = version + 1 where id = $1",
                           request)
    return offers


async def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def test_a_tick_runs_once_and_never_over_a_slower_previous_run(create_migrated_database):
    """Input: two workers asking at once to run one tick of a job that takes a while; one asking again
    once that run is over; one asking for the next tick while a slow run of the tick before still goes."""
    url = await create_migrated_database()
    pools = [await database.create_pool(url, max_size=3) for _ in range(2)]
    started = []

    async def work(seconds: float) -> None:
        started.append(seconds)
        await asyncio.sleep(seconds)

    tick = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    later = tick + dt.timedelta(seconds=1)
    try:
        quick = Job(SWEEP, 1.0, lambda: work(0.3))
        both = await asyncio.gather(run_tick(pools[0], quick, tick, "w0"), run_tick(pools[1], quick, tick, "w1"))
        assert sorted(both) == [False, True] and len(started) == 1
        assert await run_tick(pools[1], quick, tick, "w1") is False  # the lock is free, but the tick was run
        assert len(started) == 1

        slow = asyncio.create_task(run_tick(pools[0], Job(BATCH, 1.0, lambda: work(1.0)), tick, "w0"))
        await asyncio.sleep(0.3)
        assert await run_tick(pools[1], Job(BATCH, 1.0, lambda: work(0.0)), later, "w1") is False
        assert await slow is True
        assert started == [0.3, 1.0]  # the next tick's run never started beside the slow one
        assert await run_tick(pools[1], Job(BATCH, 1.0, lambda: work(0.0)), later + dt.timedelta(seconds=1), "w1")
    finally:
        for pool in pools:
            await pool.close()


async def test_two_workers_run_each_job_once_per_tick(create_migrated_database):
    """Input: two workers (each with its own pool, as two processes) with every job ticking each second,
    running side by side for a few seconds on one database."""
    url = await create_migrated_database()
    pools = [await database.create_pool(url, max_size=6) for _ in range(2)]
    settings = Settings(environment="development")
    try:
        async with pools[0].acquire() as conn:
            places = await adapter.municipalities(conn)
        periods = {BATCH: 1.0, SWEEP: 1.0, HOUSEKEEPING: 1.0}
        workers = [Jobs(pool, settings, places, periods=periods, worker=f"w{i}") for i, pool in enumerate(pools)]
        for worker in workers:
            worker.start()
        await asyncio.sleep(4 + (0.7 - time.time() % 1) % 1)  # stop between ticks, when their runs are done
        for worker in workers:
            await worker.stop()
        runs = await pools[0].fetch("select job, tick, worker, outcome from job_run order by job, tick")
        batches = await pools[0].fetchval("select count(*) from batch_run where trigger = 'schedule'")
    finally:
        for pool in pools:
            await pool.close()
    # a run that a busy machine had not finished when the workers stopped was finished first
    by_job = {job: [r for r in runs if r["job"] == job and r["outcome"] == "done"] for job in periods}
    assert all(len(ticks) >= 2 for ticks in by_job.values()), runs
    assert all(r["outcome"] == "done" for r in runs), runs
    assert {r["worker"] for r in runs} <= {"w0", "w1"}
    # one batch run per batch tick: the worker that lost a tick ran nothing for it
    assert batches == len(by_job[BATCH]), (batches, by_job[BATCH])
    for ticks in by_job.values():  # ticks on whole seconds, each once
        assert all(r["tick"].microsecond == 0 for r in ticks)
        assert len({r["tick"] for r in ticks}) == len(ticks)


async def test_stopping_finishes_the_round_in_progress(create_migrated_database):
    """Input: a worker told to stop (SIGTERM in a deployment) while a round of a job is running."""
    url = await create_migrated_database()
    pool = await database.create_pool(url, max_size=4)
    started, finished = asyncio.Event(), []

    async def slow_round() -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(True)

    try:
        jobs = Jobs(pool, Settings(environment="development"), {}, worker="w0")
        jobs.jobs = [Job(SWEEP, 1.0, slow_round)]
        jobs.start()
        await asyncio.wait_for(started.wait(), 5)
        await jobs.stop()
        outcome = await pool.fetchval("select outcome from job_run where job = $1", SWEEP)
    finally:
        await pool.close()
    assert finished == [True] and outcome == "done"


async def _webhook_event_for(conn, url: str) -> None:
    """A subscription of a municipality to `url` and one committed event for it."""
    org = await factories.municipality_org(conn, MALMO)
    await conn.execute("insert into webhook_subscription (organisation_id, url, secret, event_types) "
                       "values ($1, $2, 'whsec_' || repeat('a', 43), '{offer.created}')", org, url)
    async with conn.transaction():
        await outbox.enqueue(conn, org, "offer.created", {"offer_id": str(uuid.uuid4())})


async def test_a_worker_process_runs_the_jobs_and_a_web_process_none(create_migrated_database):
    """Input: an offer past its hold and a webhook event due; first a web process alone (no
    SB_RUN_JOBS) with a one-second sweep, then a `skyddat-boende worker` process."""
    url = await create_migrated_database()
    conn = await database.connect(url)
    receiver = Receiver()
    try:
        past = await conn.fetchval("select now() - interval '1 minute'")
        [offer] = await _expired_offers(conn, 1, past)
        await _webhook_event_for(conn, receiver.url)
        await audit.record(conn, audit.SYSTEM, "test.event", "batch", "to-chain", "succeeded")
        env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_SWEEP_INTERVAL_SECONDS": "1",
               "SB_BATCH_INTERVAL_MINUTES": "1"}
        with running_server(env):
            await asyncio.sleep(2.5)  # more than two sweep ticks; a webhook worker delivers as it starts
            assert await conn.fetchval("select status from offer where id = $1", offer) == "open"
            assert await conn.fetchval("select count(*) from job_run") == 0
            assert receiver.requests == []
            assert await conn.fetchval("select count(*) from audit_pending where object_id = 'to-chain'") == 1
        with running_worker(env) as worker:
            swept = await _wait_for(
                lambda: conn.fetchval("select status = 'expired' from offer where id = $1", offer), timeout=60)
            assert swept, worker.log()[-2000:]
            # the tick's record is finished just after the sweep's own transactions commit
            assert await _wait_for(lambda: conn.fetchval(
                "select count(*) > 0 from job_run where job = $1 and outcome = 'done'", SWEEP), timeout=30)
            ran = await conn.fetchval("select worker from job_run where job = $1 and outcome = 'done' limit 1", SWEEP)
            assert await _wait_for(lambda: asyncio.sleep(0, len(receiver.requests) == 1), timeout=30)
            assert await _wait_for(lambda: conn.fetchval(
                "select count(*) = 1 from audit_event where object_id = 'to-chain'"), timeout=30)
        assert ran.split("/")[1] == str(worker.pid)
        assert worker.returncode == 0, worker.stderr.read()[-2000:]  # stopped cleanly on SIGTERM
    finally:
        receiver.close()
        await conn.close()


async def test_the_sweep_commits_small_batches_while_an_accept_is_answered(create_migrated_database, issuer, tokens):
    """Input: 44 offers sharing one expiry (as one national batch makes them) and one a second later,
    whose request is Stockholm's: another transaction holds Stockholm's webhook subscription locked, so
    the sweep waits when it announces that last expiry; meanwhile an accept on another shelter's offer.
    A sweep in one transaction would show nothing expired until it was through."""
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer, run_jobs=False)) as client:
        await publish(client, tokens.staff(NORTH), shelter_body("2480", rate=2000, label="Norr"))
        other = (await client.post("/api/requests", json=mother_with_son_and_dog(),
                                   headers=tokens.social_worker(MALMO))).json()
        assert other["status"] == "offered"
        conn = await database.connect(url)
        blocker = await database.connect(url)
        pool = await database.create_pool(url, max_size=3)
        try:
            past = await conn.fetchval("select now() - interval '1 minute'")
            offers = await _expired_offers(conn, 44, past)
            [last] = await _expired_offers(conn, 1, past + dt.timedelta(seconds=1))
            offers.append(last)
            places = await adapter.municipalities(conn)
            await conn.execute("update placement_request set municipality_id = $2 "
                               "where id = (select request_id from offer where id = $1)",
                               last, f"kommun-{STOCKHOLM}")
            subscription = await conn.fetchval(
                "insert into webhook_subscription (organisation_id, url, secret, event_types) values "
                "($1, 'https://hooks.example/x', 'whsec_' || repeat('a', 43), '{offer.expired}') returning id",
                f"kommun-{STOCKHOLM}")
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("select 1 from webhook_subscription where id = $1 for update", subscription)
            sweep = asyncio.create_task(expire_due_offers(pool, Settings(), places))

            async def most_committed() -> bool:
                return await conn.fetchval("select count(*) from offer where id = any($1) and status = 'expired'",
                                           offers) >= 40
            assert await _wait_for(most_committed), "the offers before the held one were not committed on their own"
            accepted = await client.post(f"/api/offers/{other['offer']['id']}/accept", headers=tokens.staff(NORTH))
            assert accepted.status_code == 200, accepted.text
            assert not sweep.done()  # the accept was answered while the sweep was held mid-way
            await transaction.rollback()
            assert await sweep == 45
            sizes = [r["n"] for r in await conn.fetch(
                "select count(*) as n from offer where id = any($1) group by answered_at order by n desc", offers)]
        finally:
            await blocker.close()  # ends its transaction: a sweep still waiting on it goes on
            await pool.close()
            await conn.close()
    # answered_at is each transaction's own now(): no transaction expired more than 20 offers
    assert sum(sizes) == 45 and max(sizes) <= 20 and len(sizes) >= 3, sizes


async def test_housekeeping_forgets_job_runs_after_a_week(create_migrated_database):
    """Input: a tick run eight days ago and one run yesterday."""
    from skyddat_boende.jobs import forget_old_job_runs

    conn = await database.connect(await create_migrated_database())
    try:
        for age in ("8 days", "1 day"):
            await conn.execute("insert into job_run (job, tick, worker, started_at) values "
                               "('offer-expiry', now() - $1::text::interval, 'w', now() - $1::text::interval)", age)
        await forget_old_job_runs(conn)
        assert await conn.fetchval("select count(*) from job_run where started_at > now() - interval '2 days'") == 1
        assert await conn.fetchval("select count(*) from job_run") == 1
    finally:
        await conn.close()


def test_worker_and_jobs_setting_errors_are_one_line():
    """Input: SB_RUN_JOBS=yes; then a worker pointed at a port where no PostgreSQL listens."""
    from tests.helpers import cli

    bad = cli("worker", env={"SB_RUN_JOBS": "yes", "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"})
    assert bad.returncode == 2 and bad.stderr.strip() == "skyddat-boende: error: SB_RUN_JOBS must be 0 or 1, got 'yes'"
    down = cli("worker", env={"DATABASE_URL": "postgresql://x@127.0.0.1:1/x"})
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert down.stderr.startswith("skyddat-boende: error: cannot connect to PostgreSQL")
