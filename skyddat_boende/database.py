"""Where the PostgreSQL comes from (DATABASE_URL or an embedded server) and the connection pool."""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import msgspec

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "skyddat_boende"
CONNECT_TIMEOUT_SECONDS = 10
# Every connection runs with JIT compilation off. The service's statements are short OLTP queries, and
# on a server built with LLVM, PostgreSQL compiles any plan whose estimated cost passes jit_above_cost:
# hundreds of milliseconds of compiling for a query that runs in a few, while the statement's locks are
# held. Analytical work (national figures) is small enough to run uncompiled.
SERVER_SETTINGS = {"jit": "off"}
COMMAND_TIMEOUT_SECONDS = 60


class DatabaseUnavailable(Exception):
    """The database could not be reached; the message is one line, safe to print."""


def start_embedded_server(pgdata: Path, *, throwaway: bool = False) -> str:
    """Start (or reuse) the embedded PostgreSQL in `pgdata` and return a URL for its admin database.
    It stops when the last process using it exits; a throwaway server also deletes its data then."""
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR on machines without a login session; harmless here
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: only needed when DATABASE_URL is unset

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="delete" if throwaway else "stop")
    return server.get_uri()


def database_url_for(server_url: str, database: str) -> str:
    """The same server with another database name (keeps query parameters such as host=/socket/dir)."""
    parts = urlsplit(server_url)
    return parts._replace(path="/" + database).geturl()


def describe(url: str) -> str:
    """Where a URL points, without its password: for error messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "local socket"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "a malformed DATABASE_URL"
    return f"{host}{port}{parts.path or '/'}"


async def ensure_database(server_url: str, database: str) -> str:
    """Create `database` on the server if missing and return its URL."""
    conn = await connect(server_url)
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
        if not exists:
            # identifiers cannot be parameters; `database` is one of our own constants or a generated test name
            await conn.execute(f'create database "{database}"')
    finally:
        await conn.close()
    return database_url_for(server_url, database)


async def drop_databases(server_url: str, *names: str) -> None:
    """Drop these databases from the server, closing any connection still open to them."""
    conn = await connect(server_url)
    try:
        for name in names:
            await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


async def resolve_database_url(database_url: str | None, pgdata: Path) -> str:
    """DATABASE_URL when given; otherwise the embedded server's application database."""
    if database_url:
        return database_url
    server_url = await asyncio.to_thread(start_embedded_server, pgdata)
    return await ensure_database(server_url, EMBEDDED_DATABASE)


async def connect(url: str) -> asyncpg.Connection:
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS, server_settings=SERVER_SETTINGS)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, ValueError) as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {describe(url)}: {_reason(exc)}") from None
    await _init_connection(conn)
    return conn


SERVICE_ROLE = "skyddat_app"


class ServiceRoleMissing(Exception):
    """The restricted role of sql/0009 is not available to the connecting user, and the caller requires it."""


async def create_pool(url: str, max_size: int = 10, *, service_role: bool = False,
                      require_service_role: bool = False, single_statements: bool = False) -> asyncpg.Pool:
    """A pool; with `service_role`, every connection runs as the restricted role of sql/0009 when the
    connecting user may take it on. Without the role: `ServiceRoleMissing` if `require_service_role`
    (production), else a warning and the connecting user's rights (development).

    `single_statements`: the pool's users only run single statements outside any transaction, which
    leave no session state (locks, cursors, LISTEN, settings) behind; its connections then skip the
    reset (one more round trip) on their way back to the pool. asyncpg still rolls back a transaction
    left open."""
    role = await _usable_role(url, required=require_service_role) if service_role else None

    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if role:
            await conn.execute("select set_config('role', $1, false)", role)

    try:
        return await asyncpg.create_pool(
            url, min_size=1, max_size=max_size, timeout=CONNECT_TIMEOUT_SECONDS, init=init,
            server_settings=SERVER_SETTINGS, command_timeout=COMMAND_TIMEOUT_SECONDS,
            reset=_nothing_to_reset if single_statements else None,
        )
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, ValueError) as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL at {describe(url)}: {_reason(exc)}") from None


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    return None


async def check_service_role(conn: asyncpg.Connection, *, required: bool) -> bool:
    """Whether the connecting user may run as the restricted role. Missing: `ServiceRoleMissing` when
    `required`, else a warning. The owner it would otherwise run as can read shelter addresses directly."""
    usable = await conn.fetchval(
        "select exists (select 1 from pg_roles where rolname = $1) and pg_has_role(current_user, $1, 'member')",
        SERVICE_ROLE,
    )
    if usable:
        return True
    if required:
        user = await conn.fetchval("select current_user")
        raise ServiceRoleMissing(
            f"the restricted database role {SERVICE_ROLE} is missing or not granted to {user}, so the service "
            f"would run with the owner's rights (which include reading shelter addresses); have an administrator "
            f"run `create role {SERVICE_ROLE} nologin; grant {SERVICE_ROLE} to {user}` before migrating, "
            f"or set SB_ENV=development to run without it")
    log.warning("running as the connecting database user: the restricted service role is not available",
                extra={"role": SERVICE_ROLE})
    return False


async def _usable_role(url: str, *, required: bool) -> str | None:
    conn = await connect(url)
    try:
        usable = await check_service_role(conn, required=required)
    finally:
        await conn.close()
    return SERVICE_ROLE if usable else None


async def _init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type, encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode, schema="pg_catalog"
        )


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
