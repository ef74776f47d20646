"""Writing events to the outbox, inside the transaction of the change they announce.

Fan-out happens here: one outbox row per active subscription of the organisation that asked for the
event type, each with its own event id (the receiver's deduplication key) and retry state. An
organisation without a matching subscription gets no row. Events are therefore not kept for
subscriptions created later.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from skyddat_boende.webhooks.events import EVENT_TYPES, TEST_EVENT, checked_payload


async def enqueue(db: asyncpg.Connection, organisation_id: str, event_type: str, payload: dict[str, str]) -> None:
    """Announce `event_type` to `organisation_id`'s subscribers, in `db`'s current transaction: the event
    exists if and only if that transaction commits. Call it once per organisation that should hear of
    the change. `payload` holds only allow-listed id keys (events.PAYLOAD_KEYS) with UUID strings;
    anything else is refused with ValueError, before anything is written."""
    await enqueue_many(db, organisation_id, event_type, [payload])


async def enqueue_many(
    db: asyncpg.Connection, organisation_id: str, event_type: str, payloads: list[dict[str, str]]
) -> None:
    """`enqueue` for several events of one type and organisation in one statement (a bulk change)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    encoded = [msgspec.json.encode(checked_payload(payload)).decode() for payload in payloads]
    if not db.is_in_transaction():
        raise RuntimeError("enqueue must run inside the transaction of the change it announces")
    if not encoded:
        return
    await db.execute(
        """insert into webhook_outbox (subscription_id, organisation_id, event_type, payload)
           select s.id, s.organisation_id, $2, p.payload::jsonb
             from webhook_subscription s cross join unnest($3::text[]) with ordinality as p (payload, n)
            where s.organisation_id = $1 and s.active and $2 = any(s.event_types)
            order by p.n""",
        organisation_id, event_type, encoded,
    )


async def enqueue_test(db: asyncpg.Connection, organisation_id: str, subscription_id: uuid.UUID) -> uuid.UUID | None:
    """A 'webhook.test' event for one active subscription; its event id, or None when there is no such
    active subscription of the organisation."""
    return await db.fetchval(
        """insert into webhook_outbox (subscription_id, organisation_id, event_type, payload)
           select id, organisation_id, $3, jsonb_build_object('subscription_id', id::text)
             from webhook_subscription
            where id = $2 and organisation_id = $1 and active
           returning id""",
        organisation_id, subscription_id, TEST_EVENT,
    )



RETENTION_DAYS = 30


async def forget_finished(db: asyncpg.Connection) -> None:
    """Housekeeping: delivered or given-up events are deleted RETENTION_DAYS after they finished."""
    await db.execute(
        """delete from webhook_outbox
            where coalesce(delivered_at, given_up_at) < now() - make_interval(days => $1)""",
        RETENTION_DAYS,
    )
