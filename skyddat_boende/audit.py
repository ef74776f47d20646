"""The audit trail: append-only, hash-chained events of who did or tried what (sql/0003_audit.sql).

Events are written to `audit_pending` in the caller's transaction, and `chain_pending` (run by the
worker every few seconds, by `verify` and before every read of the trail) moves the committed ones into
the chain (sql/0038): audited writers share no row, so they wait neither for each other's transactions
nor for each other's commits.

Events carry ids and codes only: never addresses, names, personal identity numbers or case details.
`verify` recomputes every hash in Python, independently of the SQL function that wrote it.
"""

from __future__ import annotations

import hashlib
from datetime import timezone
from typing import Literal

import asyncpg
import msgspec

Outcome = Literal["allowed", "denied", "succeeded", "failed"]

SYSTEM_ISSUER = "urn:skyddat-boende:system"


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    issuer: str
    subject: str
    organisation: str | None = None
    role: str | None = None
    client: str | None = None


SYSTEM = Actor(issuer=SYSTEM_ISSUER, subject="service")


async def record(
    conn: asyncpg.Connection,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None,
    outcome: Outcome,
    purpose: str | None = None,
) -> None:
    """Record one event in the caller's transaction; after it commits, `chain_pending` chains it (and
    gives it its `seq`), keeping the time it was recorded."""
    await conn.execute(
        """insert into audit_pending (actor_issuer, actor_subject, actor_organisation, actor_role, actor_client,
                                    action, object_type, object_id, outcome, purpose)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        actor.issuer, actor.subject, actor.organisation, actor.role, actor.client,
        action, object_type, object_id, outcome, purpose,
    )


async def chain_pending(conn: asyncpg.Connection) -> int:
    """Move every committed pending event into the chain, in the order recorded; how many it moved.
    One caller at a time (the others wait). Outside a transaction, or in a READ COMMITTED one."""
    return await conn.fetchval("select audit_chain_pending()")


class ChainReport(msgspec.Struct, frozen=True):
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    events_pending: int = 0
    """Events of committed transactions not yet chained when the chain was read (not a failure)."""


def _digest(prev_hash: bytes, row: asyncpg.Record) -> bytes:
    occurred = row["occurred_at"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [
        str(row["seq"]), occurred, row["actor_issuer"], row["actor_subject"], row["actor_organisation"] or "",
        row["actor_role"] or "", row["actor_client"] or "", row["action"], row["object_type"],
        row["object_id"] or "", row["outcome"], row["purpose"] or "",
    ]
    return hashlib.sha256(prev_hash + "\x1f".join(fields).encode()).digest()


async def verify(conn: asyncpg.Connection, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first event that was edited, inserted or deleted.
    Outside a transaction, chains the pending events first."""
    if conn.is_in_transaction():
        return await _walk(conn, batch)
    await chain_pending(conn)
    async with conn.transaction(isolation="repeatable_read", readonly=True):  # one consistent snapshot
        return await _walk(conn, batch)


async def _walk(conn: asyncpg.Connection, batch: int) -> ChainReport:
    expected_prev, expected_seq, checked = b"", 1, 0
    async for row in conn.cursor("select * from audit_event order by seq", prefetch=batch):
        seq = row["seq"]
        if seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"event {expected_seq} is missing (next is {seq})")
        if bytes(row["prev_hash"]) != expected_prev:
            return ChainReport(False, checked, seq, f"event {seq} does not link to event {seq - 1}")
        if _digest(expected_prev, row) != bytes(row["hash"]):
            return ChainReport(False, checked, seq, f"event {seq} was altered: its content does not match its hash")
        expected_prev, expected_seq, checked = bytes(row["hash"]), seq + 1, checked + 1
    head = await conn.fetchrow("select last_seq, last_hash from audit_chain_head")
    pending = await conn.fetchval("select count(*) from audit_pending")
    if head["last_seq"] != checked or bytes(head["last_hash"]) != expected_prev:
        return ChainReport(
            False, checked, checked, f"the chain ends at event {checked} but its head says {head['last_seq']}",
            pending,
        )
    return ChainReport(True, checked, events_pending=pending)


