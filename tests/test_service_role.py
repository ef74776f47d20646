"""The service's pool runs as the restricted role of sql/0009: PostgreSQL itself refuses what the
service must never do."""

from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database, migrations
from skyddat_boende.app import create_app
from skyddat_boende.config import REPO_SQL_DIR, Settings
from tests.helpers import cli, free_port


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
        ("select street from apartment_address", "read apartment addresses directly"),
        ("update organisation set kind = 'housing_provider'", "change who an organisation is"),
        ("update audit_event set outcome = 'allowed'", "edit the audit trail"),
        ("delete from audit_event", "delete audit events"),
        ("alter table audit_event disable trigger user", "switch off the audit guard"),
        ("update audit_chain_head set last_seq = 0", "move the chain's head"),
        ("insert into audit_event (actor_issuer, actor_subject, action, object_type, outcome) "
         "values ('https://idp.example', 'u', 'test.append', 'batch', 'succeeded')", "write the chain itself"),
        ("insert into audit_pending (occurred_at, actor_issuer, actor_subject, action, object_type, outcome) "
         "values ('2000-01-01', 'https://idp.example', 'u', 'test.append', 'batch', 'succeeded')",
         "backdate an audit event"),
        ("select count(*) from audit_pending", "read the events waiting to be chained"),
        ("delete from audit_pending", "drop an event before it is chained"),
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
            "insert into audit_pending (actor_issuer, actor_subject, action, object_type, outcome) "
            "values ('https://idp.example', 'u', 'test.append', 'batch', 'succeeded')")
        assert await conn.fetchval("select audit_chain_pending()") >= 1
        assert await conn.fetchval("select count(*) from audit_event where action = 'test.append'") >= 1
        assert await conn.fetchval("select count(*) from placement_address(gen_random_uuid(), 'kommun-1280')") == 0
        assert await conn.fetchval("select count(*) from onward_address(gen_random_uuid(), 'kommun-1280')") == 0


@pytest.fixture
async def owner_without_service_role(server_url):
    """A database migrated by a login role that is not a member of skyddat_app (as on a managed PostgreSQL
    whose migrating user may not create or grant roles): sql/0009 leaves the role unset up there."""
    suffix = uuid.uuid4().hex[:10]
    user, name = f"sbtest_owner_{suffix}", f"sbtest_norole_{suffix}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'create role "{user}" login')
    await admin.execute(f'create database "{name}" owner "{user}"')
    parts = urlsplit(database.database_url_for(server_url, name))
    host = parts.netloc.rpartition("@")[2]
    url = parts._replace(netloc=f"{user}@{host}").geturl()
    conn = await database.connect(url)
    try:
        await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
        assert not await conn.fetchval("select pg_has_role(current_user, 'skyddat_app', 'member')")
    finally:
        await conn.close()
    try:
        yield url
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'drop role if exists "{user}"')
        await admin.close()


async def test_production_refuses_to_start_without_the_service_role(owner_without_service_role):
    # Input: a production app whose database user cannot take on skyddat_app (it owns every table, so it
    # could read shelter addresses directly).
    app = create_app(Settings(environment="production"), database_url=owner_without_service_role,
                     trusted_issuers=[])
    with pytest.raises(Exception) as refused:
        async with AsyncTestClient(app=app) as client:
            await client.get("/health")
    assert "skyddat_app" in _messages(refused.value)


@pytest.mark.parametrize("command", [("serve", "--port", str(free_port())), ("worker",)], ids=["serve", "worker"])
async def test_serve_in_production_ends_with_one_line_without_the_service_role(owner_without_service_role, command):
    # Input: `skyddat-boende serve` (or `worker`) with SB_ENV=production as that user: exit 2, a one-line reason.
    result = await asyncio.to_thread(cli, *command,
                                     env={"DATABASE_URL": owner_without_service_role, "SB_ENV": "production"},
                                     timeout=30)
    assert result.returncode == 2
    assert "skyddat_app is missing" in result.stderr and "Traceback" not in result.stderr


async def test_development_warns_and_runs_without_the_service_role(owner_without_service_role):
    # Input: the same database in development: the service starts, and says it runs as the owner.
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())  # Litestar re-configures the root
    logger = logging.getLogger("skyddat_boende.database")
    logger.addHandler(handler)
    try:
        app = create_app(Settings(environment="development"), database_url=owner_without_service_role,
                         trusted_issuers=[])
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/health")).status_code == 200
    finally:
        logger.removeHandler(handler)
    assert any("restricted service role is not available" in message for message in warnings)


def _messages(exc: BaseException) -> str:
    """The exception's text and its causes' (the lifespan may wrap it)."""
    parts = []
    while exc is not None:
        parts.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return " ".join(parts)
