"""SQL for shelters, units and availability. Every query is filtered by the operator that owns the
shelter, so another operator's object is never found."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Literal, NamedTuple

import asyncpg
from msgspec import UNSET, structs

from skyddat_boende import events, workflow
from skyddat_boende.capacity.schemas import (
    AvailabilityEntry, AvailabilitySnapshot, ShelterCreate, ShelterRead, ShelterUpdate, UnitCreate, UnitRead,
    UnitUpdate,
)
from skyddat_boende.retries import retrying

SHELTER_COLUMNS = """s.id, s.operator_id, s.label, s.municipality_code, s.target_groups, s.features, s.security_level,
    s.protected_data_capability, s.max_age_boys, s.max_age_girls, s.staff_languages, s.daily_rate_sek,
    s.daily_intake_limit, s.version, s.updated_at"""

UNIT_COLUMNS = """u.id, u.shelter_id, u.label, u.beds, u.beds_taken, u.shareable, u.status, u.available_from,
    u.availability_confirmed_at,
    u.availability_confirmed_at < now() - make_interval(hours => $STALE) as stale,
    exists (select 1 from offer o where o.unit_id = u.id and o.status = 'open') as held_by_offer,
    u.version"""

SHELTER_UPDATABLE = (
    "label", "target_groups", "security_level", "protected_data_capability", "staff_languages", "daily_rate_sek",
    "features", "max_age_boys", "max_age_girls", "daily_intake_limit",
)
UNIT_UPDATABLE = ("label", "beds", "shareable", "status", "available_from")


def _unit_columns(stale_hours_param: int) -> str:
    return UNIT_COLUMNS.replace("$STALE", f"${stale_hours_param}")


def _shelter(row: asyncpg.Record | None) -> ShelterRead | None:
    return ShelterRead(**dict(row)) if row is not None else None


def _unit(row: asyncpg.Record | None) -> UnitRead | None:
    return UnitRead(**dict(row)) if row is not None else None


async def list_shelters(db: asyncpg.Connection, operator_id: str, limit: int, offset: int) -> list[ShelterRead]:
    rows = await db.fetch(
        f"select {SHELTER_COLUMNS} from shelter s where s.operator_id = $1 order by s.label limit $2 offset $3",
        operator_id, limit, offset,
    )
    return [ShelterRead(**dict(r)) for r in rows]


async def get_shelter(db: asyncpg.Connection, operator_id: str, shelter_id: uuid.UUID) -> ShelterRead | None:
    row = await db.fetchrow(
        f"select {SHELTER_COLUMNS} from shelter s where s.id = $1 and s.operator_id = $2", shelter_id, operator_id
    )
    return _shelter(row)


async def create_shelter(db: asyncpg.Connection, operator_id: str, data: ShelterCreate) -> ShelterRead:
    shelter_id = await db.fetchval(
        """insert into shelter (operator_id, label, municipality_code, target_groups, features, security_level,
                                protected_data_capability, max_age_boys, max_age_girls, staff_languages,
                                daily_rate_sek, daily_intake_limit)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id""",
        operator_id, data.label, data.municipality_code, sorted(set(data.target_groups)), sorted(set(data.features)),
        data.security_level, data.protected_data_capability, data.max_age_boys, data.max_age_girls,
        sorted(set(data.staff_languages)), data.daily_rate_sek, data.daily_intake_limit,
    )
    await set_address(db, shelter_id, data.address)
    return await get_shelter(db, operator_id, shelter_id)


async def set_address(db: asyncpg.Connection, shelter_id: uuid.UUID, address) -> None:
    await write_address(db, "shelter", shelter_id, address)


async def write_address(
    db: asyncpg.Connection, owner: Literal["shelter", "apartment"], owner_id: uuid.UUID, address
) -> None:
    """Write-only: the service role may insert and update addresses but not read them (sql/0009,
    sql/0025), so this is an UPDATE, then an INSERT if there was nothing to update (no upsert, which
    reads). The address of a shelter is in shelter_address (key shelter_id), of an apartment in
    apartment_address (apartment_id)."""
    values = (owner_id, address.street, address.postal_code, address.city, address.contact_phone)
    updated = await db.execute(
        f"""update {owner}_address set street = $2, postal_code = $3, city = $4, contact_phone = $5
             where {owner}_id = $1""",
        *values,
    )
    if updated == "UPDATE 0":
        await db.execute(
            f"""insert into {owner}_address ({owner}_id, street, postal_code, city, contact_phone)
                values ($1, $2, $3, $4, $5)""",
            *values,
        )


def _changes(data, allowed: tuple[str, ...]) -> dict:
    changes = {k: v for k, v in structs.asdict(data).items() if v is not UNSET and k in allowed}
    for key in ("target_groups", "features", "staff_languages"):
        if key in changes:
            changes[key] = sorted(set(changes[key]))
    return changes


async def _update(
    db: asyncpg.Connection, table: str, object_id: uuid.UUID, version: int, changes: dict, owner_sql: str,
    operator_id: str,
) -> str:
    """One UPDATE guarded by owner and version; returns 'updated', 'stale' or 'missing'.
    `owner_sql` is a condition on `t` with `{operator}` where the operator id parameter goes."""
    outcome, _ = await _update_returning(db, table, object_id, version, changes, owner_sql, operator_id)
    return outcome


async def _update_returning(
    db: asyncpg.Connection, table: str, object_id: uuid.UUID, version: int, changes: dict, owner_sql: str,
    operator_id: str, *, also: str = "", returning: str = "t.id",
) -> tuple[str, Any]:
    """`_update`, and the value of `returning` when updated; `also`, assignments written in this module
    that the change makes too."""
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=4))
    updated = await db.fetchrow(
        f"""update {table} t set {assignments}{", " if assignments else ""}
                version = t.version + 1, updated_at = now(){also}
             where t.id = $1 and t.version = $2 and {owner_sql.format(operator="$3")} returning {returning}""",
        object_id, version, operator_id, *changes.values(),
    )
    if updated is not None:
        return "updated", updated[0]
    exists = await db.fetchval(
        f"select 1 from {table} t where t.id = $1 and {owner_sql.format(operator='$2')}", object_id, operator_id
    )
    return ("stale" if exists else "missing"), None


async def update_shelter(
    db: asyncpg.Connection, operator_id: str, shelter_id: uuid.UUID, version: int, data: ShelterUpdate
) -> str:
    return await _update(db, "shelter", shelter_id, version, _changes(data, SHELTER_UPDATABLE),
                         "t.operator_id = {operator}", operator_id)


async def update_unit(
    db: asyncpg.Connection, operator_id: str, unit_id: uuid.UUID, version: int, data: UnitUpdate
) -> str:
    """A change by the operator also confirms the unit's availability as of now. A unit marked occupied
    or out of service first has its open offers withdrawn (workflow, in the lock order)."""
    return await retrying(db, _update_unit, operator_id, unit_id, version, _changes(data, UNIT_UPDATABLE))


async def _update_unit(db: asyncpg.Connection, operator_id: str, unit_id: uuid.UUID, version: int, changes: dict) -> str:
    owner = "t.shelter_id in (select id from shelter where operator_id = {operator})"
    if changes.get("status", "available") != "available" and await _owned_units(db, operator_id, [unit_id]):
        await workflow.withdraw_unit_offers(db, [unit_id])
    outcome, shelter_id = await _update_returning(db, "unit", unit_id, version, changes, owner, operator_id,
                                                  also=", availability_confirmed_at = now()",
                                                  returning="t.shelter_id")
    if outcome == "updated":
        await events.units_changed(db, operator_id, [{"id": unit_id, "shelter_id": shelter_id}])
    return outcome


async def _owned_units(db: asyncpg.Connection, operator_id: str, unit_ids: list[uuid.UUID] | None = None) -> set:
    """The operator's units (of `unit_ids`, or all), read without locks."""
    rows = await db.fetch(
        """select u.id from unit u join shelter s on s.id = u.shelter_id
            where s.operator_id = $1 and ($2::uuid[] is null or u.id = any($2::uuid[]))""",
        operator_id, unit_ids,
    )
    return {r["id"] for r in rows}


async def list_units(
    db: asyncpg.Connection, operator_id: str, shelter_id: uuid.UUID, stale_hours: int
) -> list[UnitRead] | None:
    if await get_shelter(db, operator_id, shelter_id) is None:
        return None
    rows = await db.fetch(
        f"select {_unit_columns(2)} from unit u where u.shelter_id = $1 order by u.label", shelter_id, stale_hours
    )
    return [UnitRead(**dict(r)) for r in rows]


async def get_unit(db: asyncpg.Connection, operator_id: str, unit_id: uuid.UUID, stale_hours: int) -> UnitRead | None:
    row = await db.fetchrow(
        f"""select {_unit_columns(3)} from unit u join shelter s on s.id = u.shelter_id
             where u.id = $1 and s.operator_id = $2""",
        unit_id, operator_id, stale_hours,
    )
    return _unit(row)


async def create_unit(
    db: asyncpg.Connection, operator_id: str, shelter_id: uuid.UUID, data: UnitCreate, stale_hours: int
) -> UnitRead | None:
    unit_id = await db.fetchval(
        """insert into unit (shelter_id, label, beds, shareable, status, available_from)
           select s.id, $3, $4, $5, $6, coalesce($7, current_date) from shelter s
            where s.id = $1 and s.operator_id = $2
           returning id""",
        shelter_id, operator_id, data.label, data.beds, data.shareable, data.status, data.available_from,
    )
    if unit_id is not None:
        await events.units_changed(db, operator_id, [{"id": unit_id, "shelter_id": shelter_id}])
    return None if unit_id is None else await get_unit(db, operator_id, unit_id, stale_hours)


async def confirm_units(db: asyncpg.Connection, operator_id: str, *, shelter_id=None, unit_id=None):
    """'No change': mark availability as confirmed now. Returns (count, time) or None if nothing is ours.
    The units are locked in id order first (the lock order), so two confirmations or a sync never wait
    for each other in a circle."""
    rows = await db.fetch(
        """with mine as (
               select u.id from unit u join shelter s on s.id = u.shelter_id
                where s.operator_id = $1 and ($2::uuid is null or u.shelter_id = $2) and ($3::uuid is null or u.id = $3)
                order by u.id for no key update of u)
           update unit u set availability_confirmed_at = now() from mine where u.id = mine.id
           returning u.availability_confirmed_at""",
        operator_id, shelter_id, unit_id,
    )
    return (len(rows), rows[0][0]) if rows else None


class AvailabilityChanged(Exception):
    """If-Match named a state of the operator's availability that is no longer the current one."""


class SyncOutcome(NamedTuple):
    listed: int
    set_out_of_service: int
    changed: int
    """Units that got a new version (state changed); every other unit was only confirmed."""
    tag: str


AVAILABILITY_ROWS = """select u.id, u.status, u.available_from, u.version
                         from unit u join shelter s on s.id = u.shelter_id
                        where s.operator_id = $1 order by u.id"""


def _tag(rows: list[asyncpg.Record]) -> str:
    """The collection ETag of the operator's availability: a digest of every unit's id and version, so it
    changes exactly when a unit is added or changed (by any path) and stays when a sync only confirms."""
    digest = hashlib.sha256(",".join(f"{r['id']}:{r['version']}" for r in rows).encode()).hexdigest()
    return f'"a{digest[:24]}"'


async def availability_tag(db: asyncpg.Connection, operator_id: str) -> str:
    return _tag(await db.fetch(AVAILABILITY_ROWS, operator_id))


async def availability(db: asyncpg.Connection, operator_id: str) -> tuple[AvailabilitySnapshot, str]:
    """The operator's availability as a snapshot (the body `PUT /api/availability` takes) and its ETag."""
    rows = await db.fetch(AVAILABILITY_ROWS, operator_id)
    entries = [AvailabilityEntry(r["id"], r["status"], r["available_from"]) for r in rows]
    return AvailabilitySnapshot(entries), _tag(rows)


async def replace_availability(
    db: asyncpg.Connection, operator_id: str, snapshot: AvailabilitySnapshot, if_match: str | None = None
) -> SyncOutcome | None:
    """Set every listed unit's availability and put every unlisted unit of the operator out of service,
    all at once; every unit is confirmed, only units whose state changes get a new version (and a
    unit.changed event). None (and nothing changed) if a listed unit is not the operator's;
    AvailabilityChanged (nothing changed) when `if_match` is given and is not the current tag."""
    ids = [entry.unit_id for entry in snapshot.units]
    if len(set(ids)) != len(ids):
        raise ValueError("a unit is listed twice")
    return await retrying(db, _replace_availability, operator_id, snapshot, if_match)


async def _replace_availability(db: asyncpg.Connection, operator_id: str, snapshot: AvailabilitySnapshot,
                                if_match: str | None) -> SyncOutcome | None:
    ids = [entry.unit_id for entry in snapshot.units]
    owned_ids = await _owned_units(db, operator_id)
    if not set(ids) <= owned_ids:
        return None
    unlisted = sorted(owned_ids - set(ids))
    leaving = unlisted + [e.unit_id for e in snapshot.units if e.status != "available"]
    # the lock order: their offers before the units; every unit in one statement
    await workflow.withdraw_unit_offers(db, leaving, lock=sorted(owned_ids))
    if if_match is not None and if_match != "*" and if_match != await availability_tag(db, operator_id):
        raise AvailabilityChanged
    changed = await _set_listed(db, snapshot) + await db.fetch(
        """update unit set status = 'out_of_service', version = version + 1, updated_at = now()
            where id = any($1::uuid[]) and status <> 'out_of_service'
           returning id, shelter_id""",
        unlisted,
    )
    await db.execute("update unit set availability_confirmed_at = now() where id = any($1::uuid[])",
                     sorted(owned_ids))
    await events.units_changed(db, operator_id, changed)
    unlisted_set = set(unlisted)
    out_of_service = sum(1 for row in changed if row["id"] in unlisted_set)
    return SyncOutcome(len(ids), out_of_service, len(changed), await availability_tag(db, operator_id))


async def _set_listed(db: asyncpg.Connection, snapshot: AvailabilitySnapshot) -> list[asyncpg.Record]:
    """Write the listed units whose status or date differ; an omitted date keeps a unit that stays as it
    is available from when it already was (not from today), so an identical sync is no change."""
    return await db.fetch(
        """with wanted as (
               select * from unnest($1::uuid[], $2::text[], $3::date[]) as w (id, status, available_from)
           ), target as (
               select u.id, w.status, coalesce(w.available_from,
                          case when u.status = w.status and u.available_from <= current_date
                               then u.available_from else current_date end) as available_from
                 from unit u join wanted w on w.id = u.id
           )
           update unit u set status = t.status, available_from = t.available_from, version = u.version + 1,
                             updated_at = now()
             from target t
            where u.id = t.id and (u.status, u.available_from) is distinct from (t.status, t.available_from)
           returning u.id, u.shelter_id""",
        [e.unit_id for e in snapshot.units], [e.status for e in snapshot.units],
        [e.available_from for e in snapshot.units],
    )
