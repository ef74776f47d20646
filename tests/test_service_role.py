"""The service's pool runs as the restricted role of sql/0009: PostgreSQL itself refuses what the
service must never do."""

from __future__ import annotations

import asyncpg
import pytest

from skyddat_boende import database


@pytest.fixture
async def pool(database_url):
    created = await database.create_pool(database_url, max_size=1, service_role=True)
    yield created
    await created.close()


async def test_pool_connections_run_as_the_service_role_even_after_reuse(pool):
    for _ in range(3):  # the pool resets connections between uses; the role must survive that
        async with pool.acquire() as conn:
            assert await conn.fetchval("select current_user") == "skyddat_app"


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("select street from shelter_address", "read addresses directly"),
        ("update audit_event set outcome = 'allowed'", "edit the audit trail"),
        ("delete from audit_event", "delete audit events"),
        ("alter table audit_event disable trigger user", "switch off the audit guard"),
        ("update audit_chain_head set last_seq = 0", "move the chain's head"),
        ("update municipality set name = 'x'", "change reference data"),
        ("delete from schema_migrations", "rewrite the migration history"),
    ],
)
async def test_the_service_role_is_refused(pool, statement, what):
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)


async def test_the_service_role_can_still_do_its_work(pool):
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "insert into audit_event (actor_issuer, actor_subject, action, object_type, outcome) "
            "values ('https://idp.example', 'u', 'test.append', 'batch', 'succeeded')")
        assert await conn.fetchval("select count(*) from placement_address(gen_random_uuid(), 'kommun-1280')") == 0
