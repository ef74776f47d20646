"""Test fixtures: a real PostgreSQL for the whole session (embedded, or DATABASE_URL when set),
with a throwaway database per purpose. Never SQLite, never a mock."""

from __future__ import annotations

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
    return database.start_embedded_server(Path(tempfile.mkdtemp(prefix="skyddat-test-pg-")), throwaway=True)


@pytest.fixture(scope="session")
async def create_database(server_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of empty throwaway databases; all are dropped at the end of the session."""
    created: list[str] = []

    async def create() -> str:
        name = f"sbtest_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return await database.ensure_database(server_url, name)

    yield create
    admin = await asyncpg.connect(server_url)
    try:
        for name in created:
            await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def create_migrated_database(create_database: Callable[[], Awaitable[str]]) -> Callable[[], Awaitable[str]]:
    """A factory of fresh databases with every migration applied."""

    async def create() -> str:
        url = await create_database()
        conn = await database.connect(url)
        try:
            await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
        finally:
            await conn.close()
        return url

    return create


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
