"""SQL for offers: only the operator whose unit is offered sees or answers it."""

from __future__ import annotations

import enum
import uuid

import asyncpg

from skyddat_boende.offers.schemas import HouseholdSummary, OfferRead, Person

OFFERS = """
select o.id, o.status, o.unit_id, u.shelter_id, r.municipality_id as requesting_municipality, o.beds, o.created_at,
       o.expires_at, o.answered_at, o.decline_reason, r.needs, r.languages, r.honour_related, r.lgbtq,
       r.protected_data_level, r.security_level_needed, r.urgency,
       (select p.id from placement p where p.offer_id = o.id) as placement_id,
       coalesce((select json_agg(json_build_object('gender', a.gender, 'age', a.age) order by a.position)
                   from request_adult a where a.request_id = r.id), '[]') as adults,
       coalesce((select json_agg(json_build_object('gender', c.gender, 'age', c.age) order by c.position)
                   from request_child c where c.request_id = r.id), '[]') as children
  from offer o
  join unit u on u.id = o.unit_id
  join shelter s on s.id = u.shelter_id
  join placement_request r on r.id = o.request_id
 where s.operator_id = $1
"""


class Answer(enum.Enum):
    DONE = "done"
    MISSING = "missing"
    ANSWERED = "answered"
    EXPIRED = "expired"
    INTAKE_FULL = "intake_full"
    UNIT_FULL = "unit_full"


def _read(row: asyncpg.Record) -> OfferRead:
    household = HouseholdSummary(
        adults=[Person(**a) for a in row["adults"]], children=[Person(**c) for c in row["children"]],
        needs=list(row["needs"]), languages=list(row["languages"]), honour_related=row["honour_related"],
        lgbtq=row["lgbtq"], protected_data_level=row["protected_data_level"],
        security_level_needed=row["security_level_needed"], urgency=row["urgency"],
    )
    fields = {k: row[k] for k in ("id", "status", "unit_id", "shelter_id", "requesting_municipality", "beds",
                                  "created_at", "expires_at", "answered_at", "decline_reason", "placement_id")}
    return OfferRead(**fields, household=household)


async def list_for(db: asyncpg.Connection, operator_id: str, status: str | None, limit: int, offset: int):
    rows = await db.fetch(
        OFFERS + " and ($2::text is null or o.status = $2) order by o.created_at desc limit $3 offset $4",
        operator_id, status, limit, offset,
    )
    return [_read(r) for r in rows]


async def get(db: asyncpg.Connection, operator_id: str, offer_id: uuid.UUID) -> OfferRead | None:
    row = await db.fetchrow(OFFERS + " and o.id = $2", operator_id, offer_id)
    return _read(row) if row else None


async def _lock_open(db: asyncpg.Connection, operator_id: str, offer_id: uuid.UUID):
    """Lock the offer; (row, None) when it is open and current, else (row or None, why not)."""
    row = await db.fetchrow(
        """select o.id, o.status, o.expires_at <= now() as expired, o.request_id, o.unit_id, o.beds,
                  u.shelter_id, s.operator_id, s.daily_intake_limit, r.municipality_id
             from offer o join unit u on u.id = o.unit_id join shelter s on s.id = u.shelter_id
             join placement_request r on r.id = o.request_id
            where o.id = $1 for update of o""",
        offer_id,
    )
    if row is None or row["operator_id"] != operator_id:
        return None, Answer.MISSING
    if row["status"] != "open":
        return row, Answer.ANSWERED
    if row["expired"]:
        return row, Answer.EXPIRED
    return row, None


async def accept(db: asyncpg.Connection, operator_id: str, offer_id: uuid.UUID):
    """Accept: the offer, the placement and the unit's beds change together, or nothing does."""
    row, refusal = await _lock_open(db, operator_id, offer_id)
    if refusal:
        return row, refusal, None
    # the shelter row lock serializes acceptances at one shelter, so its daily intake limit holds
    await db.execute("select 1 from shelter where id = $1 for update", row["shelter_id"])
    if row["daily_intake_limit"] is not None:
        taken_today = await db.fetchval(
            """select count(*) from placement p join unit u on u.id = p.unit_id
                where u.shelter_id = $1 and p.accepted_at >= date_trunc('day', now())""",
            row["shelter_id"],
        )
        if taken_today >= row["daily_intake_limit"]:
            return row, Answer.INTAKE_FULL, None
    await db.execute("update offer set status = 'accepted', answered_at = now() where id = $1", offer_id)
    try:
        async with db.transaction():
            placement_id = await db.fetchval(
                "insert into placement (request_id, offer_id, unit_id, beds) values ($1, $2, $3, $4) returning id",
                row["request_id"], offer_id, row["unit_id"], row["beds"],
            )
    except asyncpg.CheckViolationError:
        return row, Answer.UNIT_FULL, None
    await db.execute(
        "update placement_request set status = 'placed', updated_at = now(), version = version + 1 where id = $1",
        row["request_id"],
    )
    return row, Answer.DONE, placement_id


async def decline(db: asyncpg.Connection, operator_id: str, offer_id: uuid.UUID, reason: str):
    row, refusal = await _lock_open(db, operator_id, offer_id)
    if refusal:
        return row, refusal
    await db.execute(
        "update offer set status = 'declined', answered_at = now(), decline_reason = $2 where id = $1",
        offer_id, reason,
    )
    return row, Answer.DONE
