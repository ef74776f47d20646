"""The request-to-placement workflow over the API, against a fresh database per test."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.matchmaking import adapter
from skyddat_boende.matchmaking.service import expire_due_offers
from tests.conftest import make_app
from tests.helpers import chain_audit
from tests.webhook_support import Receiver, verify
from tests.workflow_support import (MALMO, STOCKHOLM, mother_with_son_and_dog, organisations, publish, scalars,
                                    shelter_body)

NORTH, EAST = "operator-north", "operator-east"


@pytest.fixture
async def world(create_migrated_database, issuer):
    url = await create_migrated_database()
    await organisations(url)
    app = make_app(url, issuer)
    async with AsyncTestClient(app=app) as client:
        yield client, url, app


async def _two_places(client, tokens):
    """Umeå (north, cheaper) and Uppsala (east): both fit the mother, son and dog from Malmö."""
    north = await publish(client, tokens.staff(NORTH), shelter_body("2480", rate=2000, label="Norr"))
    east = await publish(client, tokens.staff(EAST), shelter_body("0380", rate=3000, label="Öst"))
    return north, east


async def test_whole_flow_offer_decline_next_accept_address_move_out(world, tokens):
    client, url, app = world
    (north_shelter, north_unit), (east_shelter, east_unit) = await _two_places(client, tokens)
    malmo = tokens.social_worker(MALMO)
    receiver = Receiver()
    secrets = {}
    for org in ("kommun-1280", EAST):
        subscribed = await client.post("/api/webhooks", headers=tokens.headers("org_admin", org), json={
            "url": receiver.url, "event_types": ["offer.created", "offer.accepted", "placement.moved_out"]})
        assert subscribed.status_code == 201, subscribed.text
        secrets[org] = subscribed.json()["secret"]

    created = await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "offered"
    assert request["offer"]["municipality_code"] == "2480"  # cheaper of two equal fits
    assert "Hemliga" not in created.text and "street" not in created.text
    assert request["match"]["fitting_units"] == 2

    # the north operator sees the offer with the household but no case reference
    offers = (await client.get("/api/offers?status=open", headers=tokens.staff(NORTH))).json()
    assert [o["id"] for o in offers] == [request["offer"]["id"]]
    assert offers[0]["household"]["children"] == [{"gender": "male", "age": 15}]
    assert "MAL-2026" not in str(offers)
    # the east operator sees nothing of it
    assert (await client.get("/api/offers", headers=tokens.staff(EAST))).json() == []
    assert (await client.get(f"/api/offers/{offers[0]['id']}", headers=tokens.staff(EAST))).status_code == 404

    declined = await client.post(f"/api/offers/{offers[0]['id']}/decline", json={"reason": "full"},
                                 headers=tokens.staff(NORTH))
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    request = (await client.get(f"/api/requests/{request['id']}", headers=malmo)).json()
    assert request["status"] == "offered" and request["offer"]["municipality_code"] == "0380"

    east_offer = (await client.get("/api/offers?status=open", headers=tokens.staff(EAST))).json()[0]
    accepted = await client.post(f"/api/offers/{east_offer['id']}/accept", headers=tokens.staff(EAST))
    assert accepted.status_code == 200, accepted.text
    placement_id = accepted.json()["placement_id"]
    request = (await client.get(f"/api/requests/{request['id']}", headers=malmo)).json()
    assert request["status"] == "placed" and request["placement_id"] == placement_id

    # the address: Malmö's social worker only, only now
    no_reason = await client.get(f"/api/placements/{placement_id}/address", headers=malmo)
    assert no_reason.status_code == 400  # the reason for reading is required
    address = await client.get(f"/api/placements/{placement_id}/address?purpose=contact_shelter", headers=malmo)
    assert address.status_code == 200 and address.json()["street"] == "Hemliga vägen 3000"
    assert (await client.get(f"/api/placements/{placement_id}/address?purpose=contact_shelter",
                             headers=tokens.social_worker(STOCKHOLM))).status_code == 404
    assert (await client.get(f"/api/placements/{placement_id}/address?purpose=contact_shelter",
                             headers=tokens.staff(EAST))).status_code == 403
    assert (await client.get(f"/api/placements/{placement_id}",
                             headers=tokens.social_worker(STOCKHOLM))).status_code == 404

    unit = (await client.get(f"/api/units/{east_unit['id']}", headers=tokens.staff(EAST))).json()
    assert unit["beds_taken"] == 3  # a whole flat for the household
    checked_in = await client.post(f"/api/placements/{placement_id}/check-in",
                                   json={"planned_end_date": "2027-03-01"}, headers=tokens.staff(EAST))
    assert checked_in.status_code == 200 and checked_in.json()["status"] == "checked_in"
    moved = await client.post(f"/api/placements/{placement_id}/move-out", headers=tokens.staff(EAST))
    assert moved.status_code == 200 and moved.json()["status"] == "moved_out"
    unit = (await client.get(f"/api/units/{east_unit['id']}", headers=tokens.staff(EAST))).json()
    assert unit["beds_taken"] == 0
    # after move-out the address is closed again, and the read attempts were audited
    assert (await client.get(f"/api/placements/{placement_id}/address?purpose=follow_up",
                             headers=malmo)).status_code == 404
    conn = await database.connect(url)
    try:
        await chain_audit(conn)
        reads = await conn.fetch("select outcome, actor_organisation, purpose from audit_event "
                                 "where object_type = 'shelter_address' order by seq")
    finally:
        await conn.close()
    assert [(r["outcome"], r["actor_organisation"], r["purpose"]) for r in reads] == [
        ("allowed", "kommun-1280", "contact_shelter"), ("denied", "kommun-0180", None),
        ("denied", "kommun-1280", None)]

    # the partner systems heard of it: signed events with ids only
    expected = {("kommun-1280", "offer.created"): 2, ("kommun-1280", "offer.accepted"): 1,
                ("kommun-1280", "placement.moved_out"): 1, (EAST, "offer.created"): 1}
    try:
        events = await _delivered(client, receiver, sum(expected.values()))
    finally:
        receiver.close()
    received = {}
    for headers, body in events:
        payload = json.loads(body)
        org = next(o for o, secret in secrets.items() if verify(secret, headers, body))  # signed for this org
        received[(org, payload["type"])] = received.get((org, payload["type"]), 0) + 1
        assert set(payload["data"]) <= {"offer_id", "request_id", "placement_id", "unit_id"}
        assert b"Hemliga" not in body and b"MAL-2026" not in body
    assert received == expected
    assert len({h["Webhook-Id"] for h, _ in events}) == len(events)


async def _delivered(client, receiver, count: int, timeout: float = 20.0):
    """Wake the app's webhook worker until `count` deliveries arrived (it runs on the test client's loop)."""
    deadline = time.monotonic() + timeout
    while len(receiver.requests) < count and time.monotonic() < deadline:
        client.blocking_portal.call(client.app.state.webhook_worker.wake)
        await asyncio.sleep(0.2)
    return [(headers, body) for headers, body, _ in receiver.requests]


async def test_hard_rule_boy_over_age_limit_gets_no_offer_and_the_reason_in_numbers(world, tokens):
    client, _, _ = world
    await _two_places(client, tokens)
    body = mother_with_son_and_dog(children=[{"gender": "male", "age": 17, "decision_reference": "MAL-1-B1"}])
    created = await client.post("/api/requests", json=body, headers=tokens.social_worker(MALMO))
    assert created.status_code == 201
    request = created.json()
    assert request["status"] == "waiting" and request["offer"] is None
    assert request["match"]["fitting_units"] == 0
    assert sum(request["match"]["excluded"].values()) == 2
    assert "age" in request["match"]["explanation"]


async def test_personal_identity_number_anywhere_is_rejected_and_nothing_stored(world, tokens):
    client, url, _ = world
    malmo = tokens.social_worker(MALMO)
    # fabricated digits in the shapes of a personnummer: as case reference, and hidden in a child's decision ref
    attempts = [
        mother_with_son_and_dog(case_reference="19800101-1234"),
        mother_with_son_and_dog(children=[{"gender": "male", "age": 9, "decision_reference": "B-800101+1234"}]),
        mother_with_son_and_dog(case_reference="X8001011234"),
        # separators people type, and a JSON escape that hides the digits from a raw-text scan
        mother_with_son_and_dog(case_reference="800101.1234"),
        mother_with_son_and_dog(case_reference="19800101_1234"),
        mother_with_son_and_dog(case_reference="800101/1234"),
        mother_with_son_and_dog(case_reference="80-01-01-1234"),
        mother_with_son_and_dog(case_reference="MAL-2026", lgbtq=False, languages=[], excluded_counties=[],
                                preferred_counties=[], needs=["pets"],
                                children=[{"gender": "male", "age": 9, "decision_reference": "B-860101+6123"}]),
    ]
    for body in attempts:
        response = await client.post("/api/requests", json=body, headers=malmo)
        assert response.status_code in (400, 422), response.text
        assert "1234" not in response.text
    # a JSON escape does not hide the digits from the guard
    escaped = json.dumps(mother_with_son_and_dog()).replace(
        '"MAL-2026-0001"', '"\\u0038\\u0030\\u0030\\u0031\\u0030\\u0031-1234"')
    response = await client.post("/api/requests", content=escaped,
                                 headers=malmo | {"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert (await client.get("/api/requests", headers=malmo)).json() == []
    await chain_audit(url)
    assert await scalars(url, "select count(*) from placement_request",
                         "select count(*) from audit_event where object_id like '%1234%'") == [0, 0]


@pytest.mark.parametrize(
    ("changes", "status", "what"),
    [
        ({"min_distance_km": 1900}, 422, "minimum distance larger than Sweden"),
        ({"children": [{"gender": "male", "age": 18, "decision_reference": "MAL-X-B1"}]}, 400, "child older than 17"),
        ({"adults": []}, 400, "zero adults"),
        ({"max_distance_km": 100}, 422, "max distance without a place to measure from"),
        ({"threat_municipalities": ["9999"]}, 422, "unknown municipality"),
        ({"min_distance_km": 100, "threat_municipalities": []}, 422, "distance from nothing"),
        ({"latest_start_date": "2001-01-01"}, 422, "start date in the past"),
        ({"preferred_counties": ["12"], "excluded_counties": ["12"]}, 422, "county both preferred and excluded"),
        ({"security_level_needed": 9}, 400, "security level out of range"),
        ({"status": "placed"}, 400, "mass-assigned status"),
    ],
)
async def test_contradictory_or_malformed_request_is_refused_and_changes_nothing(world, tokens, changes, status, what):
    client, _, _ = world
    malmo = tokens.social_worker(MALMO)
    response = await client.post("/api/requests", json=mother_with_son_and_dog() | changes, headers=malmo)
    assert response.status_code == status, (what, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/requests", headers=malmo)).json() == []


async def test_offer_answers_other_operator_twice_expired_and_bad_reason(world, tokens):
    client, url, app = world
    await _two_places(client, tokens)
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(),
                                 headers=tokens.social_worker(MALMO))).json()
    offer_id = request["offer"]["id"]
    assert (await client.post(f"/api/offers/{offer_id}/accept", headers=tokens.staff(EAST))).status_code == 404
    assert (await client.post(f"/api/offers/{uuid.uuid4()}/accept", headers=tokens.staff(NORTH))).status_code == 404
    bad = await client.post(f"/api/offers/{offer_id}/decline", json={"reason": "bored"}, headers=tokens.staff(NORTH))
    assert bad.status_code == 400

    conn = await database.connect(url)
    try:
        await conn.execute("update offer set created_at = now() - interval '3 hours', "
                           "expires_at = now() - interval '1 minute' where id = $1", uuid.UUID(offer_id))
    finally:
        await conn.close()
    late = await client.post(f"/api/offers/{offer_id}/accept", headers=tokens.staff(NORTH))
    assert late.status_code == 409 and late.json()["type"].endswith("/offer-expired")

    # the sweeper expires it and offers the next place (own pool: the app's lives on the test client's loop)
    pool = await database.create_pool(url, max_size=2)
    try:
        async with pool.acquire() as conn:
            places = await adapter.municipalities(conn)
        assert await expire_due_offers(pool, app.state.settings, places) == 1
    finally:
        await pool.close()
    request = (await client.get(f"/api/requests/{request['id']}", headers=tokens.social_worker(MALMO))).json()
    assert request["offer"]["municipality_code"] == "0380" and request["status"] == "offered"
    second = request["offer"]["id"]
    accepted = await client.post(f"/api/offers/{second}/accept", headers=tokens.staff(EAST))
    assert accepted.status_code == 200
    # accepting again (a retry after a lost response) answers the same placement; declining it is refused
    again = await client.post(f"/api/offers/{second}/accept", headers=tokens.staff(EAST))
    assert again.status_code == 200 and again.json()["placement_id"] == accepted.json()["placement_id"]
    late = await client.post(f"/api/offers/{second}/decline", json={"reason": "full"}, headers=tokens.staff(EAST))
    assert late.status_code == 409 and late.json()["type"].endswith("/offer-not-open")


async def test_withdrawal_frees_the_held_unit(world, tokens):
    client, _, _ = world
    (_, north_unit), _ = await _two_places(client, tokens)
    malmo = tokens.social_worker(MALMO)
    request = (await client.post("/api/requests", json=mother_with_son_and_dog(), headers=malmo)).json()
    assert (await client.get(f"/api/units/{north_unit['id']}", headers=tokens.staff(NORTH))).json()["held_by_offer"]
    withdrawn = await client.post(f"/api/requests/{request['id']}/withdraw", headers=malmo)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert not (await client.get(f"/api/units/{north_unit['id']}", headers=tokens.staff(NORTH))).json()["held_by_offer"]
    assert (await client.post(f"/api/requests/{request['id']}/withdraw", headers=malmo)).status_code == 409
    assert (await client.post(f"/api/requests/{request['id']}/withdraw",
                              headers=tokens.social_worker(STOCKHOLM))).status_code == 404


async def test_batch_offers_waiting_requests_and_runs_one_at_a_time(world, tokens):
    from skyddat_boende.matchmaking.batch import LOCK_KEY

    client, url, _ = world
    malmo = tokens.social_worker(MALMO)
    waiting = [
        (await client.post("/api/requests", json=mother_with_son_and_dog(f"MAL-W{i}"), headers=malmo)).json()
        for i in range(3)
    ]
    assert {r["status"] for r in waiting} == {"waiting"}  # no places published yet
    await _two_places(client, tokens)
    operations = tokens.headers(None, "nat-drift", "batch:run")

    holder = await database.connect(url)  # another process running the batch holds its lock
    try:
        await holder.execute("select pg_advisory_lock($1)", LOCK_KEY)
        busy = await client.post("/api/batch", headers=operations)
        assert busy.status_code == 409
        await holder.execute("select pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await holder.close()

    assert (await client.post("/api/batch", headers=tokens.social_worker(MALMO))).status_code == 403
    report = await client.post("/api/batch", headers=operations)
    assert report.status_code == 200, report.text
    assert report.json()["waiting_requests"] == 3 and report.json()["offers_made"] == 2  # two places, three asks
    statuses = sorted([(await client.get(f"/api/requests/{r['id']}", headers=malmo)).json()["status"]
                       for r in waiting])
    assert statuses == ["offered", "offered", "waiting"]
    again = await client.post("/api/batch", headers=operations)
    assert again.json()["offers_made"] == 0


def test_personal_number_rule_is_the_same_in_python_and_tells_dates_from_case_numbers():
    from skyddat_boende.privacy import looks_like_personal_number

    for text in ("800101-1234", "19800101 1234", "800161+1234", "8 0 0 1 0 1 1 2 3 4"):
        assert looks_like_personal_number(text), text
    for text in ("MAL-2026-0042", "MAL-2026-004201", "2026-00-42-0123", "SOC/2026/12345"):
        assert not looks_like_personal_number(text), text


async def test_validation_errors_do_not_echo_the_value_sent(world, tokens):
    client, _, _ = world
    # a personnummer in an enum field is refused before validation (the input guard), without echo
    body = mother_with_son_and_dog(urgency="-".join(("19800101", "1234")))  # built here: no such literal
    response = await client.post("/api/requests", json=body, headers=tokens.social_worker(MALMO))
    assert response.status_code == 422 and "1234" not in response.text
    body = mother_with_son_and_dog(urgency="soon-case-4711")  # free text in an enum field
    response = await client.post("/api/requests", json=body, headers=tokens.social_worker(MALMO))
    assert response.status_code == 400
    assert "4711" not in response.text and "urgency" in response.text


async def test_a_municipality_cannot_hold_more_open_requests_than_the_limit(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer, max_open_requests=2)) as client:
        malmo = tokens.social_worker(MALMO)
        statuses = [(await client.post("/api/requests", json=mother_with_son_and_dog(f"MAL-CAP-{i}"),
                                       headers=malmo)).status_code for i in range(3)]
        assert statuses == [201, 201, 409]
        # Stockholm is not affected, and withdrawing one frees a slot for Malmö
        assert (await client.post("/api/requests", json=mother_with_son_and_dog("STH-CAP-1"),
                                  headers=tokens.social_worker(STOCKHOLM))).status_code == 201
        first = (await client.get("/api/requests", headers=malmo)).json()[0]
        await client.post(f"/api/requests/{first['id']}/withdraw", headers=malmo)
        assert (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-CAP-9"),
                                  headers=malmo)).status_code == 201


async def test_tokens_for_unregistered_organisations_change_nothing(world, tokens):
    """Input: a trusted issuer's tokens for organisations that were never registered: a social worker
    at 'kommun-0000' (no such municipality) filing a request, and staff at 'operator-ghost' publishing
    a shelter. Both are refused as unknown references and nothing is written."""
    client, url, app = world
    ghost_municipality = await client.post("/api/requests", json=mother_with_son_and_dog(),
                                           headers=tokens.social_worker("0000"))
    assert ghost_municipality.status_code == 422, ghost_municipality.text
    assert ghost_municipality.json()["type"].endswith("unknown-reference")
    ghost_operator = await client.post("/api/shelters", json=shelter_body("2480", rate=2000, label="Spöke"),
                                       headers=tokens.staff("operator-ghost"))
    assert ghost_operator.status_code == 422, ghost_operator.text
    assert ghost_operator.json()["type"].endswith("unknown-reference")
    assert await scalars(url, "select count(*) from placement_request", "select count(*) from shelter") == [0, 0]
