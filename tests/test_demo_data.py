"""Demo data: deterministic from its seed, national in spread, with DOMAIN.md's mix."""

from __future__ import annotations

import pytest

from skyddat_boende import database, demo_data, migrations
from skyddat_boende.config import REPO_SQL_DIR

FINGERPRINT = """
select md5(string_agg(concat_ws('|', s.municipality_code, s.target_groups::text, s.features::text,
                                s.security_level, s.max_age_boys, s.staff_languages::text, s.daily_rate_sek,
                                (select string_agg(u.beds || ':' || u.shareable, ',' order by u.label)
                                   from unit u where u.shelter_id = s.id)), ';' order by s.label))
from shelter s
"""


async def _loaded(create_database, seed: int, shelters: int = 120):
    conn = await database.connect(await create_database())
    await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
    counts = await demo_data.load(conn, seed=seed, shelters=shelters)
    return conn, counts


async def test_same_seed_same_data_other_seed_other_data(create_database):
    a, counts_a = await _loaded(create_database, seed=7)
    b, counts_b = await _loaded(create_database, seed=7)
    c, _ = await _loaded(create_database, seed=8)
    try:
        assert counts_a == counts_b
        assert await a.fetchval(FINGERPRINT) == await b.fetchval(FINGERPRINT)
        assert await a.fetchval(FINGERPRINT) != await c.fetchval(FINGERPRINT)
    finally:
        for conn in (a, b, c):
            await conn.close()


async def test_national_mix(create_database):
    conn, counts = await _loaded(create_database, seed=2024, shelters=260)
    try:
        assert counts["shelters"] == 260 and counts["units"] > 1000
        assert counts["housing providers"] == 6 and counts["apartments"] == 108
        leases = {r[0] for r in await conn.fetch("select lease_type from apartment")}
        assert leases == {"first_hand", "trial_lease", "sublet"}
        assert await conn.fetchval("select count(*) from apartment_address") == 108
        counties = await conn.fetchval("select count(distinct left(municipality_code, 2)) from shelter")
        assert counties >= 18  # spread over nearly every county
        kinds = dict(await conn.fetch(
            "select o.kind, count(*) from shelter s join organisation o on o.id = s.operator_id group by o.kind"))
        assert set(kinds) == {"municipality", "association", "company"}
        assert await conn.fetchval("select count(*) from shelter where 'men' = any(target_groups)") > 0
        assert await conn.fetchval("select count(*) from shelter where 'young_adults' = any(target_groups)") > 0
        boys_limit_share = await conn.fetchval(
            "select avg((max_age_boys is not null)::int) from shelter where 'families' = any(target_groups)")
        assert 0.1 < boys_limit_share < 0.45  # about a quarter (Roks/Unizon 2019)
        assert set(await conn.fetchval("select array_agg(distinct security_level) from shelter")) == {1, 2, 3, 4}
        assert await conn.fetchval("select count(*) from shelter where cardinality(staff_languages) > 1") > 50
        # every shelter has its address apart, and every private operator its IVO permit
        assert await conn.fetchval("select count(*) from shelter_address") == 260
        assert await conn.fetchval("select count(*) from organisation where kind in ('association', 'company') "
                                   "and ivo_permit_ref is null") == 0
        assert await conn.fetchval("select count(*) from placement_request where status = 'waiting'") > 0
        with pytest.raises(demo_data.DemoDataExists):
            await demo_data.load(conn, seed=2024)
    finally:
        await conn.close()
