"""Numbered plain-SQL migrations from `sql/`, applied in order, each in its own transaction.

A migration file may load CSV data files with a directive line:

    -- load data/municipalities.csv into municipality (code, name, county_code, latitude, longitude)

The path is relative to the sql directory; lines starting with '#' in the data file are
comments (its source) and are skipped. The checksum covers the SQL text and every loaded file,
so editing the data of an applied migration is refused like editing its SQL.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

# pg_advisory_xact_lock key: the first 8 bytes of sha256("skyddat-boende migrations"), as a signed bigint
LOCK_KEY = int.from_bytes(hashlib.sha256(b"skyddat-boende migrations").digest()[:8], "big", signed=True)

FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
LOAD_PATTERN = re.compile(
    r"^--\s*load\s+(?P<path>[\w./-]+\.csv)\s+into\s+(?P<table>[a-z_][a-z0-9_]*)\s*\((?P<columns>[a-z0-9_,\s]+)\)\s*$",
    re.MULTILINE,
)

CREATE_HISTORY = """
create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
)
"""


class MigrationError(Exception):
    """Migrations cannot be applied; the message says which one and why."""


@dataclass(frozen=True)
class DataLoad:
    path: Path
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    loads: tuple[DataLoad, ...]
    checksum: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def discover(sql_dir: Path) -> list[Migration]:
    if not sql_dir.is_dir():
        raise MigrationError(f"migration directory {sql_dir} does not exist")
    migrations = [_read(path, sql_dir) for path in sorted(sql_dir.glob("*.sql"))]
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return migrations


def _read(path: Path, sql_dir: Path) -> Migration:
    match = FILE_PATTERN.match(path.name)
    if not match:
        raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
    sql = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(sql.encode())
    loads = []
    for load in LOAD_PATTERN.finditer(sql):
        data_path = (sql_dir / load["path"]).resolve()
        if sql_dir.resolve() not in data_path.parents or not data_path.is_file():
            raise MigrationError(f"{path.name}: data file {load['path']} not found under {sql_dir}")
        digest.update(data_path.read_bytes())
        columns = tuple(c.strip() for c in load["columns"].split(","))
        loads.append(DataLoad(data_path, load["table"], columns))
    return Migration(int(match[1]), match[2], sql, tuple(loads), digest.hexdigest())


async def applied(conn: asyncpg.Connection) -> dict[int, asyncpg.Record]:
    exists = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    if not exists:
        return {}
    rows = await conn.fetch("select version, name, checksum from schema_migrations order by version")
    return {row["version"]: row for row in rows}


def check_history(migrations: list[Migration], history: dict[int, asyncpg.Record]) -> list[Migration]:
    """Raise if applied migrations differ from the files; return the migrations still pending."""
    by_version = {m.version: m for m in migrations}
    for version, row in history.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {version:04d}_{row['name']} is applied in the database but has no file here"
            )
        if migration.checksum != row["checksum"]:
            raise MigrationError(
                f"migration {migration.label} was edited after it was applied (checksum differs); "
                "add a new migration instead of changing an applied one"
            )
    return [m for m in migrations if m.version not in history]


async def pending(conn: asyncpg.Connection, migrations: list[Migration]) -> list[Migration]:
    return check_history(migrations, await applied(conn))


async def migrate(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Apply every pending migration; return the labels applied. Safe to run from several processes at once."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock($1)", LOCK_KEY)
        await conn.execute(CREATE_HISTORY)
    done = []
    for migration in migrations:
        async with conn.transaction():
            # the lock serializes runners; re-reading history inside it skips what another runner just applied
            await conn.execute("select pg_advisory_xact_lock($1)", LOCK_KEY)
            todo = check_history(migrations, await applied(conn))
            if migration not in todo:
                continue
            await _apply(conn, migration)
        done.append(migration.label)
    return done


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    try:
        await conn.execute(migration.sql)
        for load in migration.loads:
            await conn.copy_to_table(
                load.table, source=io.BytesIO(_csv_without_comments(load.path)), columns=list(load.columns),
                format="csv", header=True,
            )
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {migration.label} failed and was rolled back: {exc}") from None
    await conn.execute(
        "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)",
        migration.version, migration.name, migration.checksum,
    )


def _csv_without_comments(path: Path) -> bytes:
    lines = path.read_bytes().splitlines(keepends=True)
    return b"".join(line for line in lines if not line.startswith(b"#"))
