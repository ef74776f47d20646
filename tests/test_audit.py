"""The audit trail is append-only and its hash chain exposes any edit, insertion or deletion."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from skyddat_boende import audit
from tests.helpers import chain_audit, waiting_for_locks

ACTOR = audit.Actor(issuer="https://idp.example", subject="user-1", organisation="kommun-1280", role="social_worker")


async def _three_events(conn) -> list[int]:
    """Three events chained at once (the test's transaction never commits), and their sequence numbers."""
    await audit.record(conn, ACTOR, "request.create", "placement_request", "r-1", "succeeded")
    await audit.record(conn, ACTOR, "address.read", "shelter", "s-1", "denied", purpose="no placement")
    await audit.record(conn, audit.SYSTEM, "batch.run", "batch", None, "succeeded")
    await chain_audit(conn)
    return sorted(await conn.fetchval("select array_agg(seq) from (select seq from audit_event "
                                      "order by seq desc limit 3) last"))


async def test_chain_of_untouched_events_verifies(conn):
    before = (await audit.verify(conn)).events_checked
    seqs = await _three_events(conn)
    assert seqs == sorted(seqs) and seqs[1] == seqs[0] + 1
    report = await audit.verify(conn)
    assert report.ok and report.events_checked == before + 3


async def test_update_and_delete_are_refused_even_for_the_owner(conn):
    seq = (await _three_events(conn))[0]
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():  # savepoint: the test goes on after the error
            await conn.execute("update audit_event set outcome = 'allowed' where seq = $1", seq)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():  # savepoint: the test goes on after the error
            await conn.execute("delete from audit_event where seq = $1", seq)


async def _tamper(conn, sql: str, *args) -> None:
    """What someone with the table owner's rights could do: switch the guard off and write."""
    await conn.execute("alter table audit_event disable trigger audit_event_append_only")
    await conn.execute(sql, *args)
    await conn.execute("alter table audit_event enable trigger audit_event_append_only")


async def test_edited_event_is_detected_and_located(conn):
    seqs = await _three_events(conn)
    await _tamper(conn, "update audit_event set outcome = 'allowed' where seq = $1", seqs[1])
    report = await audit.verify(conn)
    assert not report.ok
    assert report.first_bad_seq == seqs[1]
    assert "altered" in report.problem


async def test_deleted_event_is_detected_and_located(conn):
    seqs = await _three_events(conn)
    await _tamper(conn, "delete from audit_event where seq = $1", seqs[1])
    report = await audit.verify(conn)
    assert not report.ok and report.first_bad_seq == seqs[1]
    assert "missing" in report.problem


async def test_deleted_last_event_is_detected_by_the_head(conn):
    seqs = await _three_events(conn)
    await _tamper(conn, "delete from audit_event where seq = $1", seqs[2])
    report = await audit.verify(conn)
    assert not report.ok and "head" in report.problem


async def test_inserted_event_is_detected(conn):
    seqs = await _three_events(conn)
    # make room after the second event and squeeze in a forged one that links to it
    await conn.execute("alter table audit_event disable trigger user")
    await conn.execute("update audit_event set seq = seq + 1000000 where seq > $1", seqs[1])
    await conn.execute("update audit_event set seq = seq - 999999 where seq > 1000000")
    await conn.execute(
        """insert into audit_event (seq, actor_issuer, actor_subject, action, object_type, outcome, prev_hash, hash)
           select $1 + 1, 'https://forged.example', 'x', 'address.read', 'shelter', 'allowed', hash,
                  sha256(hash || 'forged'::bytea)
             from audit_event where seq = $1""",
        seqs[1],
    )
    await conn.execute("alter table audit_event enable trigger user")
    report = await audit.verify(conn)
    assert not report.ok
    assert report.first_bad_seq == seqs[1] + 1


async def test_an_open_audited_transaction_does_not_hold_up_another(database_url):
    """Chaining at insert locked the chain's head until commit: a second writer waited for the first.
    Neither the second writer nor a chainer waits for an open transaction's event: it is chained later."""
    from skyddat_boende import database

    first, second = await database.connect(database_url), await database.connect(database_url)
    try:
        async with first.transaction():
            await audit.record(first, ACTOR, "request.create", "placement_request", "first", "succeeded")
            async with second.transaction():
                await asyncio.wait_for(
                    audit.record(second, ACTOR, "request.create", "placement_request", "second", "succeeded"), 10)
            await asyncio.wait_for(chain_audit(second), 10)
            assert await second.fetchval("select count(*) from audit_event where object_id = 'second'") == 1
            assert await second.fetchval("select count(*) from audit_event where object_id = 'first'") == 0
        await chain_audit(first)
        order = await first.fetch("select object_id from audit_event where object_id in ('first', 'second') "
                                  "order by seq")
        assert [r["object_id"] for r in order] == ["second", "first"]  # chained in the round after commit
        assert (await audit.verify(first)).ok
    finally:
        await first.close()
        await second.close()


async def test_a_rolled_back_event_leaves_nothing(database_url):
    from skyddat_boende import database

    conn = await database.connect(database_url)
    try:
        before = await conn.fetchval("select count(*) from audit_event")
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await audit.record(conn, ACTOR, "request.create", "placement_request", "rolled-back", "succeeded")
                raise RuntimeError("the write failed")
        await chain_audit(conn)
        assert await conn.fetchval("select count(*) from audit_event where object_id = 'rolled-back'") == 0
        assert await conn.fetchval("select count(*) from audit_pending where object_id = 'rolled-back'") == 0
        assert await conn.fetchval("select count(*) from audit_event") >= before
        await audit.record(conn, ACTOR, "request.create", "placement_request", "committed", "succeeded")
        assert await conn.fetchval("select count(*) from audit_pending where object_id = 'committed'") == 1
        await chain_audit(conn)
        assert await conn.fetchval("select count(*) from audit_event where object_id = 'committed'") >= 1
        assert await conn.fetchval("select count(*) from audit_pending where object_id = 'committed'") == 0
    finally:
        await conn.close()


async def test_events_of_concurrent_transactions_are_chained_exactly_once(database_url):
    """Writers commit while two chainers run at once: every committed event joins the chain once."""
    from skyddat_boende import database

    tag = uuid.uuid4().hex[:8]
    writers = [await database.connect(database_url) for _ in range(4)]
    chainers = [await database.connect(database_url) for _ in range(2)]
    try:
        async def write(conn, w: int) -> None:
            for i in range(25):
                async with conn.transaction():
                    for part in "ab":
                        await audit.record(conn, ACTOR, "request.create", "placement_request", f"{tag}-{w}-{i}{part}",
                                           "succeeded")

        async def chain(conn) -> None:
            for _ in range(20):
                await audit.chain_pending(conn)
                await asyncio.sleep(0)

        await asyncio.gather(*(write(c, w) for w, c in enumerate(writers)), *(chain(c) for c in chainers))
        await asyncio.gather(*(audit.chain_pending(c) for c in chainers))
        chained = await chainers[0].fetch(
            "select object_id, count(*) as n from audit_event where object_id like $1 group by object_id", f"{tag}-%")
        assert len(chained) == 4 * 25 * 2 and all(r["n"] == 1 for r in chained)
        assert await chainers[0].fetchval("select count(*) from audit_pending where object_id like $1", f"{tag}-%") == 0
        # a transaction's events stay together and in the order recorded
        seqs = {r["object_id"]: r["seq"] for r in await chainers[0].fetch(
            "select object_id, seq from audit_event where object_id like $1", f"{tag}-%")}
        assert all(seqs[f"{tag}-{w}-{i}b"] > seqs[f"{tag}-{w}-{i}a"] for w in range(4) for i in range(25))
        report = await audit.verify(chainers[0])
        assert report.ok and report.events_pending == 0
    finally:
        for conn in (*writers, *chainers):
            await conn.close()


async def test_a_chainer_at_work_does_not_hold_up_an_audited_commit(database_url):
    """A chainer holds the chain's head (and its own lock) until it commits: writers never wait for it,
    a second chainer does."""
    from skyddat_boende import database

    chainer, writer, other = [await database.connect(database_url) for _ in range(3)]
    try:
        async with chainer.transaction():
            await audit.record(chainer, ACTOR, "request.create", "placement_request", "chainer-own", "succeeded")
            await chain_audit(chainer)  # moved its own event: holds the head row
            async with writer.transaction():
                await asyncio.wait_for(audit.record(writer, ACTOR, "request.create", "placement_request",
                                                    "while-chaining", "succeeded"), 10)
            second_chainer = asyncio.create_task(audit.chain_pending(other))
            await waiting_for_locks(writer)
            assert not second_chainer.done()
        assert await asyncio.wait_for(second_chainer, 10) >= 1
        assert await writer.fetchval("select count(*) from audit_event where object_id = 'while-chaining'") == 1
    finally:
        for conn in (chainer, writer, other):
            await conn.close()


async def test_an_event_keeps_the_time_it_was_recorded(database_url):
    from skyddat_boende import database

    conn = await database.connect(database_url)
    tag = f"recorded-{uuid.uuid4().hex[:8]}"
    try:
        await audit.record(conn, ACTOR, "request.create", "placement_request", tag, "succeeded")
        await asyncio.sleep(0.3)
        chained_after = await conn.fetchval("select clock_timestamp()")
        await chain_audit(conn)
        assert await conn.fetchval("select occurred_at from audit_event where object_id = $1", tag) < chained_after
        assert (await audit.verify(conn)).ok  # the hash covers the time recorded
    finally:
        await conn.close()
