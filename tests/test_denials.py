"""Denied lookups are audited without needing a second pooled connection: a burst of 404s cannot
exhaust the pool and freeze the service."""

from __future__ import annotations

import asyncio
import uuid

from litestar.testing import AsyncTestClient

from skyddat_boende import database
from tests.conftest import make_app
from tests.helpers import chain_audit


async def test_burst_of_unknown_ids_on_a_tiny_pool_all_answer_and_are_audited(create_migrated_database, issuer,
                                                                              tokens):
    url = await create_migrated_database()
    # pool of 2: before the fix, 6 concurrent 404s each held one connection and waited for another
    async with AsyncTestClient(app=make_app(url, issuer, db_pool_max=2)) as client:
        headers = tokens.staff("operator-north")
        ids = [uuid.uuid4() for _ in range(12)]
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.get(f"/api/units/{i}", headers=headers) for i in ids)), timeout=30)
        assert [r.status_code for r in responses] == [404] * 12
        assert (await client.get("/api/shelters", headers=headers)).status_code == 200  # still serving
    conn = await database.connect(url)
    try:
        await chain_audit(conn)
        audited = await conn.fetchval(
            "select count(*) from audit_event where outcome = 'denied' and object_id = any($1::text[])",
            [str(i) for i in ids])
    finally:
        await conn.close()
    assert audited == 12
