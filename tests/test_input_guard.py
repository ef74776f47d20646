"""The input guard (skyddat_boende/input_guard.py) on every write operation of the OpenAPI document:
personnummer-shaped text in any spelling never reaches a table, and deep JSON, U+0000 and overflowing
integers get a 4xx, never a 5xx. The operations and their fields come from the app's own document
(tests/openapi_walk.py), so a new operation or field is covered without editing this file."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.privacy import looks_like_personal_number, normalise, phone_looks_like_personal_number
from tests.conftest import make_app
from tests.housing_support import apartment_body, housing_provider
from tests.openapi_walk import ORG_OF_ROLE, Document, dotted, value_at, with_value
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body

# fabricated digits, assembled here so that no personnummer-shaped literal is in the source
DATE, TAIL = "".join(("85", "03", "17")), "".join(("23", "94"))
CORE = DATE + TAIL


def _digits(text: str, zero: int) -> str:
    return text.translate(str.maketrans("0123456789", "".join(chr(zero + i) for i in range(10))))


def variants() -> dict[str, str]:
    """One number in the spellings the guard must see through."""
    plain = f"{DATE}-{TAIL}"
    return {
        "ascii": plain,
        "twelve digits": f"19{CORE}",
        "full-width digits": _digits(plain, 0xFF10),
        "arabic-indic digits and a minus sign": _digits(f"{DATE}\u2212{TAIL}", 0x0660),
        "en dash": f"{DATE}\u2013{TAIL}",
        "no-break space": f"{DATE}\u00a0{TAIL}",
        "zero-width spaces": "\u200b".join(CORE),
        "soft hyphens": f"{DATE[:2]}\u00ad{DATE[2:]}\u00ad{TAIL}",
        "percent-encoded": "".join(f"%{ord(c):02X}" for c in plain),
    }


@pytest.fixture
async def world(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    app = make_app(url, issuer, rate_limit_per_minute=1_000_000)
    async with AsyncTestClient(app=app) as client:
        shelter, unit = await publish(client, tokens.staff("operator-north"),
                                      shelter_body("2480", rate=2000, label="Norr"))
        created = await client.post("/api/requests", json=mother_with_son_and_dog(),
                                    headers=tokens.social_worker(MALMO))
        hook = await client.post("/api/webhooks", headers=tokens.headers("org_admin", f"kommun-{MALMO}"),
                                 json={"url": "http://127.0.0.1:9/hooks", "event_types": ["offer.created"]})
        await housing_provider(url, "north", "2480")
        # rent 0: the generated onward request's smallest rent ceiling (1 SEK) must still find a home
        apartment = await client.post("/api/apartments", json=apartment_body("2480", label="Vind", rent=0),
                                      headers=tokens.headers("housing_staff", "housing-north"))
        ids = {"shelter_id": shelter["id"], "unit_id": unit["id"], "request_id": created.json()["id"],
               "offer_id": created.json()["offer"]["id"], "webhook_id": hook.json()["id"],
               "apartment_id": apartment.json()["id"]}
        yield client, url, Document(app.openapi_schema.to_schema()), ids


def _headers(tokens, op) -> dict[str, str]:
    if op.role:
        return tokens.headers(op.role, ORG_OF_ROLE[op.role])
    return tokens.headers(None, f"kommun-{MALMO}", op.scope)


async def _send(client, tokens, op, ids, body=None, content=None, **headers):
    """The operation as its role would send it; a PATCH or PUT with the resource's current ETag."""
    url, sent = op.url(ids), _headers(tokens, op) | headers
    if op.method in ("patch", "put"):
        for target in (url, url.rsplit("/", 1)[0]):
            found = await client.get(target, headers=sent)
            if "etag" in found.headers:
                sent["If-Match"] = found.headers["etag"]
                break
    if content is not None:
        sent["Content-Type"] = "application/json"
    return await client.request(op.method.upper(), url, json=body, content=content, headers=sent)


async def _texts_in_every_table(database_url: str) -> list[tuple[str, str]]:
    conn = await database.connect(database_url)
    try:
        tables = await conn.fetch("select table_name from information_schema.tables "
                                  "where table_schema = 'public' and table_type = 'BASE TABLE'")
        found = []
        for row in tables:
            name = row["table_name"]
            for (text,) in await conn.fetch(f'select t::text from "{name}" t'):
                found.append((name, text))
        return found
    finally:
        await conn.close()


def _holds_the_number(text: str) -> bool:
    return any(CORE in re.sub("[^0-9]", "", normalise(t)) for t in (text, unquote(text)))


async def test_no_personal_number_in_any_spelling_reaches_a_table(world, tokens):
    client, url, document, ids = world
    operations = document.write_operations()
    assert len(operations) >= 15, "the document lists the write operations"
    tried = 0
    for op in operations:
        if op.body_schema is None:
            continue
        baseline = document.example(op.body_schema, ids=ids)
        fields = list(document.text_fields(op.body_schema))
        if not fields:
            continue
        accepted = await _send(client, tokens, op, ids, baseline)
        assert accepted.status_code < 300, f"{op}: the generated body is valid ({accepted.text})"
        for path, is_list in fields:
            for name, variant in variants().items():
                # the number alone, and after a valid value (a label "Lgh 1 …", a URL's path)
                for value in (variant, f"{value_at(baseline, path) or ''} {variant}".strip()):
                    body = with_value(baseline, path, [value] if is_list else value, document, op.body_schema)
                    response = await _send(client, tokens, op, ids, body)
                    assert response.status_code == 422, f"{op} {dotted(path)} {name}: {response.status_code}"
                    assert CORE not in response.text
                    tried += 1
    for op in operations:
        body = document.example(op.body_schema, ids=ids) if op.body_schema else None
        for name, variant in variants().items():  # as UTF-8 bytes: the server reads them as latin-1
            response = await _send(client, tokens, op, ids, body, **{"Idempotency-Key": variant.encode()})
            assert response.status_code == 422, f"{op} Idempotency-Key {name}: {response.status_code}"
            tried += 1
    assert tried > 300
    stored = [(table, text) for table, text in await _texts_in_every_table(url) if _holds_the_number(text)]
    assert stored == [], f"personnummer-shaped text stored in {sorted({t for t, _ in stored})}"


async def test_deep_json_nul_and_huge_numbers_get_a_4xx_on_every_write(world, tokens):
    client, _, document, ids = world
    deep = "[" * 1000 + "]" * 1000
    for op in document.write_operations():
        response = await _send(client, tokens, op, ids, content=deep)  # JSON nested 1,000 deep
        assert response.status_code == 400, f"{op}: {response.status_code} for deep JSON"
        if op.body_schema is None:
            continue
        baseline = document.example(op.body_schema, ids=ids)
        for path, is_list in document.text_fields(op.body_schema):
            value = "Lgh\x001"  # U+0000 inside a text
            body = with_value(baseline, path, [value] if is_list else value, document, op.body_schema)
            response = await _send(client, tokens, op, ids, body)
            assert response.status_code == 400, f"{op} {dotted(path)}: {response.status_code} for U+0000"
            field = dotted(path) + ("[0]" if is_list else "")
            assert field in response.json()["detail"], f"{op}: the field is named ({response.text})"
        for path in document.integer_fields(op.body_schema):
            for number in (2**31, 2**63, 10**40, -(2**63) - 1):
                body = with_value(baseline, path, number, document, op.body_schema)
                response = await _send(client, tokens, op, ids, body)
                assert response.status_code < 500, f"{op} {dotted(path)}={number}: {response.status_code}"


@pytest.mark.parametrize("phone", ["070-123 45 67", "+46 70 123 45 67", "08-123 456 78", "0470-12 34 56",
                                   "+46 90 000 00 00"])
def test_a_swedish_phone_number_is_a_phone_number(phone):
    assert not phone_looks_like_personal_number(phone)


def test_a_personal_number_in_a_phone_field_is_refused():
    for phone in (f"0{DATE[1:]}-{TAIL}", f"0{DATE[1:]}{TAIL}", f"{DATE} {TAIL}", f"19 {DATE} {TAIL}",
                  f"+19{DATE}-{TAIL}", _digits(f"0{DATE[1:]}{TAIL}", 0xFF10)):
        assert phone_looks_like_personal_number(phone), phone
    for text in variants().values():
        assert looks_like_personal_number(unquote(text)), text
