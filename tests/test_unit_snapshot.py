"""The per-process unit snapshot of fast-track (matchmaking/snapshot.py): it may lag a change by moments,
so an offer never goes to a unit that changed since the snapshot saw it; a committed change reaches it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from skyddat_boende import database
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter, snapshot
from skyddat_boende.matchmaking.service import offer_next
from tests import factories


async def _world(url: str):
    conn = await database.connect(url)
    municipality = await factories.municipality_org(conn, "1280")
    shelter = await factories.shelter(conn, await factories.operator_org(conn), daily_intake_limit=None)
    units = [await factories.unit(conn, shelter) for _ in range(2)]
    return conn, municipality, units


async def _request(conn, municipality: str) -> uuid.UUID:
    request_id = await factories.request(conn, municipality)
    await conn.execute("insert into request_adult (request_id, position, gender, age) values ($1, 1, 'female', 30)",
                       request_id)
    return request_id


async def _offered_unit(conn, request_id: uuid.UUID, places) -> uuid.UUID | None:
    async with conn.transaction():
        outcome = await offer_next(conn, request_id, Settings(), places)
    if outcome.offer_id is None:
        return None
    return await conn.fetchval("select unit_id from offer where id = $1", outcome.offer_id)


@contextlib.asynccontextmanager
async def _snapshot(url: str, conn, **options):
    pool = await database.create_pool(url, max_size=2)
    places = await adapter.municipalities(conn)
    snap = snapshot.UnitSnapshot(pool, url, places, 24, **options)
    await snap.start()
    snapshot.register(places, snap)
    try:
        yield snap, places
    finally:
        snapshot.unregister(places)
        await snap.stop()
        await pool.close()


async def test_a_unit_taken_out_of_service_after_the_snapshot_is_not_offered(create_migrated_database):
    url = await create_migrated_database()
    conn, municipality, units = await _world(url)
    try:
        async with _snapshot(url, conn) as (snap, places):
            first = await _offered_unit(conn, await _request(conn, municipality), places)
            [left] = [u for u in units if u != first]
            # a change whose notification has not reached this process yet (it is sent at commit)
            await conn.execute("alter table unit disable trigger unit_changed_notify")
            await conn.execute("update unit set status = 'out_of_service', version = version + 1 where id = $1", left)
            await conn.execute("alter table unit enable trigger unit_changed_notify")
            # the snapshot still lists the unit: only the re-check in the offer's transaction stands in the way
            assert str(left) in snap.offerable_ids()
            assert await _offered_unit(conn, await _request(conn, municipality), places) is None
            assert await conn.fetchval("select count(*) from offer where unit_id = $1", left) == 0
    finally:
        await conn.close()


async def test_a_committed_change_reaches_the_snapshot(create_migrated_database):
    url = await create_migrated_database()
    conn, municipality, units = await _world(url)
    try:
        async with _snapshot(url, conn) as (snap, places):
            await conn.execute("update unit set status = 'out_of_service', version = version + 1 where id = $1",
                               units[0])
            await snap.availability(conn)
            assert snap.offerable_ids() == {str(units[1])}
            await conn.execute("update unit set status = 'available', version = version + 1 where id = $1", units[0])
            for _ in range(100):  # the notification, then a rebuild before use
                await snap.availability(conn)
                if str(units[0]) in snap.offerable_ids():
                    break
                await asyncio.sleep(0.05)
            assert snap.offerable_ids() == {str(u) for u in units}
    finally:
        await conn.close()


async def _heard_after(conn, heard: list, change: str, unit_id) -> int:
    """Notifications heard for `change` on the unit: a change that notifies follows it (delivery is in
    commit order), so that one that is silent is known to be silent once the next one arrives."""
    before = len(heard)
    await conn.execute(change, unit_id)
    await conn.execute("update shelter set version = version + 1 where id = (select shelter_id from unit where id = $1)",
                       unit_id)
    for _ in range(200):
        if len(heard) > before:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    return len(heard) - before - 1


async def test_only_changes_to_available_units_notify(create_migrated_database):
    url = await create_migrated_database()
    conn, _, units = await _world(url)
    listener = await database.connect(url)
    heard: list = []
    await listener.add_listener(snapshot.CHANNEL, lambda *args: heard.append(args))
    unit = units[0]
    try:
        occupy = "update unit set status = 'occupied', version = version + 1 where id = $1"
        later = "update unit set available_from = current_date + 7, version = version + 1 where id = $1"
        free = "update unit set status = 'available', version = version + 1 where id = $1"
        assert await _heard_after(conn, heard, occupy, unit) == 1  # available before
        assert await _heard_after(conn, heard, later, unit) == 0  # occupied before and after
        assert await _heard_after(conn, heard, free, unit) == 1  # available after
        assert await _heard_after(conn, heard, later, unit) == 1
    finally:
        await listener.close()
        await conn.close()


async def test_an_old_snapshot_is_used_while_it_is_rebuilt(create_migrated_database, monkeypatch):
    url = await create_migrated_database()
    conn, _, units = await _world(url)
    try:
        async with _snapshot(url, conn) as (snap, _places):
            await snap.availability(conn)
            assert snap.offerable_ids() == {str(u) for u in units}
            # a change the snapshot is not told of: only its age makes it rebuild
            await conn.execute("alter table unit disable trigger unit_changed_notify")
            await conn.execute("update unit set status = 'out_of_service', version = version + 1 where id = $1",
                               units[0])
            await conn.execute("alter table unit enable trigger unit_changed_notify")
            monkeypatch.setattr(snapshot, "MAX_AGE_SECONDS", 0.0)
            used = await snap.availability(conn)
            assert str(units[0]) in {u.id for u in used.units}  # this request used the old one
            for _ in range(100):
                if snap.offerable_ids() == {str(units[1])}:
                    break
                await asyncio.sleep(0.05)
            assert snap.offerable_ids() == {str(units[1])}
    finally:
        await conn.close()
