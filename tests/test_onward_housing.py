"""Issue 24's whole path over HTTP against a real server and real PostgreSQL: a household in a shelter,
an onward request, apartments published, an offer declined, the next accepted, the address readable by
that municipality only and only then, the move-in ending the placement and freeing its unit, signed
webhooks to the shelter's operator and the municipality."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx

from skyddat_boende import database
from tests.helpers import chain_audit, cli, running_server
from tests.housing_support import GOTEBORG, UMEA, apartment_body, housing_provider, onward_body
from tests.webhook_support import Receiver, verify
from tests.workflow_support import MALMO, STOCKHOLM, mother_with_son_and_dog, organisations, publish, shelter_body

NORTH = "operator-north"
HOME_NORTH, HOME_WEST = "housing-north", "housing-west"


async def _subscribe(http, base, tokens, org: str, url: str, types: list[str]) -> str:
    created = await http.post(f"{base}/api/webhooks", json={"url": url, "event_types": types},
                              headers=tokens.headers("org_admin", org))
    assert created.status_code == 201, created.text
    return created.json()["secret"]


async def _placed_household(http, base, tokens) -> tuple[dict, str]:
    """A mother and son placed and checked in at operator-north's shelter; the unit and the placement id."""
    staff = tokens.staff(NORTH)
    _, unit = await publish(http_client(http, base), staff, shelter_body(UMEA, rate=2000, label="Norr"))
    placed = (await http.post(f"{base}/api/requests", json=mother_with_son_and_dog("MAL-ONW-1"),
                              headers=tokens.social_worker(MALMO))).json()
    accepted = await http.post(f"{base}/api/offers/{placed['offer']['id']}/accept", headers=staff)
    assert accepted.status_code == 200, accepted.text
    placement_id = accepted.json()["placement_id"]
    assert (await http.post(f"{base}/api/placements/{placement_id}/check-in", json={}, headers=staff)).status_code == 200
    return unit, placement_id


def http_client(http, base):
    """tests.workflow_support.publish takes a client with relative paths."""
    class Prefixed:
        async def post(self, path, **kwargs):
            return await http.post(base + path, **kwargs)
    return Prefixed()


async def _publish_apartments(http, base, tokens) -> dict[str, str]:
    north, west = tokens.headers("housing_staff", HOME_NORTH), tokens.headers("housing_staff", HOME_WEST)
    ids = {}
    for name, headers, body in (
        ("umea", north, apartment_body(UMEA, label="Storgatan 3 tr", rent=7000)),
        ("goteborg", west, apartment_body(GOTEBORG, label="Vasagatan 2 tr", rent=7500)),
        ("malmo", west, apartment_body(MALMO, label="Malmö centrum", rent=5000)),  # in the threat municipality
        ("small", north, apartment_body(UMEA, label="Etta", rooms=1, rent=4000)),  # too few rooms
    ):
        created = await http.post(f"{base}/api/apartments", json=body, headers=headers | {"Idempotency-Key": name})
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    return ids


async def _refused_without_a_trace(http, base, tokens, url: str) -> None:
    """Bad onward requests: each a specific 422, nothing stored."""
    worker = tokens.social_worker(MALMO)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    big = [{"gender": "female", "age": 30 + i} for i in range(4)]
    kids = [{"gender": "male", "age": 2 + i, "decision_reference": f"MAL-BIG-C{i}"} for i in range(8)]
    for body, slug in (
        (onward_body("MAL-BAD-1", earliest_move_in=yesterday), "move-in-in-the-past"),
        (onward_body("MAL-BAD-2", max_rent_sek=100), "no-apartment-can-fit"),
        (onward_body("MAL-BAD-3", adults=big, children=kids), "no-apartment-can-fit"),
    ):
        refused = await http.post(f"{base}/api/onward-requests", json=body, headers=worker)
        assert refused.status_code == 422 and refused.json()["type"].endswith(slug), refused.text
    conn = await database.connect(url)
    try:
        assert await conn.fetchval("select count(*) from onward_request") == 0
    finally:
        await conn.close()


async def test_a_household_moves_on_from_a_shelter_to_a_home(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    registered = cli("organisation", "add", "--id", HOME_NORTH, "--kind", "housing_provider",
                     "--name", "Bostaden i Umeå", "--municipality", UMEA, env={"DATABASE_URL": url})
    assert registered.returncode == 0, registered.stderr
    await housing_provider(url, "west", GOTEBORG)
    operator_hooks, municipality_hooks = Receiver(), Receiver()
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0",
           "SB_RUN_JOBS": "1"}
    try:
        with running_server(env) as base:
            async with httpx.AsyncClient(timeout=30) as http:
                await _walk(http, base, tokens, url, operator_hooks, municipality_hooks)
    finally:
        operator_hooks.close()
        municipality_hooks.close()


async def _walk(http, base, tokens, url, operator_hooks, municipality_hooks) -> None:
    operator_secret = await _subscribe(http, base, tokens, NORTH, operator_hooks.url, ["placement.moved_out"])
    municipality_secret = await _subscribe(http, base, tokens, f"kommun-{MALMO}", municipality_hooks.url, [
        "onward_offer.created", "onward_offer.declined", "onward_offer.accepted", "onward.moved_in",
        "placement.moved_out"])
    unit, placement_id = await _placed_household(http, base, tokens)
    apartments = await _publish_apartments(http, base, tokens)
    await _refused_without_a_trace(http, base, tokens, url)
    worker, stranger = tokens.social_worker(MALMO), tokens.social_worker(STOCKHOLM)
    north, west = tokens.headers("housing_staff", HOME_NORTH), tokens.headers("housing_staff", HOME_WEST)

    created = await http.post(f"{base}/api/onward-requests", json=onward_body("MAL-ONW-1", placement_id), headers=worker)
    assert created.status_code == 201, created.text
    onward = created.json()
    assert onward["status"] == "offered" and onward["offers"][0]["municipality_code"] == UMEA  # the lower rent
    assert onward["match"]["excluded"] == {"excluded_area": 1, "rooms": 1}
    first = (await http.get(f"{base}/api/onward-offers", headers=north)).json()[0]
    address = f"{base}/api/onward-requests/{onward['id']}/address?purpose=arrange_move"
    assert (await http.get(address, headers=worker)).status_code == 404  # not before acceptance

    # another provider can neither answer this offer nor change the apartment
    assert (await http.post(f"{base}/api/onward-offers/{first['id']}/decline", json={"reason": "other"},
                            headers=west)).status_code == 404
    assert (await http.patch(f"{base}/api/apartments/{apartments['umea']}", json={"rooms": 4},
                             headers=west | {"If-Match": '"v1"'})).status_code == 404
    declined = await http.post(f"{base}/api/onward-offers/{first['id']}/decline", json={"reason": "not_suitable"},
                               headers=north)
    assert declined.status_code == 200 and declined.json()["status"] == "declined", declined.text

    onward = (await http.get(f"{base}/api/onward-requests/{onward['id']}", headers=worker)).json()
    assert [o["status"] for o in onward["offers"]] == ["open", "declined"]
    assert onward["offers"][0]["municipality_code"] == GOTEBORG
    second = (await http.get(f"{base}/api/onward-offers", headers=west)).json()[0]
    assert second["household"] == {"adults": 1, "children": 1, "rooms_needed": 2, "needs": ["pets"],
                                   "protected_data_level": "sekretessmarkering"}
    today = dt.date.today()
    past = {"lease_signed_on": today.isoformat(), "move_in_on": (today - dt.timedelta(days=1)).isoformat()}
    refused = await http.post(f"{base}/api/onward-offers/{second['id']}/accept", json=past, headers=west)
    assert refused.status_code == 422 and refused.json()["type"].endswith("move-in-in-the-past")
    dates = {"lease_signed_on": today.isoformat(), "move_in_on": (today + dt.timedelta(days=3)).isoformat()}
    accepted = await http.post(f"{base}/api/onward-offers/{second['id']}/accept", json=dates, headers=west)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text

    # the address: the requesting municipality only, and only now
    shown = await http.get(address, headers=worker)
    assert shown.status_code == 200 and shown.json()["street"] == "Nya hemmet 7500", shown.text
    assert (await http.get(address, headers=stranger)).status_code == 404
    assert (await http.get(address, headers=west)).status_code == 403

    moved = await http.post(f"{base}/api/onward-offers/{second['id']}/move-in", headers=west)
    assert moved.status_code == 200 and moved.json()["moved_in_at"], moved.text
    placement = (await http.get(f"{base}/api/placements/{placement_id}", headers=worker)).json()
    assert placement["status"] == "moved_out"
    freed = (await http.get(f"{base}/api/units/{unit['id']}", headers=tokens.staff(NORTH))).json()
    assert freed["beds_taken"] == 0
    await _check_records(url, onward["id"])
    await _signed_webhooks(operator_hooks, operator_secret, {"placement.moved_out"})
    await _signed_webhooks(municipality_hooks, municipality_secret, {
        "onward_offer.created", "onward_offer.declined", "onward_offer.accepted", "onward.moved_in",
        "placement.moved_out"})


async def _check_records(url: str, onward_id: str) -> None:
    conn = await database.connect(url)
    try:
        assert await conn.fetchval("select status from onward_request where id = $1::uuid", onward_id) == "moved_in"
        assert await conn.fetchval(
            "select r.status from placement_request r join placement p on p.request_id = r.id") == "closed"
        await chain_audit(conn)
        reads = await conn.fetch("select actor_organisation, outcome, purpose from audit_event "
                                 "where object_type = 'apartment_address' order by seq")
        assert [tuple(r) for r in reads] == [
            (f"kommun-{MALMO}", "denied", None), (f"kommun-{MALMO}", "allowed", "arrange_move"),
            (f"kommun-{STOCKHOLM}", "denied", None)]
    finally:
        await conn.close()


async def _signed_webhooks(receiver: Receiver, secret: str, expected: set[str]) -> None:
    for _ in range(100):
        types = {json.loads(body)["type"] for _, body, _ in receiver.requests}
        if types >= expected:
            break
        await asyncio.sleep(0.1)
    assert {json.loads(body)["type"] for _, body, _ in receiver.requests} == expected
    for headers, body, _ in receiver.requests:
        assert verify(secret, headers, body)
        assert "Nya hemmet" not in body.decode() and "MAL-ONW" not in body.decode()
