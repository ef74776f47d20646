"""What the pages poll to stay current without a reload, and a request's history as its social worker sees it.

A page carries a short state string; its script asks for the state now (a cheap, unaudited query that
says only whether something changed) and fetches the page again, an ordinary audited read, only when
it differs. The history lists every offer of the request and what became of it, and the placement's
moving in and out: where (municipality only), when, and a decline's reason."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

#: An open offer this close to expiring raises the alert banner.
SOON_MINUTES = 10


async def request_state(db: asyncpg.Connection, municipality_id: str, request_id: uuid.UUID) -> str | None:
    """The request's status, version, offers and placement as one string; None if not this municipality's."""
    return await db.fetchval(
        """select r.status || ':' || r.version
                  || ':' || coalesce((select string_agg(o.id::text || o.status, ',' order by o.created_at)
                                        from offer o where o.request_id = r.id), '')
                  || ':' || coalesce((select p.status from placement p where p.request_id = r.id), '')
             from placement_request r where r.id = $1 and r.municipality_id = $2""",
        request_id, municipality_id,
    )


async def offers_state(db: asyncpg.Connection, operator_id: str) -> str:
    """The operator's open offers and their answers of the last day, as one string."""
    return await db.fetchval(
        """select coalesce(string_agg(o.id::text || o.status, ',' order by o.id), '')
             from offer o join unit u on u.id = o.unit_id join shelter s on s.id = u.shelter_id
            where s.operator_id = $1 and (o.status = 'open' or o.answered_at > now() - interval '1 day')""",
        operator_id,
    )


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: str  # offered, accepted, declined, expired, withdrawn, checked_in, moved_out
    municipality_code: str
    reason: str | None = None


async def request_history(db: asyncpg.Connection, request_id: uuid.UUID) -> list[Event]:
    """Newest first. Call only after the caller's right to the request was checked (request_service.read)."""
    rows = await db.fetch(
        """select o.created_at, o.status, o.answered_at, o.decline_reason, s.municipality_code,
                  p.checked_in_at, p.moved_out_at
             from offer o join unit u on u.id = o.unit_id join shelter s on s.id = u.shelter_id
             left join placement p on p.offer_id = o.id
            where o.request_id = $1""",
        request_id,
    )
    events = []
    for row in rows:
        where = row["municipality_code"]
        events.append(Event(row["created_at"], "offered", where))
        if row["answered_at"] is not None:
            events.append(Event(row["answered_at"], row["status"], where, row["decline_reason"]))
        if row["checked_in_at"] is not None:
            events.append(Event(row["checked_in_at"], "checked_in", where))
        if row["moved_out_at"] is not None:
            events.append(Event(row["moved_out_at"], "moved_out", where))
    return sorted(events, key=lambda event: event.at, reverse=True)
