"""The national batch starts from the previous round's solution: each run keeps its matches, and the
next run hands them to the engine as its hint."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.config import Settings
from skyddat_boende.matchmaking import adapter, warm_start
from skyddat_boende.matchmaking.batch import run_batch
from tests.conftest import make_app
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body


async def test_each_batch_keeps_its_solution_for_the_next_and_only_the_latest(create_migrated_database, issuer,
                                                                               tokens):
    """Input: three waiting requests, two places published after them; the batch run twice; then a
    solution stored in a shape this engine does not read."""
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer, run_jobs=False)) as client:
        for i in range(3):
            created = await client.post("/api/requests", json=mother_with_son_and_dog(f"MAL-W{i}"),
                                        headers=tokens.social_worker(MALMO))
            assert created.json()["status"] == "waiting"
        await publish(client, tokens.staff("operator-north"), shelter_body("2480", rate=2000, label="Norr"))
        await publish(client, tokens.staff("operator-east"), shelter_body("0380", rate=3000, label="Öst"))
    pool = await database.create_pool(url, max_size=3)
    try:
        async with pool.acquire() as conn:
            places = await adapter.municipalities(conn)
            assert await warm_start.previous_solution(conn) is None  # no batch yet: a cold start
            first = await run_batch(pool, Settings(), places, "cli")
            offered = {(str(r["request_id"]), str(r["unit_id"])) for r in await conn.fetch(
                "select request_id, unit_id from offer where status = 'open'")}
            hint = await warm_start.previous_solution(conn)
            assert first.offers_made == 2 and len(offered) == 2
            assert {(m.request_id, m.unit_id) for m in hint.matches} == offered

            second = await run_batch(pool, Settings(), places, "cli")  # starts from the first's solution
            kept = await conn.fetch("select id, solution::text from batch_run where solution is not null")
            assert [r["id"] for r in kept] == [second.run_id]

            await conn.execute("update batch_run set solution = '[{\"request_id\": 1}]' where id = $1", second.run_id)
            assert await warm_start.previous_solution(conn) is None  # unreadable: the next run starts cold
            assert (await run_batch(pool, Settings(), places, "cli")) is not None
    finally:
        await pool.close()
