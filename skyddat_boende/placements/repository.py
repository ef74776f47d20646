"""SQL for placements. A social worker sees the placements of their municipality's requests; shelter
staff see the placements in their operator's units. The address is read only through
placement_address() (sql/0006), which answers only the placing municipality of an active placement."""

from __future__ import annotations

import uuid

import asyncpg

from skyddat_boende.placements.schemas import PlacementRead, ShelterAddress

PLACEMENTS = """
select p.id, p.request_id, p.offer_id, p.unit_id, u.shelter_id, s.municipality_code,
       r.municipality_id as placing_municipality, p.beds, p.status, p.accepted_at, p.checked_in_at,
       p.planned_end_date, p.moved_out_at, p.version, s.operator_id
  from placement p
  join placement_request r on r.id = p.request_id
  join unit u on u.id = p.unit_id
  join shelter s on s.id = u.shelter_id
 where ((r.municipality_id = $1 and $2) or (s.operator_id = $1 and $3))
"""

FIELDS = tuple(f for f in PlacementRead.__struct_fields__)


def _read(row: asyncpg.Record) -> PlacementRead:
    return PlacementRead(**{f: row[f] for f in FIELDS})


async def list_for(db, organisation_id: str, as_placer: bool, as_operator: bool, limit: int, offset: int):
    rows = await db.fetch(PLACEMENTS + " order by p.accepted_at desc limit $4 offset $5",
                          organisation_id, as_placer, as_operator, limit, offset)
    return [_read(r) for r in rows]


async def get(db, organisation_id: str, as_placer: bool, as_operator: bool, placement_id: uuid.UUID):
    row = await db.fetchrow(PLACEMENTS + " and p.id = $4", organisation_id, as_placer, as_operator, placement_id)
    return _read(row) if row else None


async def address(db: asyncpg.Connection, municipality_id: str, placement_id: uuid.UUID) -> ShelterAddress | None:
    row = await db.fetchrow("select * from placement_address($1, $2)", placement_id, municipality_id)
    return ShelterAddress(**dict(row)) if row else None


async def set_planned_end(db, operator_id: str, placement_id: uuid.UUID, version: int, planned_end) -> str:
    updated = await db.fetchval(
        """update placement p set planned_end_date = $4, version = p.version + 1
             from unit u, shelter s
            where p.id = $1 and p.version = $3 and u.id = p.unit_id and s.id = u.shelter_id and s.operator_id = $2
              and p.status <> 'moved_out'
           returning p.id""",
        placement_id, operator_id, version, planned_end,
    )
    if updated:
        return "updated"
    exists = await db.fetchval(
        """select 1 from placement p join unit u on u.id = p.unit_id join shelter s on s.id = u.shelter_id
            where p.id = $1 and s.operator_id = $2""",
        placement_id, operator_id,
    )
    return "stale" if exists else "missing"
