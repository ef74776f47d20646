"""The audit trail is append-only and its hash chain exposes any edit, insertion or deletion."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from skyddat_boende import audit

ACTOR = audit.Actor(issuer="https://idp.example", subject="user-1", organisation="kommun-1280", role="social_worker")


async def _three_events(conn) -> list[int]:
    """Three events chained at once (the test's transaction never commits), and their sequence numbers."""
    await conn.execute("set constraints audit_pending_to_chain immediate")
    await audit.record(conn, ACTOR, "request.create", "placement_request", "r-1", "succeeded")
    await audit.record(conn, ACTOR, "address.read", "shelter", "s-1", "denied", purpose="no placement")
    await audit.record(conn, audit.SYSTEM, "batch.run", "batch", None, "succeeded")
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
    """Chaining at insert locked the chain's head until commit: a second writer waited for the first."""
    from skyddat_boende import database

    first, second = await database.connect(database_url), await database.connect(database_url)
    try:
        async with first.transaction():
            await audit.record(first, ACTOR, "request.create", "placement_request", "first", "succeeded")
            async with second.transaction():
                await asyncio.wait_for(
                    audit.record(second, ACTOR, "request.create", "placement_request", "second", "succeeded"), 10)
        order = await first.fetch("select object_id from audit_event where object_id in ('first', 'second') "
                                  "order by seq")
        assert [r["object_id"] for r in order] == ["second", "first"]  # chained in commit order
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
        assert await conn.fetchval("select count(*) from audit_event") == before
        assert await conn.fetchval("select count(*) from audit_pending") == 0
        await audit.record(conn, ACTOR, "request.create", "placement_request", "committed", "succeeded")
        assert await conn.fetchval("select count(*) from audit_event where object_id = 'committed'") >= 1
        assert await conn.fetchval("select count(*) from audit_pending") == 0
    finally:
        await conn.close()
