"""The OpenAPI document says what the service does: closed bodies, limits the database shares, every
answer an operation can give, a body limit that fits the largest body the schema allows, and
Idempotency-Key replays that do not depend on whitespace."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from skyddat_boende import database
from skyddat_boende.capacity.schemas import MAX_SNAPSHOT_UNITS, SNAPSHOT_MAX_BODY_BYTES
from skyddat_boende.cli import openapi_document
from tests import factories
from tests.conftest import make_app
from tests.workflow_support import shelter_body

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(openapi_document(make_app("postgresql://unused", None)))


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _closed(document: dict, ref: str, seen: set[str]) -> list[str]:
    """Component schemas reachable from `ref` that do not say additionalProperties: false."""
    name = ref.rsplit("/", 1)[1]
    if name in seen:
        return []
    seen.add(name)
    schema = document["components"]["schemas"][name]
    open_ = [] if schema.get("additionalProperties") is False else [name]
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema))
    return open_ + [bad for inner in refs for bad in _closed(document, inner, seen)]


def test_every_request_body_is_closed(document):
    """Every body the API takes refuses unknown fields (400); the document must say so, down to the
    nested objects (AddressWrite, AdultIn, ChildIn, AvailabilityEntry)."""
    open_bodies = []
    for method, path, operation in _operations(document):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            open_bodies += [(method, path, name) for name in _closed(document, media["schema"]["$ref"], set())]
    assert open_bodies == []
    assert document["components"]["schemas"]["AddressWrite"]["additionalProperties"] is False


def test_secured_operations_document_the_guards_answers(document):
    """Every operation that needs a token lists 400, 401, 403 and 429 (before: /api/me, /api/counties and
    /api/municipalities listed only 200); every operation with a body lists 413."""
    missing = []
    for method, path, operation in _operations(document):
        expected = {"400", "401", "403", "429"} if operation.get("security") else set()
        expected |= {"413"} if "requestBody" in operation else set()
        missing += [(method, path, status) for status in sorted(expected - set(operation["responses"]))]
    assert missing == []


async def _label_limits(database_url: str, table: str) -> tuple[int, int]:
    conn = await database.connect(database_url)
    try:
        checks = await conn.fetch("select pg_get_constraintdef(oid) as def from pg_constraint "
                                  "where conrelid = $1::regclass and contype = 'c'", table)
    finally:
        await conn.close()
    found = next(re.search(r"length\(label\) >= (\d+)\) AND \(length\(label\) <= (\d+)", c["def"]) for c in checks
                 if "length(label)" in c["def"])
    return int(found.group(1)), int(found.group(2))


async def test_label_limits_are_the_databases(document, database_url):
    """The schema's label limits for shelters and units are the database's CHECK limits (before: units
    allowed 120 characters in the schema, 60 in the database, so 61-120 got 422)."""
    schemas = document["components"]["schemas"]
    for table, bodies in (("shelter", ("ShelterCreate", "ShelterUpdate")), ("unit", ("UnitCreate", "UnitUpdate"))):
        low, high = await _label_limits(database_url, table)
        for body in bodies:
            label = schemas[body]["properties"]["label"]
            if "minLength" not in label:  # UNSET-able fields: the limits sit inside oneOf
                label = next(s for s in label["oneOf"] if s.get("type") == "string")
            assert (label["minLength"], label["maxLength"]) == (low, high), body


async def test_unit_label_of_61_characters_is_400_and_60_is_taken(client, tokens, database_url):
    """Input: unit labels of 60 and 61 characters, a shelter label of one character."""
    conn = await database.connect(database_url)
    try:
        operator = await factories.operator_org(conn, f"contract-{uuid.uuid4().hex[:8]}")
    finally:
        await conn.close()
    staff = tokens.staff(operator)
    short = await client.post("/api/shelters", json=shelter_body("0180", rate=1, label="A"), headers=staff)
    assert short.status_code == 400 and short.json()["type"].endswith("/invalid-input")
    shelter = (await client.post("/api/shelters", json=shelter_body("0180", rate=1, label="Kontraktet"),
                                 headers=staff)).json()
    long = await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "x" * 61, "beds": 1},
                             headers=staff)
    assert long.status_code == 400 and long.json()["type"].endswith("/invalid-input")
    fits = await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "x" * 60, "beds": 1},
                             headers=staff)
    assert fits.status_code == 201


def _snapshot(units: int) -> bytes:
    """A snapshot of `units` entries at their longest, pretty-printed (as a partner's tool may send it)."""
    entry = {"unit_id": str(uuid.uuid4()), "status": "out_of_service", "available_from": "2026-12-31"}
    return json.dumps({"units": [entry] * units}, indent=4).encode()


async def test_the_largest_availability_snapshot_fits_the_body_limit(client, tokens, document):
    """Input: PUT /api/availability with 5,000 entries pretty-printed (the schema's maxItems; before, the
    default body limit refused anything above about 3,650 with an undocumented 413), with 5,001, and
    a body above the route's limit."""
    snapshot = document["components"]["schemas"]["AvailabilitySnapshot"]["properties"]["units"]
    assert snapshot["maxItems"] == MAX_SNAPSHOT_UNITS
    assert "413" in document["paths"]["/api/availability"]["put"]["responses"]
    staff = tokens.staff("operator-contract-sync") | {"Content-Type": "application/json"}
    largest = _snapshot(MAX_SNAPSHOT_UNITS)
    assert len(largest) < SNAPSHOT_MAX_BODY_BYTES
    answer = await client.put("/api/availability", content=largest, headers=staff)
    assert answer.status_code == 422, answer.status_code  # taken and read: the units are not the caller's
    too_many = await client.put("/api/availability", content=_snapshot(MAX_SNAPSHOT_UNITS + 1), headers=staff)
    assert too_many.status_code == 400
    too_big = await client.put("/api/availability", content=largest + b" " * SNAPSHOT_MAX_BODY_BYTES, headers=staff)
    assert too_big.status_code == 413 and too_big.headers["content-type"].startswith("application/problem+json")


async def test_idempotency_key_replays_the_same_json_sent_with_other_whitespace(client, tokens, database_url):
    """Input: POST /api/shelters twice under one Idempotency-Key, first compact, then the same JSON value
    indented and with its members in another order (before: 422 idempotency-key-reused); then a body
    with one value changed (still 422)."""
    conn = await database.connect(database_url)
    try:
        operator = await factories.operator_org(conn, f"contract-{uuid.uuid4().hex[:8]}")
    finally:
        await conn.close()
    headers = tokens.staff(operator, **{"Idempotency-Key": "same-json-1", "Content-Type": "application/json"})
    body = shelter_body("0180", rate=2100, label="Samma")
    first = await client.post("/api/shelters", content=json.dumps(body, separators=(",", ":")), headers=headers)
    assert first.status_code == 201
    reordered = dict(reversed(list(body.items())))
    again = await client.post("/api/shelters", content=json.dumps(reordered, indent=2), headers=headers)
    assert again.status_code == 201 and again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post("/api/shelters", content=json.dumps(body | {"daily_rate_sek": 2101}), headers=headers)
    assert other.status_code == 422
