"""One lock order for every path, and deadlocks retried (issue 21, defect 5): accept and withdraw used to
take the offer's and the request's locks in opposite orders and deadlock into a 500."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import httpx
import pytest

from skyddat_boende import database, retries
from tests.helpers import running_server, waiting_for_locks
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, shelter_body

NORTH = "operator-north"


async def test_accept_and_withdraw_at_once_answer_200_and_409_never_a_deadlock(create_migrated_database, issuer,
                                                                                tokens):
    """The accept is held at the shelter's lock (a test transaction holds it) after it has locked what it
    locks first; the withdrawal of the same request then starts; when the shelter is released both go on.
    Taken in opposite orders (offer then request, request then offer) this deadlocked."""
    url = await create_migrated_database()
    await organisations(url)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0"}
    staff, malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
    with running_server(env) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            shelter = (await http.post("/api/shelters", headers=staff,
                                       json=shelter_body("2480", rate=2000, label="Norr"))).json()
            await http.post(f"/api/shelters/{shelter['id']}/units", headers=staff, json={"label": "Lgh 1", "beds": 3})
            request = (await http.post("/api/requests", headers=malmo, json=mother_with_son_and_dog())).json()
            assert request["status"] == "offered"
            holder = await database.connect(url)
            try:
                hold = holder.transaction()
                await hold.start()
                await holder.execute("select 1 from shelter where id = $1 for update", uuid.UUID(shelter["id"]))
                accept = asyncio.create_task(http.post(f"/api/offers/{request['offer']['id']}/accept", headers=staff))
                await waiting_for_locks(holder, 1)
                withdraw = asyncio.create_task(http.post(f"/api/requests/{request['id']}/withdraw", headers=malmo))
                await waiting_for_locks(holder, 2)
                await hold.rollback()
                accepted, withdrawn = await accept, await withdraw
            finally:
                await holder.close()
    assert (accepted.status_code, withdrawn.status_code) == (200, 409), (accepted.text, withdrawn.text)
    assert withdrawn.headers["content-type"].startswith("application/problem+json")


async def test_a_deadlock_victim_is_retried_and_both_transactions_succeed(create_migrated_database):
    """Two transactions lock two rows in opposite orders: PostgreSQL aborts one; retrying() runs it again."""
    url = await create_migrated_database()
    a, b = await database.connect(url), await database.connect(url)
    await a.execute("create table pair (id int primary key, n int not null default 0); insert into pair values (1), (2)")
    attempts = {"a": 0, "b": 0}
    first_locked = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def work(db: asyncpg.Connection, me: str, first: int, second: int) -> None:
        attempts[me] += 1
        await db.execute("update pair set n = n + 1 where id = $1", first)
        if attempts[me] == 1:  # only the first attempt waits for the other: the retry finds its way
            first_locked[me].set()
            await first_locked["b" if me == "a" else "a"].wait()
        await db.execute("update pair set n = n + 1 where id = $1", second)

    try:
        await asyncio.gather(retries.retrying(a, work, "a", 1, 2), retries.retrying(b, work, "b", 2, 1))
        counts = [r["n"] for r in await a.fetch("select n from pair order by id")]
    finally:
        await a.close()
        await b.close()
    assert sorted(attempts.values()) == [1, 2]  # one deadlock victim, retried once
    assert counts == [2, 2]  # each transaction's two updates, once each


async def test_retries_are_bounded_then_503_with_retry_after(create_migrated_database):
    url = await create_migrated_database()
    conn = await database.connect(url)
    calls = []

    async def always_contended(db: asyncpg.Connection) -> None:
        calls.append(1)
        await db.execute("select 1")
        raise retries.Contended("a row appeared that must be locked first")

    try:
        with pytest.raises(retries.Busy) as raised:
            await retries.retrying(conn, always_contended)
        assert not conn.is_in_transaction()
    finally:
        await conn.close()
    assert len(calls) == retries.ATTEMPTS
    assert raised.value.status == 503 and raised.value.headers["Retry-After"]
