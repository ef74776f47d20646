"""Every status change of a placement request, an offer and a placement happens here, and nowhere else.

    request:   waiting -> offered -> placed -> closed        (each step bumps its version)
               offered -> waiting   (its offer declined, expired or withdrawn)
               waiting | offered -> withdrawn
    offer:     open -> accepted | declined | expired | withdrawn   (an answer is final)
    placement: accepted -> checked_in -> moved_out, accepted -> moved_out

The database refuses any other step (sql/0018). Lock order, taken by every path (docs/decisions.md):
the request, then its offer, then the placement, then the unit, then the shelter; several rows of one
kind in id order. A path that learns which rows to lock only by reading first reads without locks,
then locks in that order and checks that what it read still holds.

Callers hold the request's transaction; the functions here write and publish (webhook outbox) in it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import asyncpg

from skyddat_boende import events
from skyddat_boende.retries import Contended

# refusals of a new offer by the database (sql/0018): the unit or the request is no longer free for it
OFFER_REFUSED = {"offer_beds_free", "offer_unit_available", "offer_request_waiting", "offer_one_open_per_request"}


class Answer(enum.Enum):
    DONE = "done"
    MISSING = "missing"
    ANSWERED = "answered"
    EXPIRED = "expired"
    INTAKE_FULL = "intake_full"
    UNIT_FULL = "unit_full"


async def lock_request(db: asyncpg.Connection, request_id: uuid.UUID, *, wait: bool = True) -> asyncpg.Record | None:
    """Lock the request; with wait=False, asyncpg.LockNotAvailableError if another transaction holds it."""
    return await db.fetchrow(
        "select id, status, municipality_id, version from placement_request where id = $1 for update"
        + ("" if wait else " nowait"), request_id,
    )


async def _move_request(db: asyncpg.Connection, request_id: uuid.UUID, to: str) -> None:
    await db.execute(
        "update placement_request set status = $2, version = version + 1, updated_at = now() where id = $1",
        request_id, to,
    )


async def _operator_of(db: asyncpg.Connection, unit_id: uuid.UUID) -> str:
    return await db.fetchval(
        "select s.operator_id from unit u join shelter s on s.id = u.shelter_id where u.id = $1", unit_id
    )


# ------------------------------------------------------------------------------------------ offers


async def create_offer(
    db: asyncpg.Connection, request_id: uuid.UUID, municipality_id: str, unit_id: uuid.UUID, beds: int,
    hold: dt.timedelta, fit: dict[str, int],
) -> uuid.UUID | None:
    """Offer the unit to the request, which the caller has locked (waiting). None when the database
    refuses it: the unit has no free beds for the household, is not available, or the request moved on."""
    try:
        async with db.transaction():  # a savepoint: a refusal leaves the caller's transaction intact
            offer_id = await db.fetchval(
                """insert into offer (request_id, unit_id, beds, expires_at, fit)
                   values ($1, $2, $3, now() + $4, $5) returning id""",
                request_id, unit_id, beds, hold, fit,
            )
    except (asyncpg.CheckViolationError, asyncpg.UniqueViolationError) as exc:
        if exc.constraint_name in OFFER_REFUSED:
            return None
        raise
    await _move_request(db, request_id, "offered")
    await events.publish(db, await _operator_of(db, unit_id), "offer.created", offer_id=offer_id, unit_id=unit_id)
    await events.publish(db, municipality_id, "offer.created", offer_id=offer_id, request_id=request_id)
    return offer_id


OFFER_ROW = """
select o.id, o.status, o.expires_at <= now() as expired, o.request_id, o.unit_id, o.beds, u.shelter_id,
       s.operator_id, s.daily_intake_limit, r.municipality_id, r.status as request_status
  from offer o join unit u on u.id = o.unit_id join shelter s on s.id = u.shelter_id
  join placement_request r on r.id = o.request_id
"""


async def lock_offer(db: asyncpg.Connection, offer_id: uuid.UUID, *, wait: bool = True) -> asyncpg.Record | None:
    """Lock the offer's request, then the offer (the lock order); None if there is no such offer."""
    request_id = await db.fetchval("select request_id from offer where id = $1", offer_id)
    if request_id is None:
        return None
    await lock_request(db, request_id, wait=wait)
    return await db.fetchrow(OFFER_ROW + " where o.id = $1 for update of o" + ("" if wait else " nowait"), offer_id)


async def _close_offer(db: asyncpg.Connection, offer: asyncpg.Record, to: str, reason: str | None = None) -> None:
    """Answer the open offer (locked, with its request) and put its request back to waiting."""
    await db.execute(
        "update offer set status = $2, answered_at = now(), decline_reason = $3 where id = $1", offer["id"], to, reason
    )
    if offer["request_status"] == "offered":
        await _move_request(db, offer["request_id"], "waiting")


def refusal(offer: asyncpg.Record | None, owner_id: str | None, owner: str = "operator_id") -> Answer | None:
    """Why the offer cannot be answered by `owner_id` (its row's `owner` column: the shelter's operator, or
    an apartment's provider), or None: missing or another's, answered already, or expired."""
    if offer is None or (owner_id is not None and offer[owner] != owner_id):
        return Answer.MISSING
    if offer["status"] != "open":
        return Answer.ANSWERED
    if offer["expired"]:
        return Answer.EXPIRED
    return None


async def decline(db: asyncpg.Connection, operator_id: str, offer_id: uuid.UUID, reason: str):
    """The shelter declines; the request waits again (the caller offers it the next place)."""
    offer = await lock_offer(db, offer_id)
    if refused := refusal(offer, operator_id):
        return offer, refused
    await _close_offer(db, offer, "declined", reason)
    await events.publish(db, offer["municipality_id"], "offer.declined", offer_id=offer_id,
                         request_id=offer["request_id"])
    return offer, Answer.DONE


async def expire(db: asyncpg.Connection, offer_id: uuid.UUID) -> asyncpg.Record | None:
    """Expire the offer if it is still open and past its hold; the offer's row, else None."""
    offer = await lock_offer(db, offer_id)
    if offer is None or offer["status"] != "open" or not offer["expired"]:
        return None
    await _close_offer(db, offer, "expired")
    await events.publish(db, offer["operator_id"], "offer.expired", offer_id=offer_id)
    await events.publish(db, offer["municipality_id"], "offer.expired", offer_id=offer_id,
                         request_id=offer["request_id"])
    return offer


async def accept(db: asyncpg.Connection, operator_id: str, offer_id: uuid.UUID):
    """Accept: offer, placement, the unit's beds and the request change together, or nothing does.
    Accepting an offer this operator already accepted answers its placement again (a retry after a
    lost response is not a conflict)."""
    offer = await lock_offer(db, offer_id)
    if offer is not None and offer["status"] == "accepted" and offer["operator_id"] == operator_id:
        return offer, Answer.DONE, await db.fetchval("select id from placement where offer_id = $1", offer_id)
    if refused := refusal(offer, operator_id):
        return offer, refused, None
    await db.execute("select 1 from unit where id = $1 for no key update", offer["unit_id"])
    # the shelter's row lock serializes acceptances at one shelter, so its daily intake limit holds
    await db.execute("select 1 from shelter where id = $1 for update", offer["shelter_id"])
    if offer["daily_intake_limit"] is not None:
        taken_today = await db.fetchval(
            """select count(*) from placement p join unit u on u.id = p.unit_id
                where u.shelter_id = $1 and p.accepted_at >= date_trunc('day', now())""",
            offer["shelter_id"],
        )
        if taken_today >= offer["daily_intake_limit"]:
            return offer, Answer.INTAKE_FULL, None
    await db.execute("update offer set status = 'accepted', answered_at = now() where id = $1", offer_id)
    try:
        async with db.transaction():
            placement_id = await db.fetchval(
                "insert into placement (request_id, offer_id, unit_id, beds) values ($1, $2, $3, $4) returning id",
                offer["request_id"], offer_id, offer["unit_id"], offer["beds"],
            )
    except asyncpg.CheckViolationError:
        return offer, Answer.UNIT_FULL, None
    await _move_request(db, offer["request_id"], "placed")
    await events.publish(db, offer["municipality_id"], "offer.accepted", offer_id=offer_id,
                         request_id=offer["request_id"], placement_id=placement_id)
    return offer, Answer.DONE, placement_id


# ---------------------------------------------------------------------------------------- requests


async def withdraw_request(db: asyncpg.Connection, municipality_id: str, request_id: uuid.UUID) -> bool | None:
    """Withdraw the request and its open offer (its beds are free again). None if it is not this
    municipality's; False if it is already placed, withdrawn or closed."""
    request = await lock_request(db, request_id)
    if request is None or request["municipality_id"] != municipality_id:
        return None
    if request["status"] not in ("waiting", "offered"):
        return False
    withdrawn = await db.fetch(
        """update offer o set status = 'withdrawn', answered_at = now()
             from unit u, shelter s
            where o.request_id = $1 and o.status = 'open' and u.id = o.unit_id and s.id = u.shelter_id
           returning o.id, s.operator_id""",
        request_id,
    )
    await _move_request(db, request_id, "withdrawn")
    for offer in withdrawn:
        await events.publish(db, offer["operator_id"], "offer.withdrawn", offer_id=offer["id"])
    await events.publish(db, municipality_id, "request.withdrawn", request_id=request_id)
    return True


# -------------------------------------------------------------------------------------- placements

PLACEMENT_STEPS = {"checked_in": ("accepted",), "moved_out": ("accepted", "checked_in")}
PLACEMENT_STAMPS = {"checked_in": "checked_in_at", "moved_out": "moved_out_at"}


async def move_placement(
    db: asyncpg.Connection, operator_id: str, placement_id: uuid.UUID, to: str, planned_end: dt.date | None = None
) -> str:
    """accepted -> checked_in -> moved_out for a placement in this operator's unit; a move-out closes
    the request. 'done', 'missing' or 'conflict' (not in a state that allows it)."""
    request_id = await db.fetchval(
        """select p.request_id from placement p join unit u on u.id = p.unit_id join shelter s on s.id = u.shelter_id
            where p.id = $1 and s.operator_id = $2""",
        placement_id, operator_id,
    )
    if request_id is None:
        return "missing"
    await lock_request(db, request_id)
    status = await db.fetchval("select status from placement where id = $1 for update", placement_id)
    if status not in PLACEMENT_STEPS[to]:
        return "conflict"
    await db.execute(
        f"""update placement set status = $2, {PLACEMENT_STAMPS[to]} = now(), version = version + 1,
                   planned_end_date = coalesce($3, planned_end_date)
             where id = $1""",
        placement_id, to, planned_end,
    )
    if to == "moved_out":
        await _move_request(db, request_id, "closed")
    return "done"


# ------------------------------------------------------------------------------------------- units


CATCH_UP_ROUNDS = 3


async def withdraw_unit_offers(
    db: asyncpg.Connection, unit_ids: list[uuid.UUID], *, lock: list[uuid.UUID] | None = None
) -> int:
    """Before units leave service (occupied, out of service): withdraw their open offers, tell both
    sides, and put the requests back to waiting (the next batch offers them another place). Then lock
    the units, with `lock` (every unit the caller will change) in the same statement: units locked in
    two steps would deadlock with another caller's steps. Offers made on them meanwhile are withdrawn
    too, their requests locked without waiting (waiting for a request while holding units could close
    a circle with an offer being made); one still busy restarts the attempt (Contended). So the caller's
    change of the units never meets an open offer."""
    withdrawn, highest = 0, None
    for _ in range(CATCH_UP_ROUNDS):  # offers made while this waited for a request: catch up, still waiting
        found, highest = await _withdraw_open_offers(db, unit_ids, wait=True, highest=highest)
        if not found:
            break
        withdrawn += found
    await db.execute("select 1 from unit where id = any($1::uuid[]) order by id for no key update",
                     sorted({*unit_ids, *(lock or ())}))
    return withdrawn + (await _withdraw_open_offers(db, unit_ids, wait=False, highest=highest))[0]


async def _withdraw_open_offers(db: asyncpg.Connection, unit_ids: list[uuid.UUID], *, wait: bool,
                                highest: uuid.UUID | None) -> tuple[int, uuid.UUID | None]:
    """Withdraw the units' open offers, their requests locked in id order: waiting (with `wait`) only
    for a request above `highest`, the highest this transaction locked so far. A catch-up round finds
    requests below it, and waiting for one of those while holding a higher one closes a circle with a
    caller locking both in order (each such deadlock costs a second before its retry)."""
    found = await db.fetch(
        "select id, request_id from offer where unit_id = any($1::uuid[]) and status = 'open' order by request_id, id",
        unit_ids,
    )
    for row in found:
        in_order = highest is None or row["request_id"] > highest
        try:
            offer = await lock_offer(db, row["id"], wait=wait and in_order)
        except asyncpg.LockNotAvailableError:
            raise Contended("an offer made on the unit meanwhile is still being changed") from None
        highest = row["request_id"] if in_order else highest
        if offer is None or offer["status"] != "open":
            continue
        await _close_offer(db, offer, "withdrawn")
        await events.publish(db, offer["operator_id"], "offer.withdrawn", offer_id=offer["id"])
        await events.publish(db, offer["municipality_id"], "offer.withdrawn", offer_id=offer["id"],
                             request_id=offer["request_id"])
    return len(found), highest
