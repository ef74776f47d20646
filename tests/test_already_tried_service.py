"""Issue 21, defects 1 and 2, against the real service: a declined request is offered another fitting
unit by the next batch, and a decline for the shelter's own reasons rules out the whole shelter."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import make_app
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body

NORTH, EAST = "operator-north", "operator-east"


@pytest.fixture
async def world(create_migrated_database, issuer):
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer)) as client:
        yield client


async def _decline(client, tokens, operator: str, reason: str) -> dict:
    (offer,) = (await client.get("/api/offers?status=open", headers=tokens.staff(operator))).json()
    declined = await client.post(f"/api/offers/{offer['id']}/decline", json={"reason": reason},
                                 headers=tokens.staff(operator))
    assert declined.status_code == 200, declined.text
    return offer


async def test_the_batch_offers_a_declined_request_its_next_fitting_unit(world, tokens):
    client = world
    malmo = tokens.social_worker(MALMO)
    await publish(client, tokens.staff(NORTH), shelter_body("2480", rate=2000, label="Norr"))
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)).json()
    assert request["offer"]["municipality_code"] == "2480"
    await _decline(client, tokens, NORTH, "full")  # the unit stays listed as available: the cheaper one
    assert (await client.get(f"/api/requests/{request['id']}", headers=malmo)).json()["status"] == "waiting"

    await publish(client, tokens.staff(EAST), shelter_body("0380", rate=3000, label="Öst"))
    report = await client.post("/api/batch", headers=tokens.headers(None, "nat-drift", "batch:run"))
    # before: the solver chose the declined (cheaper) unit again and dropped the pair afterwards: 0 offers
    assert report.status_code == 200 and report.json()["offers_made"] == 1, report.text
    after = (await client.get(f"/api/requests/{request['id']}", headers=malmo)).json()
    assert after["status"] == "offered" and after["offer"]["municipality_code"] == "0380"


async def test_cannot_meet_needs_rules_out_the_shelters_other_units(world, tokens):
    client = world
    malmo = tokens.social_worker(MALMO)
    north, _ = await publish(client, tokens.staff(NORTH), shelter_body("2480", rate=2000, label="Norr"))
    second = await client.post(f"/api/shelters/{north['id']}/units", json={"label": "Lgh 2", "beds": 3},
                               headers=tokens.staff(NORTH))
    assert second.status_code == 201, second.text
    await publish(client, tokens.staff(EAST), shelter_body("0380", rate=3000, label="Öst"))
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)).json()
    assert request["offer"]["municipality_code"] == "2480" and request["match"]["fitting_units"] == 3

    await _decline(client, tokens, NORTH, "cannot_meet_needs")
    after = (await client.get(f"/api/requests/{request['id']}", headers=malmo)).json()
    # before: the north shelter's second unit was offered at once
    assert after["status"] == "offered" and after["offer"]["municipality_code"] == "0380"
    assert after["match"]["excluded"] == {"already_tried": 2} and after["match"]["fitting_units"] == 1
    assert (await client.get("/api/offers?status=open", headers=tokens.staff(NORTH))).json() == []

    # and the batch keeps to it: after the east shelter says "full", nothing in the north is offered
    await _decline(client, tokens, EAST, "full")
    report = await client.post("/api/batch", headers=tokens.headers(None, "nat-drift", "batch:run"))
    assert report.status_code == 200 and report.json()["offers_made"] == 0, report.text
    waiting = (await client.get(f"/api/requests/{request['id']}", headers=malmo)).json()
    assert waiting["status"] == "waiting" and waiting["match"]["excluded"] == {"already_tried": 3}
