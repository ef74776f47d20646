"""Daily snapshots (issue 27): 60 simulated days of requests, offers, declines, placements and move-outs
on demo data, the housekeeping job run with an injected clock, and every stored figure checked against
counts computed independently from the raw tables (tests/demand_simulation.py)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from skyddat_boende import database, demo_data
from skyddat_boende.config import Settings
from skyddat_boende.jobs import Jobs
from skyddat_boende.statistics.snapshots import STATE_KINDS
from tests import demand_simulation as sim

START = dt.date(2026, 3, 1)  # crosses the switch to summer time (29 March)
DAYS = 60
STALE_HOURS = 24


async def simulate(url: str, days: int = DAYS, seed: int = 27) -> Counter:
    """Runs the days; returns the state figures expected at each day's first housekeeping run."""
    rng, clock = random.Random(seed), [sim.at(START, 0, 5)]
    conn = await database.connect(url)
    pool = await database.create_pool(url, max_size=2, service_role=True)
    try:
        await demo_data.load(conn, seed=seed, shelters=20)
        before = sim.at(START, 0) - dt.timedelta(days=1)
        await conn.execute("update placement_request set created_at = $1, waiting_since = $1, updated_at = $1", before)
        await conn.execute("update unit set availability_confirmed_at = $1", before)
        jobs = Jobs(pool, Settings(retention_days=3650), {}, clock=lambda: clock[0])
        expected_state, n = Counter(), 0
        for offset in range(days):
            day = START + dt.timedelta(days=offset)
            clock[0] = sim.at(day, 0, 5)
            await jobs._housekeep()
            expected_state += await sim.expected_state(conn, clock[0], STALE_HOURS)
            for _ in range(rng.randint(1, 5)):
                n += 1
                await sim.file_request(conn, rng, sim.at(day, 8, rng.randint(0, 59)), n)
            await sim.confirm_some_places(conn, rng, day)
            await sim.offer_and_answer(conn, rng, day)
            await sim.move_out_and_withdraw(conn, rng, day)
            clock[0] = sim.at(day, 23, 50)
            await jobs._housekeep()  # counts the day's events so far; the state stays as taken at 00:05
        clock[0] = sim.at(START + dt.timedelta(days=days), 0, 5)
        await jobs._housekeep()      # the last day's events become final
        return expected_state
    finally:
        await pool.close()
        await conn.close()


async def stored(conn, days: set[dt.date]) -> tuple[Counter, Counter]:
    events, state = Counter(), Counter()
    for r in await conn.fetch("select * from demand_snapshot"):
        if r["day"] in days:
            key = (r["day"], r["county_code"].strip(), r["need"], r["measure"])
            (state if r["measure"].split(":")[0] in STATE_KINDS else events)[key] = r["value"]
    return events, state


async def test_sixty_simulated_days_match_the_raw_tables(create_migrated_database):
    url = await create_migrated_database()
    expected_state = await simulate(url)
    days = {START + dt.timedelta(days=i) for i in range(DAYS)}
    conn = await database.connect(url)
    try:
        expected_events = await sim.expected_events(conn, days)
        events, state = await stored(conn, days)
        assert sum(v for k, v in expected_events.items() if k[2:] == ("all", "requests_filed")) > 120
        assert any(k[3].startswith("declined:") for k in events) and any(k[3] == "never_placed" for k in events)
        assert any(k[3] == "places_stale" for k in state) and any(k[3].startswith("excluded:") for k in state)
        assert events == +expected_events
        assert state == expected_state
        assert await conn.fetchval("select count(*) from demand_snapshot_day where events_final") >= DAYS
        # aggregate only: no column of the snapshot tables can hold an id
        columns = {r[0] for r in await conn.fetch("select column_name from information_schema.columns "
                                                  "where table_name like 'demand_snapshot%'")}
        assert columns == {"day", "county_code", "need", "measure", "value", "state_taken", "events_final"}
    finally:
        await conn.close()


async def test_figures_survive_the_erasure_of_closed_cases(create_migrated_database):
    """The simulated days lie months back, so housekeeping with a 30-day retention erases their closed
    cases (after taking its snapshot); the days' figures stay as they were."""
    url = await create_migrated_database()
    await simulate(url, days=3, seed=5)
    conn = await database.connect(url)
    try:
        days = {START + dt.timedelta(days=i) for i in range(3)}
        before, _ = await stored(conn, days)
        withdrawn = await conn.fetchval("select count(*) from placement_request where status = 'withdrawn'")
        pool = await database.create_pool(url, max_size=2, service_role=True)
        try:
            jobs = Jobs(pool, Settings(retention_days=30), {},
                        clock=lambda: sim.at(START + dt.timedelta(days=3), 12))
            await jobs._housekeep()
        finally:
            await pool.close()
        assert await conn.fetchval("select count(*) from placement_request where status = 'withdrawn'") < withdrawn
        after, _ = await stored(conn, days)
        assert after == before
    finally:
        await conn.close()
