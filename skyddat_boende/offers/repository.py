"""SQL for offers: only the operator whose unit is offered sees or answers it."""

from __future__ import annotations

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
