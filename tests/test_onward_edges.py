"""Onward housing's edges over the API: an expired offer cannot be accepted and the sweep offers the next
apartment; withdrawal frees the apartment; apartments follow the same ETag, If-Match and Idempotency-Key
rules as shelters; a let apartment no longer changes."""

from __future__ import annotations

import datetime as dt

import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.housing import moves
from tests.conftest import make_app
from tests.housing_support import UMEA, apartment_body, housing_provider, onward_body
from tests.workflow_support import MALMO, STOCKHOLM, organisations

DATES = {"lease_signed_on": dt.date.today().isoformat(), "move_in_on": dt.date.today().isoformat()}


@pytest.fixture
async def world(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    provider = await housing_provider(url, "north", UMEA)
    app = make_app(url, issuer, rate_limit_per_minute=1_000_000)
    staff = tokens.headers("housing_staff", provider)
    async with AsyncTestClient(app=app) as client:
        apartments = []
        for label, rent in (("Ett", 6000), ("Två", 7000)):
            created = await client.post("/api/apartments", json=apartment_body(UMEA, label=label, rent=rent),
                                        headers=staff)
            apartments.append(created.json())
        onward = await client.post("/api/onward-requests", json=onward_body("MAL-EDGE-1"),
                                   headers=tokens.social_worker(MALMO))
        yield client, app, url, staff, apartments, onward.json()


async def test_an_expired_offer_is_refused_and_the_sweep_offers_the_next(world, tokens):
    """Input: the offer's hold ran out (set back in the database), then an accept."""
    client, app, url, staff, apartments, onward = world
    offer_id = onward["offers"][0]["id"]
    conn = await database.connect(url)
    try:
        await conn.execute("update onward_offer set created_at = now() - interval '10 days', "
                           "expires_at = now() - interval '1 day' where id = $1::uuid", offer_id)
        refused = await client.post(f"/api/onward-offers/{offer_id}/accept", json=DATES, headers=staff)
        assert refused.status_code == 409 and refused.json()["type"].endswith("offer-expired")
        assert await conn.fetchval("select status from onward_offer where id = $1::uuid", offer_id) == "open"
        pool = await database.create_pool(url, max_size=2)
        try:
            assert await moves.expire_due(pool, app.state.settings, app.state.places) == 1
        finally:
            await pool.close()
    finally:
        await conn.close()
    again = (await client.get(f"/api/onward-requests/{onward['id']}", headers=tokens.social_worker(MALMO))).json()
    assert [(o["status"], o["monthly_rent_sek"]) for o in again["offers"]] == [("open", 7000), ("expired", 6000)]


async def test_withdrawal_frees_the_apartment_only_for_the_own_municipality(world, tokens):
    client, _, _, staff, apartments, onward = world
    path = f"/api/onward-requests/{onward['id']}/withdraw"
    assert (await client.post(path, headers=tokens.social_worker(STOCKHOLM))).status_code == 404
    withdrawn = await client.post(path, headers=tokens.social_worker(MALMO))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["offers"][0]["status"] == "withdrawn"
    assert (await client.post(path, headers=tokens.social_worker(MALMO))).status_code == 409
    listed = (await client.get("/api/apartments", headers=staff)).json()
    assert [a["offered"] for a in listed] == [False, False]


async def test_apartments_need_if_match_and_replay_idempotent_posts(world, tokens):
    client, _, _, staff, apartments, onward = world
    offered = apartments[0]["id"]
    path = f"/api/apartments/{offered}"
    assert (await client.patch(path, json={"rooms": 4}, headers=staff)).status_code == 428
    assert (await client.patch(path, json={"rooms": 4}, headers=staff | {"If-Match": '"v9"'})).status_code == 412
    busy = await client.patch(path, json={"status": "unavailable"}, headers=staff | {"If-Match": '"v1"'})
    assert busy.status_code == 409  # an onward offer holds it
    changed = await client.patch(path, json={"rooms": 4}, headers=staff | {"If-Match": '"v1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"v2"'
    body = apartment_body(UMEA, label="Tre")
    first = await client.post("/api/apartments", json=body, headers=staff | {"Idempotency-Key": "tre-1"})
    replay = await client.post("/api/apartments", json=body, headers=staff | {"Idempotency-Key": "tre-1"})
    assert replay.headers["idempotency-replayed"] == "true" and replay.json()["id"] == first.json()["id"]
    accepted = await client.post(f"/api/onward-offers/{onward['offers'][0]['id']}/accept", json=DATES, headers=staff)
    assert accepted.status_code == 200
    let = await client.patch(path, json={"rooms": 5}, headers=staff | {"If-Match": '"v3"'})
    assert let.status_code == 409  # let: no longer changed here


async def test_partner_sync_replaces_availability_all_or_nothing(world, tokens):
    """Input: a snapshot naming an unknown apartment, one leaving the offered apartment out, then one
    listing only the offered apartment (the other becomes unavailable)."""
    client, _, _, staff, apartments, onward = world
    offered, other = apartments[0]["id"], apartments[1]["id"]
    path = "/api/apartment-availability"
    unknown = await client.put(path, json={"apartments": [{"apartment_id": onward["id"], "status": "available"}]},
                               headers=staff)
    assert unknown.status_code == 422
    held = await client.put(path, json={"apartments": []}, headers=staff)
    assert held.status_code == 422 and "open onward offer" in held.json()["detail"]
    assert [a["status"] for a in (await client.get("/api/apartments", headers=staff)).json()] == ["available"] * 2
    synced = await client.put(path, json={"apartments": [{"apartment_id": offered, "status": "available"}]},
                              headers=staff)
    assert synced.status_code == 200 and synced.json() == {"updated": 1, "set_out_of_service": 1, "changed": 2}
    status = {a["id"]: a["status"] for a in (await client.get("/api/apartments", headers=staff)).json()}
    assert status == {offered: "available", other: "unavailable"}


async def test_a_waiting_household_is_offered_an_apartment_published_later(world, tokens):
    """Input: a second household for whom nothing is free (both apartments held or skipped), then a new
    apartment published; the onward sweep offers it."""
    client, app, url, staff, apartments, onward = world
    worker = tokens.social_worker(MALMO)
    second = (await client.post("/api/onward-requests", json=onward_body("MAL-EDGE-2"), headers=worker)).json()
    third = (await client.post("/api/onward-requests", json=onward_body("MAL-EDGE-3"), headers=worker)).json()
    assert (second["status"], third["status"]) == ("offered", "waiting")
    await client.post("/api/apartments", json=apartment_body(UMEA, label="Tre", rent=7500), headers=staff)
    pool = await database.create_pool(url, max_size=2)
    try:
        assert await moves.offer_waiting(pool, app.state.settings, app.state.places) == 1
    finally:
        await pool.close()
    again = (await client.get(f"/api/onward-requests/{third['id']}", headers=worker)).json()
    assert again["status"] == "offered" and again["offers"][0]["monthly_rent_sek"] == 7500


async def test_only_an_active_placement_of_ones_own_municipality_can_be_linked(world, tokens):
    """Input: an onward request linked to a placement id that is not Malmö's (here: no placement at all),
    and the same case reference twice."""
    client, *_ = world
    worker = tokens.social_worker(MALMO)
    stray = await client.post("/api/onward-requests", headers=worker,
                              json=onward_body("MAL-EDGE-9", placement_id="7d4e0f4e-55b2-4c1e-9d7c-2b8f8a3d9e01"))
    assert stray.status_code == 422 and stray.json()["type"].endswith("placement-not-linkable")
    twice = await client.post("/api/onward-requests", headers=worker, json=onward_body("MAL-EDGE-1"))
    assert twice.status_code == 409
