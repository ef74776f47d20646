"""National figures: small counts suppressed, the rest rounded, from an hourly snapshot."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.statistics.repository import suppress
from tests import factories
from tests.conftest import make_app


def test_suppression_and_rounding():
    assert [suppress(n) for n in (0, 1, 4, 5, 6, 7, 8, 12, 13)] == [0, None, None, 5, 5, 5, 5, 10, 10]


async def test_statistics_by_county_never_show_small_or_exact_counts(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    conn = await database.connect(url)
    try:
        malmo = await factories.municipality_org(conn, "1280")      # Skåne (12)
        stockholm = await factories.municipality_org(conn, "0180")  # Stockholm (01)
        for _ in range(7):
            await factories.request(conn, malmo)
        for _ in range(3):
            await factories.request(conn, stockholm)
    finally:
        await conn.close()
    async with AsyncTestClient(app=make_app(url, issuer)) as client:
        national = tokens.headers("national_followup", "nat-socialstyrelsen")
        first = (await client.get("/api/statistics", headers=national)).json()
        by_county = {c["county_code"]: c for c in first["by_county"]}
        assert len(by_county) == 21
        assert by_county["12"]["waiting"] == 5      # 7, rounded
        assert by_county["01"]["waiting"] is None   # 3, suppressed
        assert by_county["25"]["waiting"] == 0
        # a new request within the hour does not move the figures: the snapshot is reused
        conn = await database.connect(url)
        try:
            await factories.request(conn, malmo)
        finally:
            await conn.close()
        again = (await client.get("/api/statistics", headers=national)).json()
        assert again == first
