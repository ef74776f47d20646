"""The service feeds the look-ahead from its own acute requests (matchmaking.adapter.acute_demand)."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from matching.lookahead import HISTORY_DAYS, HORIZON_DAYS
from skyddat_boende import database
from skyddat_boende.matchmaking import adapter
from tests.conftest import make_app
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body


@pytest.fixture
async def world(create_migrated_database, issuer):
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer)) as client:
        yield client, url


async def _demand(url: str):
    conn = await database.connect(url)
    try:
        places = await adapter.municipalities(conn)
        return await adapter.acute_demand(conn, places), await adapter.availability(conn, places, 24)
    finally:
        await conn.close()


async def test_no_acute_history_keeps_nothing_and_acute_requests_set_the_rate(world, tokens):
    client, url = world
    await publish(client, tokens.staff("operator-north"), shelter_body("2480", rate=2000, label="Norr"))
    demand, available = await _demand(url)
    assert demand is None and [u.acute_demand for u in available.units] == [0.0]

    malmo = tokens.social_worker(MALMO)
    for i in range(2):
        created = await client.post("/api/requests", json=mother_with_son_and_dog(f"MAL-A{i}"), headers=malmo)
        assert created.status_code == 201, created.text
    demand, _ = await _demand(url)
    # two acute requests in the window: their rate; fewer than the minimum history, so the generator's mix
    assert demand.per_day == 2 / HISTORY_DAYS
    assert demand.profiles and {p.urgency for p in demand.profiles} == {"acute"}
    assert demand.horizon_days == HORIZON_DAYS
