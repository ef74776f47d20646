"""Test fixtures: a real PostgreSQL for the whole session (embedded, or DATABASE_URL when set),
with a throwaway database per purpose. Never SQLite, never a mock."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

# The test process is a development process: it runs the development token issuer, whose module refuses
# to be imported otherwise. Servers and commands the tests start get their own SB_ENV (tests/helpers.py).
os.environ["SB_ENV"] = "development"

from skyddat_boende import database, migrations  # noqa: E402
from skyddat_boende.config import REPO_SQL_DIR  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def server_url() -> str:
    """Admin URL of the PostgreSQL server the tests use: DATABASE_URL's server, or a throwaway embedded one
    (outside pytest's own temp dirs, which a parallel pytest run may prune while our server uses them)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    url = database.start_embedded_server(Path(tempfile.mkdtemp(prefix="skyddat-test-pg-")), throwaway=True)
    # in a thread: asyncio.run here would replace the event loop pytest-asyncio keeps for the session
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _without_durability(url)).result()
    return url


async def _without_durability(server_url: str) -> None:
    """The throwaway server's data is deleted when the session ends, so nothing it writes has to survive
    a crash of the machine: it need not wait for the disk at each commit, checkpoint or shutdown. On a
    machine whose disk other processes keep busy those waits were a good part of the suite's time
    (the shutdown checkpoint writes out every database the session made). What is visible to other
    transactions, and when, is unchanged; tests/test_outage.py restarts a server of its own."""
    admin = await asyncpg.connect(server_url)
    try:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            await admin.execute(f"alter system set {setting} = off")
        await admin.execute("select pg_reload_conf()")
    finally:
        await admin.close()


async def _drop_databases(server_url: str, names: list[str]) -> None:
    """Drop the session's databases from DATABASE_URL's server. The embedded server is a throwaway one
    that deletes its whole data directory when the session ends: nothing is dropped one by one there, as
    each DROP DATABASE waits for a checkpoint and a session creates dozens of databases."""
    if os.environ.get("DATABASE_URL"):
        await database.drop_databases(server_url, *names)


@pytest.fixture(scope="session")
async def create_database(server_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of empty throwaway databases; all go away at the end of the session."""
    created: list[str] = []

    async def create() -> str:
        name = f"sbtest_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return await database.ensure_database(server_url, name)

    yield create
    await _drop_databases(server_url, created)


@pytest.fixture(scope="session")
async def create_migrated_database(server_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of fresh databases with every migration applied. The migrations run once, into a
    template that no test connects to; each database is a copy of it (CREATE DATABASE ... TEMPLATE copies
    the files, several times quicker than applying the migrations again). tests/test_migrations.py and the
    CLI tests apply the migrations to empty databases themselves."""
    template = f"sbtest_template_{uuid.uuid4().hex[:12]}"
    conn = await database.connect(await database.ensure_database(server_url, template))
    try:
        await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
    finally:
        await conn.close()
    created: list[str] = []

    async def create() -> str:
        name = f"sbtest_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'create database "{name}" template "{template}"')
        finally:
            await admin.close()
        created.append(name)
        return database.database_url_for(server_url, name)

    yield create
    await _drop_databases(server_url, [*created, template])


@pytest.fixture(scope="session")
async def database_url(create_migrated_database: Callable[[], Awaitable[str]]) -> str:
    """One migrated database shared by tests that only read, or that clean up what they write."""
    return await create_migrated_database()


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    connection = await database.connect(database_url)
    transaction = connection.transaction()
    await transaction.start()
    try:
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory):
    """A real OpenID issuer on 127.0.0.1 (discovery + JWKS over HTTP) that signs the tests' tokens."""
    from skyddat_boende.identity.dev_issuer import DevIssuer

    with DevIssuer(tmp_path_factory.mktemp("issuer") / "keys") as dev:
        yield dev


@pytest.fixture(scope="session")
def tokens(issuer):
    from tests.api_support import Tokens

    return Tokens(issuer)


def make_app(database_url: str, issuer, **settings):
    from skyddat_boende.app import create_app
    from skyddat_boende.config import Settings
    from skyddat_boende.identity import TrustedIssuer

    trusted = [TrustedIssuer(**issuer.trusted_issuer_config())] if issuer is not None else []
    # rate limits live in the database and every in-process call comes from one address ("testclient"):
    # tests that are not about rate limits must not trip over each other's counts; the in-process app runs
    # the periodic jobs too (as the demo does) unless a test says run_jobs=False
    settings = {"environment": "development", "run_jobs": True, "rate_limit_per_minute": 1_000_000,
                "rate_limit_per_address_per_minute": 1_000_000, **settings}
    return create_app(Settings(**settings), database_url=database_url,
                      trusted_issuers=trusted)


@pytest.fixture
async def client(database_url: str, issuer) -> AsyncIterator:
    """The app in-process over ASGI (AsyncTestClient: one event loop, safe for asyncpg pools),
    trusting the test issuer."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=make_app(database_url, issuer)) as test_client:
        yield test_client
