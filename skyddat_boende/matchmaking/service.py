"""From a waiting request to an open offer: fast-track matching, holds, the next candidate on decline
or expiry, and waiting for the national batch when nothing fits."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

import asyncpg
import msgspec

from matching.rules import explain_exclusions
from matching.types import Municipality, Request
from skyddat_boende import events
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter, snapshot

CANDIDATES = 10


@dataclass(frozen=True)
class Outcome:
    offer_id: uuid.UUID | None
    report: dict


def hold_for(settings: Settings, urgency: str) -> dt.timedelta:
    minutes = settings.acute_offer_hold_minutes if urgency == "acute" else settings.offer_hold_minutes
    return dt.timedelta(minutes=minutes)


def rank(engine_request: Request, available: adapter.Availability) -> tuple[list, dict]:
    """Fresh availability first; stale (unconfirmed) units only after every fitting fresh one."""
    ranked, fitting, excluded = [], 0, Counter()
    for result in available.top(engine_request, CANDIDATES):
        ranked.extend(result.ranked)
        fitting += result.fitting_units
        excluded.update(result.excluded)
    text = f"{fitting:,} units fit"
    if excluded:
        text += "; excluded: " + explain_exclusions(excluded)
    return ranked, {"fitting_units": fitting, "excluded": dict(excluded), "explanation": text + "."}


async def offer_next(
    db: asyncpg.Connection, request_id: uuid.UUID, settings: Settings, places: dict[str, Municipality]
) -> Outcome | None:
    """Offer the best fitting unit not yet offered to this request, or leave it waiting.
    None when the request is not open for offers (withdrawn, placed, or holding an open offer)."""
    status = await db.fetchval("select status from placement_request where id = $1 for update", request_id)
    if status not in ("waiting", "offered"):
        return None
    if await db.fetchval("select 1 from offer where request_id = $1 and status = 'open'", request_id):
        return None
    row = (await adapter.request_rows(db, "r.id = $1", request_id))[0]
    engine_request = adapter.request_from_row(row, places)
    tried = [str(r["unit_id"]) for r in await db.fetch("select unit_id from offer where request_id = $1", request_id)]
    available = (await snapshot.availability(db, places, settings.stale_after_hours)).without(tried)
    ranked, report = await asyncio.to_thread(rank, engine_request, available)

    for candidate in ranked:
        if not await available.still_offerable(db, candidate.unit_id):
            continue
        fit = msgspec.structs.asdict(candidate.score.fit)
        offer_id = await create_offer(db, row, candidate.unit_id, fit, settings)
        if offer_id is not None:
            await db.execute("update placement_request set last_match = $2 where id = $1", request_id, report)
            return Outcome(offer_id, report)
    await db.execute(
        "update placement_request set status = 'waiting', last_match = $2, updated_at = now() where id = $1",
        request_id, report,
    )
    await events.publish(db, row["municipality_id"], "request.waiting", request_id=request_id)
    return Outcome(None, report)


async def create_offer(
    db: asyncpg.Connection, request_row: asyncpg.Record, unit_id: str, fit: dict[str, int], settings: Settings
) -> uuid.UUID | None:
    """Hold the unit for the request, unless another transaction took it first (the open-offer index
    says so); then mark the request offered and tell the shelter's operator and the municipality."""
    request_id = request_row["id"]
    try:
        async with db.transaction():  # a savepoint: a lost race leaves the outer transaction intact
            offer_id = await db.fetchval(
                """insert into offer (request_id, unit_id, beds, expires_at, fit)
                   values ($1, $2, $3, now() + $4, $5) returning id""",
                request_id, uuid.UUID(unit_id), len(request_row["adults"]) + len(request_row["children"]),
                hold_for(settings, request_row["urgency"]), fit,
            )
    except asyncpg.UniqueViolationError:
        return None
    await db.execute("update placement_request set status = 'offered', updated_at = now() where id = $1", request_id)
    operator = await db.fetchval(
        "select s.operator_id from unit u join shelter s on s.id = u.shelter_id where u.id = $1", uuid.UUID(unit_id)
    )
    await events.publish(db, operator, "offer.created", offer_id=offer_id, unit_id=unit_id)
    await events.publish(db, request_row["municipality_id"], "offer.created", offer_id=offer_id, request_id=request_id)
    return offer_id


async def expire_due_offers(pool: asyncpg.Pool, settings: Settings, places: dict[str, Municipality]) -> int:
    """Expire open offers past their hold and offer each request its next candidate."""
    async with pool.acquire() as db, db.transaction():
        expired = await db.fetch(
            """update offer o set status = 'expired', answered_at = now()
                from unit u, shelter s, placement_request r
               where o.status = 'open' and o.expires_at <= now()
                 and u.id = o.unit_id and s.id = u.shelter_id and r.id = o.request_id
               returning o.id, o.request_id, o.unit_id, s.operator_id, r.municipality_id"""
        )
        for offer in expired:
            await events.publish(db, offer["operator_id"], "offer.expired", offer_id=offer["id"])
            await events.publish(db, offer["municipality_id"], "offer.expired", offer_id=offer["id"],
                                 request_id=offer["request_id"])
            await offer_next(db, offer["request_id"], settings, places)
    return len(expired)
