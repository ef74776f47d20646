"""Capacity over the API: shelters and units, ETags and If-Match, idempotency, freshness, bulk sync."""

from __future__ import annotations

import uuid

import pytest

from skyddat_boende import database
from tests import factories
from tests.helpers import chain_audit
from tests.web_support import csrf_token, logged_in

SHELTER = {
    "label": "Testboendet",
    "municipality_code": "0180",
    "target_groups": ["women", "families"],
    "security_level": 3,
    "protected_data_capability": "skyddad_folkbokforing",
    "staff_languages": ["sv", "ar"],
    "daily_rate_sek": 2600,
    "features": ["pets", "wheelchair"],
    "max_age_boys": 15,
    "address": {"street": "Provgatan 1", "postal_code": "111 22", "city": "Stockholm", "contact_phone": "+46 8 000 00 00"},
}


@pytest.fixture
async def operators(database_url):
    conn = await database.connect(database_url)
    try:
        mine = await factories.operator_org(conn, f"cap-{uuid.uuid4().hex[:8]}")
        theirs = await factories.operator_org(conn, f"cap-{uuid.uuid4().hex[:8]}")
    finally:
        await conn.close()
    return mine, theirs


async def _shelter(client, headers, **changes) -> dict:
    response = await client.post("/api/shelters", json=SHELTER | changes, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_read_update_shelter_with_etag_and_if_match(client, tokens, operators):
    mine, _ = operators
    staff = tokens.staff(mine)
    created = await client.post("/api/shelters", json=SHELTER, headers=staff)
    assert created.status_code == 201
    shelter = created.json()
    assert shelter["operator_id"] == mine and shelter["version"] == 1
    assert "address" not in shelter and "Provgatan" not in created.text  # the address is write-only
    assert created.headers["etag"] == '"v1"' and created.headers["location"] == f"/api/shelters/{shelter['id']}"

    url = f"/api/shelters/{shelter['id']}"
    read = await client.get(url, headers=staff)
    assert read.headers["etag"] == '"v1"'

    # no If-Match: 428, nothing changed
    missing = await client.patch(url, json={"daily_rate_sek": 2800}, headers=staff)
    assert missing.status_code == 428
    assert missing.headers["content-type"].startswith("application/problem+json")
    updated = await client.patch(url, json={"daily_rate_sek": 2800}, headers=staff | {"If-Match": '"v1"'})
    assert updated.status_code == 200 and updated.json()["daily_rate_sek"] == 2800
    assert updated.headers["etag"] == '"v2"'
    # the old ETag is stale now: 412 and the rate stays
    stale = await client.patch(url, json={"daily_rate_sek": 1}, headers=staff | {"If-Match": '"v1"'})
    assert stale.status_code == 412
    garbage = await client.patch(url, json={"daily_rate_sek": 1}, headers=staff | {"If-Match": "*"})
    assert garbage.status_code == 412
    assert (await client.get(url, headers=staff)).json()["daily_rate_sek"] == 2800


async def test_mass_assignment_of_owner_or_version_is_refused(client, tokens, operators):
    mine, theirs = operators
    staff = tokens.staff(mine)
    # unknown fields (operator_id, version, beds_taken) are rejected, not ignored
    forged = await client.post("/api/shelters", json=SHELTER | {"operator_id": theirs}, headers=staff)
    assert forged.status_code == 400
    shelter = await _shelter(client, staff)
    patch = await client.patch(f"/api/shelters/{shelter['id']}", json={"version": 99},
                               headers=staff | {"If-Match": '"v1"'})
    assert patch.status_code == 400
    unit = await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "A", "beds": 2, "beds_taken": 2},
                             headers=staff)
    assert unit.status_code == 400


async def test_other_operators_shelter_and_unit_are_not_found(client, tokens, operators):
    mine, theirs = operators
    shelter = await _shelter(client, tokens.staff(mine))
    unit = (await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "A", "beds": 2},
                              headers=tokens.staff(mine))).json()
    other = tokens.staff(theirs)
    for path in (f"/api/shelters/{shelter['id']}", f"/api/shelters/{shelter['id']}/units", f"/api/units/{unit['id']}"):
        assert (await client.get(path, headers=other)).status_code == 404, path
    changed = await client.patch(f"/api/units/{unit['id']}", json={"beds": 9}, headers=other | {"If-Match": '"v1"'})
    assert changed.status_code == 404
    assert (await client.get(f"/api/units/{unit['id']}", headers=tokens.staff(mine))).json()["beds"] == 2
    # and a random id answers exactly the same
    assert (await client.get(f"/api/units/{uuid.uuid4()}", headers=other)).json() == \
        (await client.get(f"/api/units/{unit['id']}", headers=other)).json()


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"security_level": 5}, "security level above 4"),
        ({"target_groups": []}, "nobody taken"),
        ({"target_groups": ["pirates"]}, "unknown target group"),
        ({"max_age_boys": 18}, "age limit for an adult"),
        ({"staff_languages": ["svenska"]}, "language not an ISO 639-1 code"),
        ({"municipality_code": "9999"}, "unknown municipality"),
        ({"label": "x" * 500}, "label too long"),
        ({"address": {"street": "A", "postal_code": "1", "city": "B", "contact_phone": "x"}}, "malformed address"),
    ],
)
async def test_bad_shelter_input_is_a_clear_4xx_and_changes_nothing(client, tokens, operators, body, what):
    mine, _ = operators
    staff = tokens.staff(mine)
    response = await client.post("/api/shelters", json=SHELTER | body, headers=staff)
    assert 400 <= response.status_code < 500, what
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/shelters", headers=staff)).json() == []


async def test_idempotency_key_replays_refuses_other_body_and_running_duplicate(client, tokens, operators, database_url):
    mine, _ = operators
    staff = tokens.staff(mine, **{"Idempotency-Key": "create-shelter-1"})
    first = await client.post("/api/shelters", json=SHELTER, headers=staff)
    again = await client.post("/api/shelters", json=SHELTER, headers=staff)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotency-replayed"] == "true"
    assert len((await client.get("/api/shelters", headers=tokens.staff(mine))).json()) == 1
    # another person of the same organisation and client cannot replay (or collide with) that key
    colleague = await client.post("/api/shelters", json=SHELTER | {"label": "Kollegans"},
                                  headers=tokens.staff(mine, **{"Idempotency-Key": "create-shelter-1"}))
    assert colleague.status_code == 201 and colleague.json()["label"] == "Kollegans"
    other_body = await client.post("/api/shelters", json=SHELTER | {"label": "Annat"}, headers=staff)
    assert other_body.status_code == 422
    assert other_body.json()["type"].endswith("/idempotency-key-reused")

    # while a request with the key is running (we hold its lock from another connection): 409
    from skyddat_boende.idempotency import idempotent  # noqa: F401  (the lock key is derived the same way)
    import hashlib

    principal_owner = f"{mine} {tokens.issuer.url} client-{mine} user-fixed"
    lock = int.from_bytes(hashlib.sha256(f"{principal_owner}\ncreate-shelter-2".encode()).digest()[:8], "big", signed=True)
    holder = await database.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute("select pg_advisory_xact_lock($1)", lock)
            busy = await client.post("/api/shelters", json=SHELTER | {"label": "Tredje"},
                                     headers=tokens.headers("shelter_staff", mine, subject="user-fixed",
                                                            **{"Idempotency-Key": "create-shelter-2"}))
            assert busy.status_code == 409
    finally:
        await holder.close()
    bad_key = await client.post("/api/shelters", json=SHELTER, headers=tokens.staff(mine, **{"Idempotency-Key": "no spaces allowed!"}))
    assert bad_key.status_code == 400


async def test_freshness_stale_units_and_cheap_confirmation(client, tokens, operators, database_url):
    mine, _ = operators
    staff = tokens.staff(mine)
    shelter = await _shelter(client, staff)
    unit = (await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "A", "beds": 2},
                              headers=staff)).json()
    assert unit["stale"] is False
    conn = await database.connect(database_url)
    try:
        await conn.execute("update unit set availability_confirmed_at = now() - interval '25 hours' where id = $1",
                           uuid.UUID(unit["id"]))
    finally:
        await conn.close()
    assert (await client.get(f"/api/units/{unit['id']}", headers=staff)).json()["stale"] is True
    confirmed = await client.post(f"/api/shelters/{shelter['id']}/confirm", headers=staff)
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_units"] == 1
    after = (await client.get(f"/api/units/{unit['id']}", headers=staff)).json()
    assert after["stale"] is False and after["version"] == unit["version"]  # confirming is not a change


async def test_bulk_availability_replaces_everything_atomically(client, tokens, operators):
    mine, theirs = operators
    staff = tokens.staff(mine)
    shelter = await _shelter(client, staff)
    units = [
        (await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": f"U{i}", "beds": 2},
                           headers=staff)).json()
        for i in range(3)
    ]
    foreign_shelter = await _shelter(client, tokens.staff(theirs))
    foreign_unit = (await client.post(f"/api/shelters/{foreign_shelter['id']}/units", json={"label": "F", "beds": 1},
                                      headers=tokens.staff(theirs))).json()
    # one foreign unit in the snapshot: nothing changes
    refused = await client.put("/api/availability", headers=staff, json={"units": [
        {"unit_id": units[0]["id"], "status": "out_of_service"},
        {"unit_id": foreign_unit["id"], "status": "out_of_service"},
    ]})
    assert refused.status_code == 422
    listed = (await client.get(f"/api/shelters/{shelter['id']}/units", headers=staff)).json()
    assert {u["status"] for u in listed} == {"available"}
    assert (await client.get(f"/api/units/{foreign_unit['id']}", headers=tokens.staff(theirs))).json()["status"] == "available"

    synced = await client.put("/api/availability", headers=staff, json={"units": [
        {"unit_id": units[0]["id"], "status": "available", "available_from": "2030-01-01"},
        {"unit_id": units[1]["id"], "status": "out_of_service"},
    ]})
    assert synced.status_code == 200, synced.text
    assert synced.json() == {"updated": 2, "set_out_of_service": 1, "changed": 3}
    by_label = {u["label"]: u for u in (await client.get(f"/api/shelters/{shelter['id']}/units", headers=staff)).json()}
    assert by_label["U0"]["available_from"] == "2030-01-01"
    assert by_label["U1"]["status"] == "out_of_service" and by_label["U2"]["status"] == "out_of_service"
    duplicate = await client.put("/api/availability", headers=staff, json={"units": [
        {"unit_id": units[0]["id"], "status": "available"}, {"unit_id": units[0]["id"], "status": "available"}]})
    assert duplicate.status_code == 422


async def _units(client, staff, shelter_id: str, n: int) -> list[dict]:
    return [(await client.post(f"/api/shelters/{shelter_id}/units", json={"label": f"U{i}", "beds": 2},
                               headers=staff)).json() for i in range(n)]


async def _audit_count(database_url: str, operator: str) -> int:
    conn = await database.connect(database_url)
    try:
        await chain_audit(conn)
        return await conn.fetchval("select count(*) from audit_event where object_type = 'operator' "
                                   "and object_id = $1", operator)
    finally:
        await conn.close()


async def test_an_identical_bulk_sync_only_confirms(client, tokens, operators, database_url):
    """Input: the same snapshot sent twice (one date omitted, one given). The second changes no version and
    no ETag, writes one audit event; a later sync changing one unit bumps only that unit."""
    mine, _ = operators
    staff = tokens.staff(mine)
    shelter = await _shelter(client, staff)
    units = await _units(client, staff, shelter["id"], 3)
    body = {"units": [{"unit_id": units[0]["id"], "status": "available"},
                      {"unit_id": units[1]["id"], "status": "out_of_service", "available_from": "2030-01-01"}]}
    first = await client.put("/api/availability", headers=staff, json=body)
    assert first.status_code == 200, first.text
    before = {u["id"]: u for u in (await client.get(f"/api/shelters/{shelter['id']}/units", headers=staff)).json()}
    audits = await _audit_count(database_url, mine)
    again = await client.put("/api/availability", headers=staff, json=body)
    assert again.status_code == 200 and again.json()["changed"] == 0
    assert again.headers["etag"] == first.headers["etag"]
    after = {u["id"]: u for u in (await client.get(f"/api/shelters/{shelter['id']}/units", headers=staff)).json()}
    assert {k: v["version"] for k, v in after.items()} == {k: v["version"] for k, v in before.items()}
    assert all(after[k]["availability_confirmed_at"] >= before[k]["availability_confirmed_at"] for k in after)
    assert await _audit_count(database_url, mine) == audits + 1

    body["units"][0]["status"] = "out_of_service"
    third = await client.put("/api/availability", headers=staff, json=body)
    assert third.json()["changed"] == 1 and third.headers["etag"] != first.headers["etag"]
    final = {u["id"]: u["version"] for u in (await client.get(f"/api/shelters/{shelter['id']}/units",
                                                                headers=staff)).json()}
    assert final == {k: v["version"] + (k == units[0]["id"]) for k, v in after.items()}


async def test_bulk_sync_honours_the_collection_etag(client, tokens, operators):
    """Input: system A reads the availability, system B changes a unit, A syncs with its old ETag: 412 and
    nothing changed; with the ETag read again it goes through. A wrong or garbage If-Match is 412 too."""
    mine, _ = operators
    staff = tokens.staff(mine)
    shelter = await _shelter(client, staff)
    units = await _units(client, staff, shelter["id"], 2)
    read = await client.get("/api/availability", headers=staff)
    assert read.status_code == 200 and {e["unit_id"] for e in read.json()["units"]} == {u["id"] for u in units}
    tag = read.headers["etag"]
    other = await client.patch(f"/api/units/{units[1]['id']}", json={"beds": 3},
                               headers=staff | {"If-Match": '"v1"'})
    assert other.status_code == 200
    body = {"units": [{"unit_id": units[0]["id"], "status": "out_of_service"}]}
    for stale in (tag, '"a000"', "garbage"):
        refused = await client.put("/api/availability", headers=staff | {"If-Match": stale}, json=body)
        assert refused.status_code == 412, (stale, refused.text)
    assert {e["status"] for e in (await client.get("/api/availability", headers=staff)).json()["units"]} == {"available"}
    fresh = (await client.get("/api/availability", headers=staff)).headers["etag"]
    done = await client.put("/api/availability", headers=staff | {"If-Match": fresh}, json=body)
    assert done.status_code == 200 and done.headers["etag"] != fresh
    assert done.headers["etag"] == (await client.get("/api/availability", headers=staff)).headers["etag"]


async def test_social_worker_cannot_touch_capacity(client, tokens):
    response = await client.get("/api/shelters", headers=tokens.social_worker())
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


BAD_IF_MATCH = ['"v2147483648"', 'W/"v2147483648"', '"v9999999999"', '"v0"', '"v-1"', '"v1.5"', '"v\u00b2"',
                '"v\uff11"', '"v"', "garbage"]


async def _placement_in(database_url: str, unit_id: str) -> uuid.UUID:
    conn = await database.connect(database_url)
    try:
        municipality = await factories.municipality_org(conn, "1280")
        offer = await factories.offer(conn, await factories.request(conn, municipality), uuid.UUID(unit_id))
        return await factories.accept(conn, offer)
    finally:
        await conn.close()


@pytest.mark.parametrize("if_match", BAD_IF_MATCH)
async def test_if_match_beyond_a_database_integer_or_garbage_is_412_never_500(
    client, tokens, operators, database_url, if_match
):
    """Input: If-Match with a version above 2^31-1 (the database's integer), zero, negative, a fraction,
    non-ASCII digits and garbage, on PATCH shelter, PATCH unit, PUT address and PATCH placement: 412 and
    nothing changed (before: the version reached PostgreSQL and overflowed, a 500)."""
    mine, _ = operators
    staff = tokens.staff(mine)
    shelter = await _shelter(client, staff)
    unit = (await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "A", "beds": 2},
                              headers=staff)).json()
    placement_id = await _placement_in(database_url, unit["id"])
    writes = [
        ("PATCH", f"/api/shelters/{shelter['id']}", {"daily_rate_sek": 1}),
        ("PATCH", f"/api/units/{unit['id']}", {"beds": 9}),
        ("PUT", f"/api/shelters/{shelter['id']}/address", SHELTER["address"] | {"city": "Annanstans"}),
        ("PATCH", f"/api/placements/{placement_id}", {"planned_end_date": "2030-01-01"}),
    ]
    for method, url, body in writes:
        response = await client.request(method, url, json=body, headers=staff | {"If-Match": if_match.encode()})
        assert response.status_code == 412, (method, url, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/api/shelters/{shelter['id']}", headers=staff)).json()["version"] == 1
    assert (await client.get(f"/api/units/{unit['id']}", headers=staff)).json()["beds"] == 2
    assert (await client.get(f"/api/placements/{placement_id}", headers=staff)).json()["planned_end_date"] is None


async def test_web_unit_status_form_with_an_overflowing_version_is_400_never_500(
    database_url, issuer, tokens, operators
):
    """Input: the staff board's status form posted with version=2147483648 (and 99999999999, -1, a
    non-ASCII digit): a 400 page, the unit unchanged (before: the number reached PostgreSQL, a 500)."""
    mine, _ = operators
    staff = tokens.staff(mine)
    token = staff["Authorization"].removeprefix("Bearer ")
    async with logged_in(database_url, issuer, token) as client:
        shelter = await _shelter(client, staff)
        unit = (await client.post(f"/api/shelters/{shelter['id']}/units",
                                  json={"label": "A", "beds": 2, "status": "out_of_service"}, headers=staff)).json()
        csrf = await csrf_token(client, "/boende")
        for version in ("2147483648", "99999999999", "-1", "\u0661"):
            response = await client.post(f"/boende/enheter/{unit['id']}/status",
                                         data={"_csrf_token": csrf, "status": "available", "version": version},
                                         follow_redirects=False)
            assert response.status_code == 400, (version, response.status_code)
            assert "text/html" in response.headers["content-type"]
        assert (await client.get(f"/api/units/{unit['id']}", headers=staff)).json()["status"] == "out_of_service"
        fine = await client.post(f"/boende/enheter/{unit['id']}/status",
                                 data={"_csrf_token": csrf, "status": "available", "version": "1"},
                                 follow_redirects=False)
        assert fine.status_code == 303
        assert (await client.get(f"/api/units/{unit['id']}", headers=staff)).json()["status"] == "available"
