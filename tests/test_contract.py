"""The OpenAPI document says what the service does: closed bodies, limits the database shares, every
answer an operation can give, a body limit that fits the largest body the schema allows, and
Idempotency-Key replays that do not depend on whitespace."""

from __future__ import annotations

import json
import os
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from skyddat_boende import database
from skyddat_boende.capacity.schemas import MAX_SNAPSHOT_UNITS, SNAPSHOT_MAX_BODY_BYTES
from skyddat_boende.cli import openapi_document
from tests import factories
from tests.conftest import make_app
from tests.helpers import running_server
from tests.housing_support import UMEA, housing_provider
from tests.workflow_support import organisations, shelter_body

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


# --- A bounded fuzz run against the real server: the contract cannot drift again -----------------------

#: Per operation and mode: the whole run stays well under a minute. SB_FUZZ_EXAMPLES asks for a deeper
#: run, SB_FUZZ_NUL=1 for NUL characters in generated text too.
FUZZ_EXAMPLES = int(os.environ.get("SB_FUZZ_EXAMPLES", "6"))
ROLE_ORGANISATIONS = {"social_worker": "kommun-1280", "shelter_staff": "operator-north",
                      "org_admin": "operator-north", "national_followup": "nat-socialstyrelsen",
                      "housing_staff": "housing-north"}
NATIONAL_SCOPES = {"statistics:read", "audit:read", "batch:run"}


def _caller(issuer, access: str) -> dict[str, str]:
    """A token the operation's rule (its x-access text) allows: its first role, else its first scope."""
    roles = re.search(r"roles: ([a-z_, ]+)", access)
    if roles or "any authenticated caller" in access:
        role = roles.group(1).split(", ")[0] if roles else "social_worker"
        org = ROLE_ORGANISATIONS[role]
        token = issuer.mint_token(subject=f"fuzz-{role}", org=org, roles=(role,), client_id=f"client-{org}")
    else:
        scope = re.search(r"scope: ([a-z:_]+)", access).group(1)
        org = "nat-fuzz" if scope in NATIONAL_SCOPES else "operator-north"
        token = issuer.mint_token(subject=f"client-{org}", org=org, scopes=(scope,), client_id=f"client-{org}")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def fuzzed_server(create_migrated_database, issuer, tmp_path_factory):
    url = await create_migrated_database()  # its own database: the fuzzer's writes touch no other test
    await organisations(url)
    await housing_provider(url, "north", UMEA)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_DATA_DIR": str(tmp_path_factory.mktemp("fuzz")),
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0",
           "SB_RATE_LIMIT_PER_MINUTE": "1000000", "SB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "1000000"}
    with running_server(env) as base:
        yield base


def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_schema(fuzzed_server, issuer):
    """Input: schemathesis cases generated from the served document for every operation, valid and
    invalid (FUZZ_EXAMPLES each), sent with a token its rule allows. Checked: no 5xx, every status,
    content type and body as documented. NUL characters are left to the dedicated test of every write
    operation (tests of issue 20 item 2), so that this run tests the contract alone."""
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    config = SchemathesisConfig.from_dict({"generation": {"allow-x00": os.environ.get("SB_FUZZ_NUL") == "1"}})
    schema = schemathesis.openapi.from_url(fuzzed_server + "/schema/openapi.json", config=config)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        headers = _caller(issuer, operation.definition.raw.get("x-access", "")) \
            if operation.definition.raw.get("security") else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case) -> None:
                response = case.call(base_url=fuzzed_server, headers=headers, timeout=30)
                case.validate_response(response, checks=checks, headers=headers)

            try:
                run()
            except Unsatisfiable:  # no parameters and no body: nothing to send invalid
                assert mode is GenerationMode.NEGATIVE and not operation.definition.raw.get("parameters")
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - pytest's and hypothesis's failures too: report them all
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
