"""The command line: its error paths are one clear line and a non-zero exit."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from skyddat_boende.app import create_app
from skyddat_boende.cli import openapi_document
from skyddat_boende.config import REPO_SQL_DIR, Settings
from tests.helpers import REPO_ROOT, chain_audit, cli, free_port


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_unreachable_database_url_is_one_line_and_exit_2():
    # nothing listens on this port: connection refused
    url = f"postgresql://someone:secret-password@127.0.0.1:{free_port()}/nowhere"
    for command in (["migrate"], ["serve"], ["demo-data"]):
        result = cli(*command, env={"DATABASE_URL": url})
        assert result.returncode == 2
        line = _one_error_line(result.stderr)
        assert line.startswith("skyddat-boende: error: cannot connect to PostgreSQL at 127.0.0.1:")
        assert "secret-password" not in result.stderr


def test_malformed_database_url_is_one_line():
    result = cli("migrate", env={"DATABASE_URL": "postgresql://[not-a-host"})
    assert result.returncode == 2
    assert _one_error_line(result.stderr).startswith("skyddat-boende: error: cannot connect to PostgreSQL")


def test_serve_refuses_a_database_whose_history_differs_and_names_the_migration(database_url, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(REPO_SQL_DIR, sql_dir)
    edited = sql_dir / "0003_audit.sql"
    edited.write_text(edited.read_text().replace("Audit events", "Audit  events"))
    result = cli("serve", "--port", str(free_port()), env={"DATABASE_URL": database_url, "SB_SQL_DIR": str(sql_dir)})
    assert result.returncode == 2
    assert "0003_audit was edited after it was applied" in _one_error_line(result.stderr)


async def test_migrate_check_reports_pending_then_migrate_applies_them(create_database):
    url = await create_database()
    check = await asyncio.to_thread(cli, "migrate", "--check", env={"DATABASE_URL": url})
    assert check.returncode == 1
    assert "pending: 0001_geography" in check.stdout
    applied = await asyncio.to_thread(cli, "migrate", env={"DATABASE_URL": url})
    assert applied.returncode == 0, applied.stderr
    assert "0001_geography, 0002_domain, 0003_audit" in applied.stdout
    again = await asyncio.to_thread(cli, "migrate", "--check", env={"DATABASE_URL": url})
    assert again.returncode == 0 and again.stdout == ""


def test_bad_setting_is_named():
    result = cli("migrate", env={"SB_PORT": "eighty", "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"})
    assert result.returncode == 2
    assert _one_error_line(result.stderr) == "skyddat-boende: error: SB_PORT must be a whole number, got 'eighty'"


def test_unknown_command_exits_non_zero():
    result = cli("fly")
    assert result.returncode != 0
    assert "invalid choice" in result.stderr


def test_exported_openapi_document_is_current():
    """CI fails when api_docs/openapi.json is stale: run `skyddat-boende openapi` after changing the API."""
    committed = (Path(REPO_ROOT) / "api_docs" / "openapi.json").read_text()
    assert committed == openapi_document(create_app(Settings())), "api_docs/openapi.json is stale"


def test_container_setting_forbids_the_embedded_database_without_database_url():
    result = cli("migrate", env={"SB_EMBEDDED_DATABASE": "never", "DATABASE_URL": ""})
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in _one_error_line(result.stderr)


async def test_audit_verify_reports_intact_then_the_tampered_event(create_migrated_database):
    from skyddat_boende import audit, database

    url = await create_migrated_database()
    conn = await database.connect(url)
    try:
        for i in range(3):
            await audit.record(conn, audit.SYSTEM, "test.event", "batch", str(i), "succeeded")
        assert await conn.fetchval("select count(*) from audit_pending") == 3
        intact = await asyncio.to_thread(cli, "audit", "verify", env={"DATABASE_URL": url})  # chains them first
        assert intact.returncode == 0 and "audit chain intact: 3 events, 0 committed since" in intact.stdout
        await conn.execute("alter table audit_event disable trigger audit_event_append_only")
        await conn.execute("update audit_event set object_id = '99' where seq = 2")
        broken = await asyncio.to_thread(cli, "audit", "verify", env={"DATABASE_URL": url})
    finally:
        await conn.close()
    assert broken.returncode == 1
    assert "BROKEN at event 2" in broken.stdout


def test_development_tools_refuse_production(tmp_path):
    env = {"SB_ENV": "production", "SB_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    issuer = cli("dev-issuer", "--port", str(free_port()), env=env)
    assert issuer.returncode == 2 and "SB_ENV=development" in _one_error_line(issuer.stderr)


def test_token_command_prints_a_token_the_dev_issuer_signed(tmp_path):
    import json

    from skyddat_boende.identity.dev_issuer import DevIssuer

    keys = tmp_path / "dev-issuer"
    with DevIssuer(keys) as issuer:
        issuer.announce()
        result = cli("token", "--role", "social_worker", "--org", "kommun-1280",
                     env={"SB_ENV": "development", "SB_DATA_DIR": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip()
        import base64

        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert payload["iss"] == issuer.url and payload["org"] == "kommun-1280"
        assert payload["roles"] == ["social_worker"]
    machine = cli("token", "--org", "operator-x", env={"SB_ENV": "development", "SB_DATA_DIR": str(tmp_path)})
    assert machine.returncode == 2 and "--scope" in _one_error_line(machine.stderr)


async def test_municipalities_are_organisations_and_operators_are_registered_by_cli(create_migrated_database):
    from skyddat_boende import database

    url = await create_migrated_database()
    env = {"DATABASE_URL": url}
    args = ["organisation", "add", "--id", "operator-jouren-lund", "--kind", "association",
            "--name", "Jouren i Lund", "--municipality", "1281", "--ivo-permit", "IVO 3.5.1-1234/2025"]
    added = await asyncio.to_thread(cli, *args, env=env)
    assert added.returncode == 0, added.stderr
    again = await asyncio.to_thread(cli, *args, env=env)
    assert again.returncode == 2 and "registered already" in _one_error_line(again.stderr)
    bad = await asyncio.to_thread(cli, *(args[:3] + ["operator-x-1", "--kind", "company", "--name", "X AB",
                                                     "--municipality", "9999", "--ivo-permit", "IVO 1"]), env=env)
    assert bad.returncode == 2 and "refused by the database's rules" in _one_error_line(bad.stderr)
    conn = await database.connect(url)
    try:
        assert await conn.fetchval("select count(*) from organisation where kind = 'municipality'") == 290
        assert await conn.fetchval("select kind from organisation where id = 'operator-jouren-lund'") == "association"
        # the registration is in the audit trail (once: the refused attempts wrote nothing)
        await chain_audit(conn)
        assert await conn.fetch("select actor_subject, action, object_id, outcome from audit_event "
                                "where object_type = 'organisation'") == [
            ("cli", "cli.organisation_add", "operator-jouren-lund", "succeeded")]
    finally:
        await conn.close()
