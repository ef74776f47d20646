"""Every write operation with a body carries a worked example in the OpenAPI document (the body type's
`example`); the example validates against its own schema, and the real API accepts it (its ids, dates,
URLs and labels replaced by the test world's, since those cannot be known in advance). Lists of codes
state their pattern; enums their meaning."""

from __future__ import annotations

import datetime as dt
import uuid
from itertools import count
from typing import Any

import jsonschema_rs
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende.feeds.secrets import Vault
from tests.conftest import make_app
from tests.housing_support import UMEA, apartment_body, housing_provider
from tests.openapi_walk import Document
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body

OPERATOR, HOUSING = "operator-north", "housing-north"
#: The order a partner would go in: a shelter and its unit first, then what refers to them; then an
#: apartment, the onward request of the placed household, its first offer declined and the next accepted.
ORDER = ["post /api/shelters", "patch /api/shelters/{shelter_id}", "put /api/shelters/{shelter_id}/address",
         "post /api/shelters/{shelter_id}/units", "patch /api/units/{unit_id}", "post /api/webhooks",
         "post /api/feeds", "post /api/requests", "post /api/offers/{offer_id}/decline",
         "post /api/placements/{placement_id}/check-in", "patch /api/placements/{placement_id}",
         "put /api/availability", "post /api/apartments", "patch /api/apartments/{apartment_id}",
         "put /api/apartments/{apartment_id}/address", "put /api/apartment-availability",
         "post /api/onward-requests", "post /api/onward-offers/{onward_offer_id}/decline",
         "post /api/onward-offers/{onward_offer_id}/accept"]
#: The operations that create what later ones refer to, and the id each gives them.
CREATES = {"post /api/shelters": "shelter_id", "post /api/shelters/{shelter_id}/units": "unit_id",
           "post /api/apartments": "apartment_id", "post /api/onward-requests": "onward_request_id"}
#: The organisation of each role's caller (an org_admin of the shelters' operator, so that a feed may map
#: its units); any other role is Malmö's.
ORG_OF_ROLE = {"shelter_staff": OPERATOR, "org_admin": OPERATOR, "housing_staff": HOUSING}
_labels = count(1)


def body_schema(document: Document, op) -> dict:
    return document.resolve(op.body_schema)


def validator(doc: dict, schema: dict):
    return jsonschema_rs.validator_for(schema | {"components": doc["components"]})


def in_world(document: Document, value: Any, schema: dict, ids: dict[str, list[str]], name: str = "") -> Any:
    """The example with what only the test world knows filled in: uuids by field name (map values by
    `unit_id`), dates a week ahead, URLs on loopback, labels unique; everything else as documented."""
    schema = document.resolve(schema)
    if isinstance(value, dict) and "properties" in schema:
        return {k: in_world(document, v, schema["properties"][k], ids, k) for k, v in value.items()}
    if isinstance(value, dict):
        return {k: in_world(document, v, schema["additionalProperties"], ids, "unit_id") for k, v in value.items()}
    if isinstance(value, list):
        return [in_world(document, v, schema["items"], ids, name) for v in value]
    if value is None or not isinstance(value, str):
        return value
    if schema.get("format") == "uuid":
        return ids[name].pop(0)
    if schema.get("format") == "date":
        return (dt.date.today() + dt.timedelta(days=7)).isoformat()
    if name == "url":
        return "http://127.0.0.1:9/partner"
    if name == "label":
        return f"{value} ({next(_labels)})"
    return value


@pytest.fixture
async def world(create_migrated_database, issuer, tokens):
    """A shelter with two units; one request placed (its offer accepted), one with an open offer; a
    housing provider with two apartments."""
    url = await create_migrated_database()
    await organisations(url)
    await housing_provider(url, "north", UMEA)
    app = make_app(url, issuer, rate_limit_per_minute=1_000_000, run_jobs=False, feed_secret_key=Vault.new_key())
    async with AsyncTestClient(app=app) as client:
        staff = tokens.staff(OPERATOR)
        shelter, first = await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
        second = await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "Lgh 2", "beds": 3},
                                   headers=staff)
        placed = await client.post("/api/requests", json=mother_with_son_and_dog("MAL-2026-0001"),
                                   headers=tokens.social_worker(MALMO))
        accepted = await client.post(f"/api/offers/{placed.json()['offer']['id']}/accept", headers=staff)
        offered = await client.post("/api/requests", json=mother_with_son_and_dog("MAL-2026-0002"),
                                    headers=tokens.social_worker(MALMO))
        assert accepted.status_code == 200 and offered.json()["offer"], (accepted.text, offered.text)
        ids = {"placement_id": accepted.json()["placement_id"], "offer_id": offered.json()["offer"]["id"],
               "unit_ids": [first["id"], second.json()["id"]],
               "apartment_ids": [await _apartment(client, tokens, label) for label in ("Lgh 1201", "Lgh 1301")]}
        yield client, Document(app.openapi_schema.to_schema()), ids


async def _apartment(client, tokens, label: str) -> str:
    created = await client.post("/api/apartments", json=apartment_body(UMEA, label=label),
                                headers=tokens.headers("housing_staff", HOUSING))
    assert created.status_code == 201, created.text
    return created.json()["id"]


def openapi(issuer) -> dict:
    return make_app("postgresql://127.0.0.1:9/unused", issuer).openapi_schema.to_schema()


def test_every_write_body_has_an_example_that_matches_its_schema(issuer):
    doc = openapi(issuer)
    document = Document(doc)
    with_body = [op for op in document.write_operations() if op.body_schema]
    assert len(with_body) >= 12, "the document lists the write operations with bodies"
    for op in with_body:
        schema = body_schema(document, op)
        assert schema.get("examples"), f"{op}: no worked example"
        check = validator(doc, op.body_schema)
        for example in schema["examples"]:
            errors = [e.message for e in check.iter_errors(example)]
            assert not errors, f"{op}: its example does not match its schema: {errors}"
        # the validator is live: the example with an unknown field, or a property of the wrong type, fails
        assert not check.is_valid(example | {"unknown_field": 1}), f"{op}: unknown fields must be refused"
        first = next(iter(schema["properties"]))
        assert not check.is_valid(example | {first: {"wrong": "type"}}), f"{op}: {first} is typed"


def test_code_lists_state_their_pattern_and_urgency_its_values(issuer):
    doc = openapi(issuer)
    request = doc["components"]["schemas"]["RequestCreate"]["properties"]
    for field, pattern in [("threat_municipalities", "^[0-9]{4}$"), ("excluded_municipalities", "^[0-9]{4}$"),
                           ("preferred_counties", "^[0-9]{2}$"), ("excluded_counties", "^[0-9]{2}$"),
                           ("languages", "^[a-z]{2}$")]:
        assert request[field]["items"]["pattern"] == pattern, field
    check = validator(doc, {"$ref": "#/components/schemas/RequestCreate"})
    example = doc["components"]["schemas"]["RequestCreate"]["examples"][0]
    assert not check.is_valid(example | {"threat_municipalities": ["Malmö"]}), "a name is not a municipality code"
    assert not check.is_valid(example | {"preferred_counties": ["120"]}), "a county code has two digits"
    assert "`days`" in request["urgency"]["description"] and "`acute`" in request["urgency"]["description"]
    near = request["preferred_near_municipality"]["oneOf"]
    assert {"type": "string", "pattern": "^[0-9]{4}$"}.items() <= next(s for s in near if s["type"] == "string").items()


async def test_the_api_accepts_every_example(world, tokens):
    client, document, world_ids = world
    operations = {f"{op.method} {op.path}": op for op in document.write_operations() if op.body_schema}
    assert set(operations) == set(ORDER), "a new operation with a body gets its place in ORDER"
    ids: dict[str, Any] = {"placement_id": world_ids["placement_id"], "offer_id": world_ids["offer_id"]}
    for key in ORDER:
        op = operations[key]
        schema = body_schema(document, op)
        units = [ids.get("unit_id", world_ids["unit_ids"][0]), world_ids["unit_ids"][1]]
        body = in_world(document, schema["examples"][0], op.body_schema,
                        {"unit_id": list(units), "shelter_id": [ids.get("shelter_id", "")],
                         "apartment_id": [ids.get("apartment_id", ""), *world_ids["apartment_ids"]],
                         "placement_id": [world_ids["placement_id"]]})
        answer = await _send(client, tokens, op, ids, body)
        assert answer.status_code < 300, f"{op}: the documented example was refused: {answer.text}"
        created = answer.json() if answer.content else {}
        if key in CREATES:
            ids[CREATES[key]] = created["id"]
        if key in ("post /api/onward-requests", "post /api/onward-offers/{onward_offer_id}/decline"):
            ids["onward_offer_id"] = await _open_onward_offer(client, tokens, ids["onward_request_id"])


async def _open_onward_offer(client, tokens, onward_request_id: str) -> str:
    """The onward request's open offer (its first, or the next after a decline), as Malmö sees it."""
    found = await client.get(f"/api/onward-requests/{onward_request_id}", headers=tokens.social_worker(MALMO))
    open_offers = [o["id"] for o in found.json()["offers"] if o["status"] == "open"]
    assert len(open_offers) == 1, f"the household is offered one apartment at a time: {found.text}"
    return open_offers[0]


async def _send(client, tokens, op, ids, body):
    """The operation as its caller would send it (ORG_OF_ROLE); a PATCH or PUT with the resource's
    current ETag."""
    role = op.role or None
    org = ORG_OF_ROLE.get(role, f"kommun-{MALMO}")
    headers = tokens.headers(role, org) if role else tokens.headers(None, org, op.scope)
    url = op.url({k: v for k, v in ids.items() if isinstance(v, str)} | {"x": str(uuid.uuid4())})
    if op.method in ("patch", "put"):
        for target in (url, url.rsplit("/", 1)[0]):
            found = await client.get(target, headers=headers)
            if "etag" in found.headers:
                headers["If-Match"] = found.headers["etag"]
                break
    return await client.request(op.method.upper(), url, json=body, headers=headers)
