"""The follow-up API's demand figures and the open data endpoint: bad input, access, caching, format."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.statistics.snapshots import NEEDS, local_date, take
from tests import factories
from tests.conftest import make_app



def today() -> dt.date:
    """Today in Sweden, read when a test runs (not at import: the suite may pass Swedish midnight)."""
    return local_date(dt.datetime.now(dt.timezone.utc))


@pytest.fixture
async def app(create_migrated_database, issuer):
    url = await create_migrated_database()
    conn = await database.connect(url)
    try:
        operator = await factories.operator_org(conn)
        for _ in range(7):  # seven free places in Stockholm (01), able to take families
            await factories.unit(conn, await factories.shelter(conn, operator, "0180"))
        await factories.unit(conn, await factories.shelter(conn, operator, "1280"))  # one in Skåne (12)
        await take(conn, dt.datetime.now(dt.timezone.utc), 24)
    finally:
        await conn.close()
    async with AsyncTestClient(app=make_app(url, issuer, run_jobs=False)) as client:
        yield client


def bad_input(day: dt.date) -> list[tuple[dict, str]]:
    return [
        ({"period": "fortnight"}, "allowed_periods"),
        ({"county": "99"}, "allowed_counties"),
        ({"need": "unicorns"}, "allowed_needs"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "earliest"),
        ({"end": (day + dt.timedelta(days=1)).isoformat()}, "latest"),
        ({"start": "2019-12-31"}, "earliest"),
        ({"period": "day", "start": "2024-01-01", "end": "2025-12-31", "county": "01"}, "max_periods"),
        ({"period": "day", "start": (day - dt.timedelta(days=90)).isoformat()}, "max_cells"),
    ]


async def test_bad_input_is_a_400_naming_the_allowed_values(app, tokens):
    national = tokens.headers("national_followup", "nat-socialstyrelsen")
    for params, allowed in bad_input(today()):
        for path in ("/api/statistics/demand", "/api/statistics/demand.csv"):
            answer = await app.get(path, params=params, headers=national)
            assert answer.status_code == 400, (params, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert allowed in answer.json(), (params, answer.json())
    assert (await app.get("/api/statistics/demand", params={"start": "yesterday"}, headers=national)).status_code == 400


async def test_only_national_follow_up_reads_the_figures(app, tokens):
    assert (await app.get("/api/statistics/demand")).status_code == 401
    social = tokens.headers("social_worker", "kommun-1280")
    assert (await app.get("/api/statistics/demand", headers=social)).status_code == 403
    national = tokens.headers("national_followup", "nat-socialstyrelsen")
    answer = await app.get("/api/statistics/demand", params={"period": "day", "start": today().isoformat(),
                                                            "county": "01"}, headers=national)
    cells = {c["need"]: c for c in answer.json()["cells"]}
    assert set(cells) == set(NEEDS) and cells["all"]["places_free"] == 5  # seven, rounded down
    assert cells["children"]["places_free"] == 5 and cells["wheelchair"]["places_free"] == 0
    year = {"period": "year", "start": today().isoformat(), "county": "12"}
    text = await app.get("/api/statistics/demand.csv", params=year, headers=national)
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert text.headers["content-type"].startswith("text/csv")
    assert "attachment" in text.headers["content-disposition"]
    assert {r["need"] for r in rows} == set(NEEDS) and rows[0]["places_free"] == ""  # one place: withheld


async def test_open_data_needs_no_account_and_is_cacheable(app):
    answer = await app.get("/open-data/free-places")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert "public" in answer.headers["cache-control"] and "max-age" in answer.headers["cache-control"]
    body = answer.json()
    assert body["day"] == today().isoformat() and body["suppressed_below"] == 5 and body["licence"] == "CC0-1.0"
    assert len(body["rows"]) == 21 * len(NEEDS)
    assert set(body["rows"][0]) == {"county_code", "county_name", "need", "free_places", "stale_places"}
    by = {(r["county_code"], r["need"]): r for r in body["rows"]}
    assert by[("01", "all")]["free_places"] == 5 and by[("12", "all")]["free_places"] is None
    again = await app.get("/open-data/free-places", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = await app.get("/open-data/free-places", headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200
    text = await app.get("/open-data/free-places.csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert text.headers["content-type"].startswith("text/csv") and "etag" in text.headers
    assert list(rows[0]) == ["day", "county_code", "county_name", "need", "free_places", "stale_places"]
    assert {r["day"] for r in rows} == {today().isoformat()}


async def test_open_data_keeps_the_per_address_rate_limit(create_migrated_database, issuer):
    url = await create_migrated_database()
    async with AsyncTestClient(app=make_app(url, issuer, run_jobs=False,
                                            rate_limit_per_address_per_minute=2)) as client:
        answers = [(await client.get("/open-data/free-places")).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
