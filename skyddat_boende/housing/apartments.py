"""SQL for a housing provider's apartments. Every query is filtered by the provider that owns the
apartment, so another provider's apartment is never found. The address is write-only here, as a
shelter's is (sql/0025: only onward_address() reads it)."""

from __future__ import annotations

import uuid

import asyncpg

from skyddat_boende.capacity.repository import _changes, _update, write_address
from skyddat_boende.housing.schemas import ApartmentCreate, ApartmentRead, ApartmentSnapshot, ApartmentUpdate

COLUMNS = """a.id, a.provider_id, a.label, a.municipality_code, a.rooms, a.area_m2, a.floor, a.lift,
    a.wheelchair_accessible, a.pets_allowed, a.monthly_rent_sek, a.available_from, a.lease_type,
    a.protected_data_capability, a.status,
    exists (select 1 from onward_offer o where o.apartment_id = a.id and o.status = 'open') as offered,
    a.version, a.updated_at"""

UPDATABLE = (
    "label", "rooms", "area_m2", "floor", "monthly_rent_sek", "available_from", "lease_type",
    "protected_data_capability", "lift", "wheelchair_accessible", "pets_allowed", "status",
)
OWNER = "t.provider_id = {operator}"


async def list_for(db: asyncpg.Connection, provider_id: str, limit: int, offset: int) -> list[ApartmentRead]:
    rows = await db.fetch(
        f"select {COLUMNS} from apartment a where a.provider_id = $1 order by a.label limit $2 offset $3",
        provider_id, limit, offset,
    )
    return [ApartmentRead(**dict(r)) for r in rows]


async def get(db: asyncpg.Connection, provider_id: str, apartment_id: uuid.UUID) -> ApartmentRead | None:
    row = await db.fetchrow(
        f"select {COLUMNS} from apartment a where a.id = $1 and a.provider_id = $2", apartment_id, provider_id
    )
    return ApartmentRead(**dict(row)) if row else None


async def create(db: asyncpg.Connection, provider_id: str, data: ApartmentCreate) -> ApartmentRead:
    apartment_id = await db.fetchval(
        """insert into apartment (provider_id, label, municipality_code, rooms, area_m2, floor, lift,
                                  wheelchair_accessible, pets_allowed, monthly_rent_sek, available_from,
                                  lease_type, protected_data_capability)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning id""",
        provider_id, data.label, data.municipality_code, data.rooms, data.area_m2, data.floor, data.lift,
        data.wheelchair_accessible, data.pets_allowed, data.monthly_rent_sek, data.available_from,
        data.lease_type, data.protected_data_capability,
    )
    await set_address(db, apartment_id, data.address)
    return await get(db, provider_id, apartment_id)


async def set_address(db: asyncpg.Connection, apartment_id: uuid.UUID, address) -> None:
    await write_address(db, "apartment", apartment_id, address)


async def update(
    db: asyncpg.Connection, provider_id: str, apartment_id: uuid.UUID, version: int, data: ApartmentUpdate
) -> str:
    """'updated', 'stale', 'missing', or 'let' (an apartment let to a household is no longer the
    provider's to change here)."""
    status = await db.fetchval(
        "select status from apartment where id = $1 and provider_id = $2", apartment_id, provider_id
    )
    if status == "let":
        return "let"
    return await _update(db, "apartment", apartment_id, version, _changes(data, UPDATABLE), OWNER, provider_id)


async def replace_availability(db: asyncpg.Connection, provider_id: str, snapshot: ApartmentSnapshot) -> tuple[int, int]:
    """Set every listed apartment's availability and make every unlisted one unavailable, all at once
    (partner sync, as PUT /api/availability for shelters). ValueError, and nothing changed, when an
    apartment is listed twice, is not the provider's, is let, or is held by an open offer and would
    become unavailable."""
    ids = [entry.apartment_id for entry in snapshot.apartments]
    if len(set(ids)) != len(ids):
        raise ValueError("an apartment is listed twice")
    rows = await db.fetch(
        f"select {COLUMNS} from apartment a where a.provider_id = $1 order by a.id for no key update of a", provider_id)
    owned = {r["id"]: r for r in rows}
    if not set(ids) <= owned.keys() or any(owned[i]["status"] == "let" for i in ids):
        raise ValueError("the snapshot lists an apartment that is not yours to change (unknown or let)")
    listed = {e.apartment_id: e for e in snapshot.apartments}
    leaving = [i for i, r in owned.items() if r["status"] != "let"
               and (i not in listed or listed[i].status == "unavailable")]
    if any(owned[i]["offered"] for i in leaving):
        raise ValueError("an apartment held by an open onward offer would become unavailable; answer the offer first")
    await db.executemany(
        """update apartment set status = $2, available_from = coalesce($3, available_from), version = version + 1,
                                updated_at = now() where id = $1""",
        [(e.apartment_id, e.status, e.available_from) for e in snapshot.apartments],
    )
    unlisted = [i for i in leaving if i not in listed and owned[i]["status"] != "unavailable"]
    await db.execute("""update apartment set status = 'unavailable', version = version + 1, updated_at = now()
                         where id = any($1::uuid[])""", unlisted)
    return len(ids), len(unlisted)
