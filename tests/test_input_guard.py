"""The input guard (skyddat_boende/input_guard.py) on every write operation of the OpenAPI document:
personnummer-shaped text in any spelling never reaches a table, and deep JSON, U+0000 and overflowing
integers get a 4xx, never a 5xx. The operations and their fields come from the app's own document
(tests/openapi_walk.py), so a new operation or field is covered without editing this file."""

from __future__ import annotations

import html
import json
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import httpx
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


async def test_no_personal_number_in_any_spelling_reaches_a_table(world, tokens, caplog):
    caplog.set_level("DEBUG")
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
    logged = [r.getMessage() + str(r.__dict__) for r in caplog.records]
    assert len(logged) > 300 and not any(_holds_the_number(line) for line in logged), "nor in a log"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
async def test_another_content_type_does_not_skip_the_guard(world, tokens, content_type):
    """The same JSON body under another (or no) Content-Type: still refused, nothing stored."""
    client, url, _, _ = world
    body = json.dumps(shelter_body("2480", rate=2100, label=f"Hus {DATE}-{TAIL}")).encode()
    headers = tokens.staff("operator-north") | ({"Content-Type": content_type} if content_type else {})
    response = await client.post("/api/shelters", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert not [t for _, t in await _texts_in_every_table(url) if _holds_the_number(t)]


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


async def test_versions_no_database_integer_holds_never_give_a_5xx_on_any_write(world, tokens):
    """Input: If-Match with versions of 2^31, 2^63, 10^40, 0, -1 and garbage on every write operation,
    each with a valid body: never a 5xx; 412 where one object's version is checked (PATCH or PUT of
    one object by its id)."""
    client, _, document, ids = world
    for op in document.write_operations():
        body = document.example(op.body_schema, ids=ids) if op.body_schema else None
        versioned = op.method in ("patch", "put") and "{" in op.path
        for version in (2**31, 2**63, 10**40, 0, -1, "x"):
            response = await client.request(op.method.upper(), op.url(ids), json=body,
                                            headers=_headers(tokens, op) | {"If-Match": f'"v{version}"'})
            assert response.status_code < 500, f"{op} If-Match v{version}: {response.status_code}"
            if versioned:
                assert response.status_code == 412, f"{op} If-Match v{version}: {response.status_code}"


@pytest.mark.parametrize("phone", ["070-123 45 67", "+46 70 123 45 67", "08-123 456 78", "0470-12 34 56",
                                   "+46 90 000 00 00"])
def test_a_swedish_phone_number_is_a_phone_number(phone):
    assert not phone_looks_like_personal_number(phone)


async def test_the_address_takes_a_swedish_phone_number_but_not_a_personal_number(world, tokens):
    """Both sides over the API and into the database's CHECK: grouped national and +46 numbers are
    stored; the same digits in one run, or as six and four, are refused."""
    client, url, document, ids = world
    staff = tokens.staff("operator-north")
    address = {"street": "Testgatan 1", "postal_code": "901 00", "city": "Testort"}
    for phone, status in (("070-123 45 67", 200), ("+46 70 123 45 67", 200), (f"0{DATE[1:]}{TAIL}", 422),
                          (f"0{DATE[1:]}-{TAIL}", 422)):
        etag = (await client.get(f"/api/shelters/{ids['shelter_id']}", headers=staff)).headers["etag"]
        response = await client.put(f"/api/shelters/{ids['shelter_id']}/address", headers=staff | {"If-Match": etag},
                                    json=address | {"contact_phone": phone})
        assert response.status_code == status, f"{phone}: {response.text}"


def test_a_personal_number_in_a_phone_field_is_refused():
    for phone in (f"0{DATE[1:]}-{TAIL}", f"0{DATE[1:]}{TAIL}", f"{DATE} {TAIL}", f"19 {DATE} {TAIL}",
                  f"+19{DATE}-{TAIL}", _digits(f"0{DATE[1:]}{TAIL}", 0xFF10)):
        assert phone_looks_like_personal_number(phone), phone
    for text in variants().values():
        assert looks_like_personal_number(unquote(text)), text


def _corpus() -> list[str]:
    """Texts both rules must read alike: the variants, near misses, phone numbers, and random mixes of
    digits (ASCII and others), separators, dashes, spaces and invisible characters."""
    import random

    pieces = ["0", "1", "2", "3", "8", "9", "\uff11", "\u0663", "\u0968", "-", "+", " ", ".", "/", ":", "_",
              "\u2013", "\u00a0", "\u200b", "\u00ad", "\t", "a", "X", "%"]
    chance = random.Random(20)
    mixes = ["".join(chance.choice(pieces) for _ in range(chance.randint(8, 18))) for _ in range(1500)]
    for _ in range(1500):  # numbers, or nearly: a random date part, in pieces, some digits of other scripts
        digits = "".join(f"{chance.randint(0, top):0{width}}" for top, width in ((99, 2), (13, 2), (92, 2), (9999, 4)))
        digits = (f"{chance.randint(18, 20)}" if chance.random() < 0.3 else "") + digits
        spelled = [chance.choice([d, _digits(d, 0xFF10), _digits(d, 0x0966)]) for d in digits]
        mixes.append(chance.choice(pieces[-4:] + [""]) + "".join(
            d + (chance.choice(pieces[9:]) if chance.random() < 0.2 else "") for d in spelled))
    near = [f"{DATE}{TAIL}5", f"1{DATE}-{TAIL}", f"{DATE[:2]}13{DATE[4:]}-{TAIL}", f"{DATE[:4]}32-{TAIL}",
            f"{DATE[:4]}61-{TAIL}", "MAL-2026-004201", "2026-00-42-0123", "Rum 3 " + f"{DATE}-{TAIL}",
            f"a-{DATE}-{TAIL}.", f"{DATE}-{TAIL}-4", f"1-{DATE}-{TAIL}", f"{DATE}-{TAIL} 5"]
    uuids = [str(uuid.UUID(int=chance.getrandbits(128))) for _ in range(500)]
    uuids += [f"https://partner.example/h/{u.upper()}?n={CORE[:4]}" for u in uuids[:50]]
    return [*variants().values(), *near, "070-123 45 67", "+46 70 123 45 67", f"0{DATE[1:]}{TAIL}", *mixes, *uuids]


def test_joined_digits_and_uuids_are_not_numbers_of_people():
    """Another digit joined on by punctuation makes a longer number (a UUID's groups, a reference);
    a space keeps two numbers apart. UUIDs, whose hex groups often hold ten digits, are not read."""
    for text in (f"1-{DATE}-{TAIL}", f"{DATE}-{TAIL}-4", f"{DATE}{TAIL}5", "MAL-2026-004201"):
        assert not looks_like_personal_number(text), text
    for text in (f"Rum 3 {DATE}-{TAIL}", f"{DATE}-{TAIL} 5", f"Lgh.{DATE}-{TAIL}"):
        assert looks_like_personal_number(text), text
    chance = __import__("random").Random(7)
    assert not any(looks_like_personal_number(f"https://p.example/{uuid.UUID(int=chance.getrandbits(128))}")
                   for _ in range(5000))


async def test_the_database_reads_numbers_as_the_guard_does(conn):
    corpus = _corpus()
    rows = await conn.fetch("select looks_like_personal_number(t) a, phone_looks_like_personal_number(t) p "
                            "from unnest($1::text[]) with ordinality u(t, i) order by i", corpus)
    differ = [(text, row["a"], row["p"]) for text, row in zip(corpus, rows, strict=True)
              if (row["a"], row["p"]) != (looks_like_personal_number(text), phone_looks_like_personal_number(text))]
    assert differ == [], f"{len(differ)} texts read differently, e.g. {differ[:3]}"
    assert sum(row["a"] for row in rows) > 100, "the corpus holds numbers too"
    # every decimal digit Python knows is a digit to the database as well
    import sys
    import unicodedata

    digits = [chr(c) for c in range(128, sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Nd"]
    read = await conn.fetchval("select string_agg(personal_number_text(d), '' order by i) "
                               "from unnest($1::text[]) with ordinality u(d, i)", digits)
    assert read == "".join(str(unicodedata.decimal(d)) for d in digits)


@pytest.mark.parametrize(("table", "column"), [("shelter", "label"), ("unit", "label"), ("shelter_address", "street"),
                                               ("shelter_address", "contact_phone"), ("webhook_subscription", "url"),
                                               ("idempotency_key", "key")])
async def test_the_database_refuses_a_number_by_any_other_path(conn, table, column):
    """Written past the service (an UPDATE in psql, a future code path): the CHECKs of migration 0014."""
    import asyncpg

    await conn.execute(f"create temp table probe (like {table} including constraints)")
    await conn.execute(await conn.fetchval(  # only the CHECKs matter here
        "select 'alter table probe ' || string_agg(format('alter column %I drop not null', column_name), ', ')"
        " from information_schema.columns where table_name = 'probe'"))
    for value in (f"{DATE}-{TAIL}", _digits(f"0{DATE[1:]}{TAIL}", 0xFF10), f"{DATE}\u2013{TAIL}"):
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                await conn.execute(f"insert into probe ({column}) values ($1)", value)


async def test_migration_0014_clears_numbers_already_stored(create_database):
    """Rows written before the guard (the attack run stored some) are masked, then the CHECKs hold."""
    from skyddat_boende import migrations
    from skyddat_boende.config import REPO_SQL_DIR
    from tests import factories

    url = await create_database()
    conn = await database.connect(url)
    try:
        every = migrations.discover(REPO_SQL_DIR)
        await migrations.migrate(conn, [m for m in every if m.version < 14])
        number = f"{DATE}-{TAIL}"
        operator = await factories.operator_org(conn, "north", "2480")
        shelter = await factories.shelter(conn, operator, "2480", label=f"Boende {number}")
        await factories.unit(conn, shelter)
        await conn.execute("update unit set label = $1", f"Lgh {number}")
        await conn.execute("insert into shelter_address (shelter_id, street, postal_code, city, contact_phone) "
                           "values ($1, $2, '901 00', 'Testort', $3)", shelter, f"Gatan {number}", number)
        await conn.execute("insert into webhook_subscription (organisation_id, url, secret, event_types) "
                           "values ($1, $2, $3, '{offer.created}')", operator,
                           f"https://partner.example/h?id={number}", "whsec_" + "a" * 43)
        await conn.execute("insert into idempotency_key (owner, key, fingerprint, status_code, body) "
                           "values ('o', $1, $2, 201, '')", number, "0" * 64)
        await migrations.migrate(conn, every)
        stored = [text for _, text in await _texts_in_every_table(url) if _holds_the_number(text)]
        assert stored == []
        assert await conn.fetchval("select active from webhook_subscription") is False
        assert await conn.fetchval("select count(*) from shelter where label like 'Boende ######-####%'") == 1
    finally:
        await conn.close()


class _Forms(HTMLParser):
    """The post forms of a page: action and the fields a browser would send (first choice of each)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post":
            self.forms.append((a["action"], {}))
        elif self.forms and tag in ("input", "button", "textarea", "select") and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and a["name"] in self.forms[-1][1]:
                return
            self.forms[-1][1].setdefault(a["name"], a.get("value") or "")
        elif self.forms and tag == "option" and self.forms[-1][1]:
            last = list(self.forms[-1][1])[-1]
            if not self.forms[-1][1][last]:
                self.forms[-1][1][last] = a.get("value", "")


async def _log_in(client, issuer, persona: str) -> None:
    """Through the development issuer's real login page, as a browser would."""
    started = await client.get("/login", follow_redirects=False)
    async with httpx.AsyncClient() as idp:
        page = (await idp.get(started.headers["location"])).text
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
        chosen = await idp.post(issuer.url + "/authorize", data={**{k: html.unescape(v) for k, v in hidden.items()},
                                                                "persona": persona})
    back = urlsplit(chosen.headers["location"])
    done = await client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 303, done.text


async def test_no_personal_number_through_any_web_form(create_migrated_database, issuer):
    """Every post form the pages show a social worker and shelter staff, every field but the CSRF token."""
    url = await create_migrated_database()
    await organisations(url)
    conn = await database.connect(url)
    try:
        from tests import factories

        operator = await factories.operator_org(conn, "demo-1", "2480")
        await factories.unit(conn, await factories.shelter(conn, operator, "2480"))
    finally:
        await conn.close()
    app = make_app(url, issuer, rate_limit_per_minute=1_000_000)
    tried = 0
    for persona, pages in (("malmo", ["/socialtjanst/ny"]), ("staff-1", ["/boende", "/boende/placeringar"])):
        async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
            await _log_in(client, issuer, persona)
            for path in pages:
                parser = _Forms()
                parser.feed((await client.get(path)).text)
                forms = [(action, fields) for action, fields in parser.forms if action != "/logout"]
                assert forms, f"{path} shows forms"
                for action, fields in forms:
                    for name in [n for n in fields if n != "_csrf_token"]:
                        for label, variant in variants().items():
                            for value in (variant, f"{fields[name]} {variant}".strip()):
                                sent = await client.post(action, data=fields | {name: value}, follow_redirects=False)
                                # an error page (422), or the request form again with the message (400)
                                expected = 400 if action == "/socialtjanst/ny" else 422
                                assert sent.status_code == expected, f"{action} {name} {label}: {sent.status_code}"
                                assert "personnummer" in sent.text and not _holds_the_number(sent.text)
                                tried += 1
    assert tried > 100
    stored = [(table, text) for table, text in await _texts_in_every_table(url) if _holds_the_number(text)]
    assert stored == [], f"personnummer-shaped text stored in {sorted({t for t, _ in stored})}"
