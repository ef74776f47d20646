"""Migrations: fresh, re-run, concurrent runners, edited files refused, failures rolled back."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from skyddat_boende import database, migrations
from skyddat_boende.config import REPO_SQL_DIR


@pytest.fixture
def sql_dir(tmp_path: Path) -> Path:
    """A private copy of the repository's migrations that a test may edit."""
    target = tmp_path / "sql"
    shutil.copytree(REPO_SQL_DIR, target)
    return target


async def _run(url: str, sql_dir: Path) -> list[str]:
    conn = await database.connect(url)
    try:
        return await migrations.migrate(conn, migrations.discover(sql_dir))
    finally:
        await conn.close()


async def test_fresh_database_gets_every_migration_then_rerun_applies_nothing(create_database, sql_dir):
    url = await create_database()
    expected = [m.label for m in migrations.discover(sql_dir)]
    assert await _run(url, sql_dir) == expected
    assert await _run(url, sql_dir) == []
    conn = await database.connect(url)
    try:
        rows = await conn.fetch("select version, checksum from schema_migrations order by version")
        assert [r["version"] for r in rows] == [m.version for m in migrations.discover(sql_dir)]
        assert all(len(r["checksum"]) == 64 for r in rows)
    finally:
        await conn.close()


async def test_two_runners_at_once_apply_each_migration_exactly_once(create_database, sql_dir):
    url = await create_database()
    first, second = await asyncio.gather(_run(url, sql_dir), _run(url, sql_dir))
    expected = [m.label for m in migrations.discover(sql_dir)]
    # between them every migration was applied once; neither failed
    assert sorted(first + second) == sorted(expected)


async def test_edited_applied_migration_is_refused_by_name(create_database, sql_dir):
    url = await create_database()
    await _run(url, sql_dir)
    edited = sql_dir / "0002_domain.sql"
    edited.write_text(edited.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(migrations.MigrationError, match="0002_domain was edited after it was applied"):
        await _run(url, sql_dir)


async def test_edited_data_file_of_applied_migration_is_refused(create_database, sql_dir):
    url = await create_database()
    await _run(url, sql_dir)
    data = sql_dir / "data" / "counties.csv"
    data.write_text(data.read_text().replace("Skåne län", "Skane lan"))
    with pytest.raises(migrations.MigrationError, match="0001_geography was edited"):
        await _run(url, sql_dir)


async def test_database_ahead_of_the_files_is_refused(create_database, sql_dir):
    url = await create_database()
    await _run(url, sql_dir)
    (sql_dir / "0003_audit.sql").unlink()
    with pytest.raises(migrations.MigrationError, match="0003_audit is applied in the database but has no file"):
        await _run(url, sql_dir)


async def test_failing_migration_leaves_nothing_half_applied(create_database, sql_dir):
    url = await create_database()
    await _run(url, sql_dir)
    # the first statement would succeed on its own; the second fails, so both must be rolled back
    (sql_dir / "9001_broken.sql").write_text(
        "create table half_applied (id int);\ninsert into no_such_table values (1);\n"
    )
    with pytest.raises(migrations.MigrationError, match="9001_broken failed and was rolled back"):
        await _run(url, sql_dir)
    conn = await database.connect(url)
    try:
        assert await conn.fetchval("select to_regclass('half_applied')") is None
        assert await conn.fetchval("select count(*) from schema_migrations where version = 9001") == 0
    finally:
        await conn.close()


def test_badly_named_file_is_refused(sql_dir):
    (sql_dir / "5_oops.sql").write_text("select 1;")
    with pytest.raises(migrations.MigrationError, match="5_oops.sql"):
        migrations.discover(sql_dir)


def test_load_directive_must_point_inside_the_sql_directory(sql_dir):
    (sql_dir / "9002_escape.sql").write_text("-- load ../../etc/passwd.csv into county (code, name)\n")
    with pytest.raises(migrations.MigrationError, match="not found under"):
        migrations.discover(sql_dir)
