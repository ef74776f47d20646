"""Every state change in one place (issue 21, defects 4-6): each status step bumps the request's version,
a unit taken out of service withdraws its open offers (and tells both sides), and the batch holds no
lock while it solves, re-checking each pair when it writes."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter
from skyddat_boende.matchmaking.batch import run_batch
from tests.conftest import make_app
from tests.webhook_support import Receiver
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body

NORTH = "operator-north"


@pytest.fixture
async def world(create_migrated_database, issuer):
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer, batch_interval_minutes=0)) as client:
        yield client, url


async def _version(client, headers, request_id: str) -> tuple[str, int]:
    read = (await client.get(f"/api/requests/{request_id}", headers=headers)).json()
    return read["status"], read["version"]


async def test_every_status_step_bumps_the_request_version(world, tokens):
    client, _ = world
    staff, malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
    await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
    first = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-2026-0001"), headers=malmo)).json()
    second = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-2026-0002"), headers=malmo)).json()
    seen = [await _version(client, malmo, first["id"]), await _version(client, malmo, second["id"])]
    accepted = await client.post(f"/api/offers/{first['offer']['id']}/accept", headers=staff)
    placement = accepted.json()["placement_id"]
    seen.append(await _version(client, malmo, first["id"]))
    await client.post(f"/api/placements/{placement}/check-in", json={}, headers=staff)
    moved = await client.post(f"/api/placements/{placement}/move-out", headers=staff)
    assert moved.status_code == 200, moved.text
    seen.append(await _version(client, malmo, first["id"]))
    await client.post(f"/api/requests/{second['id']}/withdraw", headers=malmo)
    seen.append(await _version(client, malmo, second["id"]))
    # created (1), offered (2), placed (3), closed (4); the second waits (1), then is withdrawn (2)
    assert seen == [("offered", 2), ("waiting", 1), ("placed", 3), ("closed", 4), ("withdrawn", 2)]


async def test_declined_offer_puts_the_request_back_to_waiting_with_a_new_version(world, tokens):
    client, _ = world
    staff, malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
    await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)).json()
    await client.post(f"/api/offers/{request['offer']['id']}/decline", json={"reason": "full"}, headers=staff)
    assert await _version(client, malmo, request["id"]) == ("waiting", 3)


async def test_unit_marked_occupied_withdraws_its_open_offer_and_tells_both_sides(world, tokens):
    """The defect: a unit marked occupied kept its open offer, which could still be accepted."""
    client, url = world
    staff, malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
    receiver = Receiver()
    for org in ("kommun-1280", NORTH):
        subscribed = await client.post("/api/webhooks", headers=tokens.headers("org_admin", org),
                                       json={"url": receiver.url, "event_types": ["offer.withdrawn"]})
        assert subscribed.status_code == 201, subscribed.text
    _, unit = await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)).json()
    offer_id = request["offer"]["id"]

    changed = await client.patch(f"/api/units/{unit['id']}", json={"status": "occupied"},
                                 headers={**staff, "If-Match": f'"v{unit["version"]}"'})
    assert changed.status_code == 200, changed.text
    assert (await client.get(f"/api/offers/{offer_id}", headers=staff)).json()["status"] == "withdrawn"
    assert (await _version(client, malmo, request["id"]))[0] == "waiting"
    late = await client.post(f"/api/offers/{offer_id}/accept", headers=staff)
    assert late.status_code == 409
    conn = await database.connect(url)
    try:
        told = await conn.fetch("select organisation_id, payload from webhook_outbox where event_type = 'offer.withdrawn'")
    finally:
        await conn.close()
    assert sorted(r["organisation_id"] for r in told) == ["kommun-1280", NORTH]
    assert all(r["payload"]["offer_id"] == offer_id for r in told)


async def test_availability_sync_withdraws_offers_on_units_it_takes_out_of_service(world, tokens):
    client, _ = world
    staff, malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
    await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)).json()
    synced = await client.put("/api/availability", json={"units": []}, headers=staff)  # every unit unlisted
    assert synced.status_code == 200, synced.text
    assert (await client.get(f"/api/offers/{request['offer']['id']}", headers=staff)).json()["status"] == "withdrawn"


async def test_batch_solves_without_locks_and_skips_a_request_withdrawn_meanwhile(world, tokens):
    """A withdrawal holds its request's row while the batch runs: the batch reads its snapshot without
    waiting for it, writes the other request's offer in a transaction of its own (visible at once), and
    once the withdrawal commits, skips the withdrawn request instead of offering it a place."""
    client, url = world
    staff, malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
    ids = [(await client.post("/api/requests", json=mother_with_son_and_dog(f"MAL-2026-000{i}"), headers=malmo)
            ).json()["id"] for i in (1, 2)]
    for label in ("Norr 1", "Norr 2"):
        await publish(client, staff, shelter_body("2480", rate=2000, label=label))
    withdrawing, pool = await database.connect(url), await database.create_pool(url, max_size=3)
    try:
        async with pool.acquire() as conn:
            places = await adapter.municipalities(conn)
        # the request created second is withdrawn in a transaction still open while the batch runs
        # (two shelters' worth of offers for two requests; the request created first is placed first)
        hold = withdrawing.transaction()
        await hold.start()
        await withdrawing.execute("update placement_request set status = 'withdrawn', version = version + 1 "
                                  "where id = $1", uuid.UUID(ids[1]))
        batch = asyncio.create_task(run_batch(pool, Settings(), places, "api"))
        offered_first = None
        for _ in range(200):
            offered_first = await _open_offer_of(url, ids[0])
            if offered_first or batch.done():
                break
            await asyncio.sleep(0.05)
        assert offered_first, "the batch wrote nothing while a withdrawal held another request"
        await hold.commit()
        report = await batch
    finally:
        await withdrawing.close()
        await pool.close()
    assert report.offers_made == 1 and report.waiting_requests == 2
    assert await _open_offer_of(url, ids[1]) is None


async def _open_offer_of(url: str, request_id: str):
    conn = await database.connect(url)
    try:
        return await conn.fetchval("select id from offer where request_id = $1 and status = 'open'",
                                   uuid.UUID(request_id))
    finally:
        await conn.close()
