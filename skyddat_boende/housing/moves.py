"""Every status change of an onward request and an onward offer happens here.

    onward request: waiting -> offered -> accepted -> moved_in     (each step bumps its version)
                    offered -> waiting   (its offer declined or expired: the next apartment is offered)
                    waiting | offered -> withdrawn   (its open offer withdrawn)
    onward offer:   open -> accepted | declined | expired | withdrawn   (an answer is final)

The database refuses any other request step (sql/0025). Lock order (docs/decisions.md): the onward
request, then its offer, then the apartment; a move-in then ends the shelter placement through
skyddat_boende/workflow.py, in that module's own order (its request, placement, unit). Callers hold the
transaction; the functions here write and publish (webhook outbox) in it.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from matching.onward import rank
from skyddat_boende import events, workflow
from skyddat_boende.config import Settings
from skyddat_boende.housing import repository
from skyddat_boende.retries import retrying
from skyddat_boende.workflow import Answer

# the database refuses an offer (sql/0025): the apartment was offered or let meanwhile, or it fails a
# safety rule by a rounding the engine read the other way; the next candidate is tried
OFFER_REFUSED = {"onward_offer_one_per_apartment", "onward_offer_one_open_per_request", "onward_offer_available",
                 "onward_offer_protected_identity", "onward_offer_excluded_area"}

OFFER_ROW = """
select o.id, o.status, o.expires_at <= now() as expired, o.onward_request_id, o.apartment_id, o.moved_in_at,
       a.provider_id, r.municipality_id, r.status as request_status, r.placement_id
  from onward_offer o join apartment a on a.id = o.apartment_id join onward_request r on r.id = o.onward_request_id
"""


async def lock_request(db: asyncpg.Connection, request_id: uuid.UUID) -> asyncpg.Record | None:
    return await db.fetchrow("select * from onward_request where id = $1 for update", request_id)


async def _move_request(db: asyncpg.Connection, request_id: uuid.UUID, to: str) -> None:
    await db.execute(
        """update onward_request set status = $2, version = version + 1, updated_at = now(),
                  moved_in_at = case when $2 = 'moved_in' then now() end
            where id = $1""",
        request_id, to,
    )


async def offer_next(db: asyncpg.Connection, request_id: uuid.UUID, settings: Settings, places) -> uuid.UUID | None:
    """Offer a waiting onward request the best fitting apartment it was not offered before (fast track),
    and keep the "why no match" counts for the social worker. None when nothing fits."""
    row = await lock_request(db, request_id)
    if row is None or row["status"] != "waiting":
        return None
    result = rank(repository.engine_request(row, places), await repository.free_apartments(db, places),
                  repository.today(), skip=await repository.offered_before(db, request_id))
    await db.execute("update onward_request set last_match = $2 where id = $1", request_id,
                     {"fitting_units": result.fitting, "excluded": result.excluded, "explanation": result.explanation})
    hold = dt.timedelta(days=settings.onward_offer_hold_days)
    for candidate in result.ranked:
        try:
            async with db.transaction():  # a savepoint: an apartment offered meanwhile is skipped
                offer_id = await db.fetchval(
                    """insert into onward_offer (onward_request_id, apartment_id, expires_at, fit)
                       values ($1, $2, now() + $3, $4) returning id""",
                    request_id, uuid.UUID(candidate.apartment_id), hold, candidate.fit,
                )
        except (asyncpg.UniqueViolationError, asyncpg.CheckViolationError) as exc:
            if exc.constraint_name not in OFFER_REFUSED:
                raise
            continue
        await _move_request(db, request_id, "offered")
        await events.publish(db, candidate.provider_id, "onward_offer.created", onward_offer_id=offer_id,
                             apartment_id=candidate.apartment_id)
        await events.publish(db, row["municipality_id"], "onward_offer.created", onward_offer_id=offer_id,
                             onward_request_id=request_id)
        return offer_id
    return None


async def lock_offer(db: asyncpg.Connection, offer_id: uuid.UUID) -> asyncpg.Record | None:
    """Lock the offer's request, then the offer (the lock order); None if there is no such offer."""
    request_id = await db.fetchval("select onward_request_id from onward_offer where id = $1", offer_id)
    if request_id is None:
        return None
    await lock_request(db, request_id)
    return await db.fetchrow(OFFER_ROW + " where o.id = $1 for update of o", offer_id)


async def _close(db: asyncpg.Connection, offer: asyncpg.Record, to: str, reason: str | None = None) -> None:
    await db.execute("update onward_offer set status = $2, answered_at = now(), decline_reason = $3 where id = $1",
                     offer["id"], to, reason)
    await _move_request(db, offer["onward_request_id"], "waiting")


async def decline(db: asyncpg.Connection, provider_id: str, offer_id: uuid.UUID, reason: str, settings, places):
    """The provider declines with a reason; the household is offered its next apartment at once."""
    offer = await lock_offer(db, offer_id)
    if refused := workflow.refusal(offer, provider_id, "provider_id"):
        return refused
    await _close(db, offer, "declined", reason)
    await events.publish(db, offer["municipality_id"], "onward_offer.declined", onward_offer_id=offer_id,
                         onward_request_id=offer["onward_request_id"])
    await offer_next(db, offer["onward_request_id"], settings, places)
    return Answer.DONE


async def expire(db: asyncpg.Connection, offer_id: uuid.UUID, settings, places) -> bool:
    """Expire the offer if it is open and past its hold, then offer the next apartment."""
    offer = await lock_offer(db, offer_id)
    if offer is None or offer["status"] != "open" or not offer["expired"]:
        return False
    await _close(db, offer, "expired")
    for organisation in (offer["provider_id"], offer["municipality_id"]):
        await events.publish(db, organisation, "onward_offer.expired", onward_offer_id=offer_id)
    await offer_next(db, offer["onward_request_id"], settings, places)
    return True


async def withdraw(db: asyncpg.Connection, municipality_id: str, request_id: uuid.UUID) -> bool | None:
    """Withdraw the request and its open offer (the apartment is free again). None if it is not this
    municipality's; False once it is accepted, moved in or withdrawn."""
    request = await lock_request(db, request_id)
    if request is None or request["municipality_id"] != municipality_id:
        return None
    if request["status"] not in ("waiting", "offered"):
        return False
    withdrawn = await db.fetch(
        """update onward_offer o set status = 'withdrawn', answered_at = now() from apartment a
            where o.onward_request_id = $1 and o.status = 'open' and a.id = o.apartment_id
           returning o.id, a.provider_id""",
        request_id,
    )
    await _move_request(db, request_id, "withdrawn")
    for offer in withdrawn:
        await events.publish(db, offer["provider_id"], "onward_offer.withdrawn", onward_offer_id=offer["id"])
    return True


URGENCY_ORDER = "case urgency when 'acute' then 0 when 'days' then 1 else 2 end"


async def offer_waiting(pool: asyncpg.Pool, settings: Settings, places) -> int:
    """Offer every waiting onward request an apartment published or freed since it last looked, the most
    urgent and longest waiting first, one transaction each (the fast track, request by request: a home is
    offered for days, so greedy order by need is what a housing queue does)."""
    async with pool.acquire() as db:
        waiting = [r["id"] for r in await db.fetch(
            f"select id from onward_request where status = 'waiting' order by {URGENCY_ORDER}, waiting_since, id")]
    offered = 0
    for request_id in waiting:
        async with pool.acquire() as db:
            offered += await retrying(db, offer_next, request_id, settings, places) is not None
    return offered


async def sweep(pool: asyncpg.Pool, settings: Settings, places) -> None:
    """The onward job: expire offers past their hold (the next apartment is offered), then offer the
    requests still waiting."""
    await expire_due(pool, settings, places)
    await offer_waiting(pool, settings, places)


async def expire_due(pool: asyncpg.Pool, settings: Settings, places) -> int:
    """Every open onward offer past its hold, one transaction each."""
    async with pool.acquire() as db:
        due = [r["id"] for r in await db.fetch(
            "select id from onward_offer where status = 'open' and expires_at <= now() order by expires_at, id")]
    expired = 0
    for offer_id in due:
        async with pool.acquire() as db:
            expired += await retrying(db, expire, offer_id, settings, places)
    return expired


async def accept(db: asyncpg.Connection, provider_id: str, offer_id: uuid.UUID, lease: dt.date, move_in: dt.date):
    """Accept with the signed-lease and move-in dates: the offer, the apartment (let) and the request
    change together. Accepting again what this provider accepted is not a conflict (a retry)."""
    offer = await lock_offer(db, offer_id)
    if offer is not None and offer["status"] == "accepted" and offer["provider_id"] == provider_id:
        return Answer.DONE
    if refused := workflow.refusal(offer, provider_id, "provider_id"):
        return refused
    await db.execute(
        """update onward_offer set status = 'accepted', answered_at = now(), lease_signed_on = $2, move_in_on = $3
            where id = $1""",
        offer_id, lease, move_in,
    )
    await db.execute("update apartment set status = 'let', version = version + 1, updated_at = now() where id = $1",
                     offer["apartment_id"])
    await _move_request(db, offer["onward_request_id"], "accepted")
    await events.publish(db, offer["municipality_id"], "onward_offer.accepted", onward_offer_id=offer_id,
                         onward_request_id=offer["onward_request_id"])
    return Answer.DONE


async def move_in(db: asyncpg.Connection, provider_id: str, offer_id: uuid.UUID) -> Answer:
    """The household has moved in: its shelter placement ends and the shelter's beds are free again
    (workflow.move_placement), and the shelter's operator and the municipality are told."""
    offer = await lock_offer(db, offer_id)
    if offer is None or offer["provider_id"] != provider_id:
        return Answer.MISSING
    if offer["status"] != "accepted" or offer["moved_in_at"] is not None:
        return Answer.ANSWERED
    await db.execute("update onward_offer set moved_in_at = now() where id = $1", offer_id)
    await _move_request(db, offer["onward_request_id"], "moved_in")
    for organisation in (offer["municipality_id"], provider_id):
        await events.publish(db, organisation, "onward.moved_in", onward_offer_id=offer_id,
                             onward_request_id=offer["onward_request_id"])
    if offer["placement_id"] is not None:
        await end_placement(db, offer["placement_id"], offer["municipality_id"])
    return Answer.DONE


async def end_placement(db: asyncpg.Connection, placement_id: uuid.UUID, municipality_id: str) -> None:
    """Move the linked placement out (unless the shelter already did) and tell both sides."""
    operator = await db.fetchval(
        """select s.operator_id from placement p join unit u on u.id = p.unit_id join shelter s on s.id = u.shelter_id
            where p.id = $1""",
        placement_id,
    )
    if await workflow.move_placement(db, operator, placement_id, "moved_out") != "done":
        return
    for organisation in (operator, municipality_id):
        await events.publish(db, organisation, "placement.moved_out", placement_id=placement_id)
