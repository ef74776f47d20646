"""The audit trail: append-only, hash-chained events of who did or tried what (sql/0003_audit.sql).

Events are written in the caller's transaction and join the chain when it commits (sql/0035), so
audited writers do not wait for each other's transactions, only for each other's commits.

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
    """Record one event in the caller's transaction; it is chained (and gets its `seq`) at commit."""
    await conn.execute(
        """insert into audit_pending (actor_issuer, actor_subject, actor_organisation, actor_role, actor_client,
                                    action, object_type, object_id, outcome, purpose)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        actor.issuer, actor.subject, actor.organisation, actor.role, actor.client,
        action, object_type, object_id, outcome, purpose,
    )


class ChainReport(msgspec.Struct, frozen=True):
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def _digest(prev_hash: bytes, row: asyncpg.Record) -> bytes:
    occurred = row["occurred_at"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [
        str(row["seq"]), occurred, row["actor_issuer"], row["actor_subject"], row["actor_organisation"] or "",
        row["actor_role"] or "", row["actor_client"] or "", row["action"], row["object_type"],
        row["object_id"] or "", row["outcome"], row["purpose"] or "",
    ]
    return hashlib.sha256(prev_hash + "\x1f".join(fields).encode()).digest()


async def verify(conn: asyncpg.Connection, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first event that was edited, inserted or deleted."""
    if conn.is_in_transaction():
        return await _walk(conn, batch)
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
    if head["last_seq"] != checked or bytes(head["last_hash"]) != expected_prev:
        return ChainReport(
            False, checked, checked, f"the chain ends at event {checked} but its head says {head['last_seq']}"
        )
    return ChainReport(True, checked)


