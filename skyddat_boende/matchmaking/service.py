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
from skyddat_boende import events, workflow
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter, snapshot
from skyddat_boende.retries import retrying

CANDIDATES = 10
SWEEP_BATCH = 20
"""Offers the expiry sweep expires in one transaction (each request then gets its next offer in one of its own)."""


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
    # the availability first: a snapshot rebuilt now must not hold up the request's other callers (a
    # withdrawal waits for the request's lock); every candidate is checked again under its unit's lock
    available = await snapshot.availability(db, places, settings.stale_after_hours)
    request = await workflow.lock_request(db, request_id)
    if request is None or request["status"] != "waiting":
        return None
    row = (await adapter.request_rows(db, "r.id = $1", request_id))[0]
    tried = (await adapter.tried(db, [request_id])).get(str(request_id), adapter.NOTHING_TRIED)
    engine_request = adapter.request_from_row(row, places, tried)
    ranked, report = await asyncio.to_thread(rank, engine_request, available)

    offerable = set(await available.offerable(db, [c.unit_id for c in ranked], household_beds(row)))
    candidates = [c for c in ranked if c.unit_id in offerable]
    # Concurrent requests rank the same best units first: each would wait for the one offering a unit
    # right now to commit, only to find its beds taken, one request after another. So the candidates a
    # request is offering right now are passed over first, and waited for only if no other one is left.
    for wait in (False, True):
        passed_over = []
        for candidate in candidates:
            try:
                offer_id = await _offer_unit(db, row, available, candidate, settings, wait=wait)
            except _PassedOver:
                passed_over.append(candidate)
                continue
            if offer_id is not None:
                await db.execute("update placement_request set last_match = $2 where id = $1", request_id, report)
                return Outcome(offer_id, report)
        candidates = passed_over
    await db.execute("update placement_request set last_match = $2 where id = $1", request_id, report)
    await events.publish(db, row["municipality_id"], "request.waiting", request_id=request_id)
    return Outcome(None, report)


class _PassedOver(Exception):
    """The unit is no longer as ranked, or (without waiting) another request is offering it right now."""


class _Refused(Exception):
    """The database refused the offer (its beds were taken meanwhile): roll back the unit's lock."""


async def _offer_unit(db: asyncpg.Connection, row: asyncpg.Record, available: adapter.Availability, candidate,
                      settings: Settings, *, wait: bool) -> uuid.UUID | None:
    """Lock the unit and offer it, in a savepoint: a unit that turns out taken is unlocked again, so the
    transaction never holds one unit while it waits for the next (out of id order, that closes a circle
    with a caller locking units in id order, and each such deadlock costs a second before its retry)."""
    try:
        async with db.transaction():
            if not await available.still_offerable(db, candidate.unit_id, wait=wait):
                raise _PassedOver
            offer_id = await create_offer(db, row, candidate.unit_id, msgspec.structs.asdict(candidate.score.fit),
                                          settings)
            if offer_id is None:
                raise _Refused
            return offer_id
    except _Refused:
        return None


def household_beds(request_row: asyncpg.Record) -> int:
    """The beds an offer holds for the request's household: one a person."""
    return len(request_row["adults"]) + len(request_row["children"])


async def create_offer(
    db: asyncpg.Connection, request_row: asyncpg.Record, unit_id: str, fit: dict[str, int], settings: Settings
) -> uuid.UUID | None:
    """Hold the unit's beds for the request (locked by the caller), unless the database finds them
    taken or held by now (workflow.create_offer)."""
    return await workflow.create_offer(db, request_row["id"], request_row["municipality_id"], uuid.UUID(unit_id),
                                       household_beds(request_row),
                                       hold_for(settings, request_row["urgency"]), fit)


async def expire_due_offers(
    pool: asyncpg.Pool, settings: Settings, places: dict[str, Municipality], *, batch: int = SWEEP_BATCH
) -> int:
    """Expire open offers past their hold and offer each request its next candidate, `batch` offers a
    transaction: offers made by one national batch share one expiry, and expiring them all in one
    transaction would hold every request, unit and new offer it touches until the last is done.
    Each next offer is a transaction of its own: it locks a unit, and a transaction holding a unit
    must not go on to lock another request (the lock order), nor a second unit out of id order."""
    async with pool.acquire() as db:
        due = [r["id"] for r in await db.fetch(
            "select id from offer where status = 'open' and expires_at <= now() order by expires_at, id")]
    expired = 0
    for start in range(0, len(due), batch):
        async with pool.acquire() as db:
            requests = await retrying(db, _expire_some, due[start:start + batch])
            for request_id in requests:
                await retrying(db, offer_next, request_id, settings, places)
        expired += len(requests)
    return expired


async def _expire_some(db: asyncpg.Connection, offer_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Expire those of the offers still open and past their hold, their requests locked in id order;
    the requests whose offer expired."""
    rows = await db.fetch("select id from offer where id = any($1::uuid[]) order by request_id, id", offer_ids)
    return [offer["request_id"] for row in rows if (offer := await workflow.expire(db, row["id"]))]
