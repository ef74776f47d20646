"""Geography: all 290 municipalities and 21 counties, consistent codes, plausible distances."""

from __future__ import annotations

import pytest

from skyddat_boende.geography import repository as geography

MALMO, STOCKHOLM, KIRUNA, GOTEBORG, VISBY = "1280", "0180", "2584", "1480", "0980"


async def test_all_290_municipalities_and_21_counties(conn):
    assert await conn.fetchval("select count(*) from municipality") == 290
    assert await conn.fetchval("select count(*) from county") == 21
    # every county has at least one municipality
    assert await conn.fetchval(
        "select count(*) from county c where not exists (select 1 from municipality m where m.county_code = c.code)"
    ) == 0


async def test_every_municipality_belongs_to_the_county_of_its_code(conn):
    rows = await geography.municipalities(conn)
    assert len(rows) == 290
    assert all(m.county_code == m.code[:2] for m in rows)
    assert {m.code for m in rows} >= {MALMO, STOCKHOLM, KIRUNA, GOTEBORG, VISBY}
    names = {m.code: m.name for m in rows}
    assert names[MALMO] == "Malmö" and names[KIRUNA] == "Kiruna"


async def test_database_refuses_a_municipality_outside_its_code_county(conn):
    import asyncpg

    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "insert into municipality values ('0199', 'Felkommun', '12', 59.0, 18.0)"
        )


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        (MALMO, STOCKHOLM, 513),  # DOMAIN scale figure from the issue
        (MALMO, KIRUNA, 1410),
        (STOCKHOLM, GOTEBORG, 398),
        (STOCKHOLM, VISBY, 190),
    ],
)
async def test_known_distances_within_a_few_km(conn, a, b, expected_km):
    km = await geography.distance_between(conn, a, b)
    assert km == pytest.approx(expected_km, abs=6)
    assert await geography.distance_between(conn, b, a) == pytest.approx(km)


async def test_distance_to_itself_is_zero_and_unknown_code_is_none(conn):
    assert await geography.distance_between(conn, MALMO, MALMO) == 0
    assert await geography.distance_between(conn, MALMO, "9999") is None


async def test_distance_from_a_coordinate(conn):
    # Lund's cathedral is about 16-17 km from Malmö's representative point
    km = await geography.distance_from_point(conn, MALMO, 55.7047, 13.1934)
    assert 10 < km < 25


async def test_sql_and_engine_distances_agree(conn):
    """The database (distance_km) and the matching engine (matching.geo) use one formula."""
    from matching.geo import distance_km

    rows = await conn.fetch("select code, latitude, longitude from municipality where code = any($1::text[])",
                            [MALMO, STOCKHOLM, KIRUNA, GOTEBORG, VISBY])
    for a in rows:
        for b in rows:
            sql = await geography.distance_between(conn, a["code"], b["code"])
            assert sql == pytest.approx(distance_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"]),
                                        abs=1e-6)
