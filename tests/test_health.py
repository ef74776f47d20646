"""Health, readiness, problem+json and the body limit, in-process and over real HTTP."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database, migrations
from skyddat_boende.app import create_app
from skyddat_boende.config import REPO_SQL_DIR, Settings
from skyddat_boende.web.common import SECURITY_HEADERS
from tests.helpers import running_server

PROBLEM = "application/problem+json"


async def test_health_and_ready_when_migrations_are_current(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["migrations_applied"] >= 3


async def test_not_ready_when_a_migration_is_pending(database_url, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(REPO_SQL_DIR, sql_dir)
    (sql_dir / "9999_future.sql").write_text("select 1;\n")
    async with AsyncTestClient(app=create_app(Settings(sql_dir=sql_dir), database_url=database_url)) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "1 migration(s) not applied yet."
    # liveness does not depend on the database
    async with AsyncTestClient(app=create_app(Settings(sql_dir=sql_dir), database_url=database_url)) as client:
        assert (await client.get("/health")).status_code == 200


async def test_not_ready_when_the_database_goes_away(create_database, server_url):
    url = await create_database()
    conn = await database.connect(url)
    await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
    await conn.close()
    async with AsyncTestClient(app=create_app(Settings(), database_url=url)) as client:
        assert (await client.get("/ready")).status_code == 200
        admin = await asyncpg.connect(server_url)
        dbname = urlsplit(url).path.lstrip("/")
        await admin.execute(f'drop database "{dbname}" with (force)')
        await admin.close()
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "type": "https://skyddat-boende.se/problems/unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "The database is not reachable.",
    }


async def test_unknown_route_and_wrong_method_are_problem_json(client):
    missing = await client.get("/no/such/route")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
    assert missing.json()["status"] == 404 and missing.json()["type"] == "about:blank"
    wrong = await client.post("/health")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"].startswith(PROBLEM)


async def test_schema_page_and_document(client):
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "<script" not in page.text  # nothing loaded from a CDN
    assert "/ready" in page.text
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert "/health" in document["paths"]


@pytest.mark.parametrize("path", ["/schema", "/schema/openapi.json", "/schema/no-such-page", "/schema/guide"])
async def test_schema_pages_carry_the_pages_security_headers(client, path):
    """Input: GET on the API reference, its JSON document and an unknown path under /schema: each answer
    has the headers every HTML page has (before, /schema had none), and the reference's style still loads
    under that policy (from /static, not inline)."""
    response = await client.get(path)
    expected = dict((name.decode(), value.decode()) for name, value in SECURITY_HEADERS)
    for name, value in expected.items():
        assert response.headers.get(name) == value, (path, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    if path == "/schema":
        assert "<style" not in response.text and 'href="/static/schema.css"' in response.text
        assert (await client.get("/static/schema.css")).status_code == 200


async def test_the_guides_are_pages_beside_the_reference(client):
    """The partner guide, the feed and the webhook documents are served as HTML under /schema: linked from
    the reference, linking to each other's pages (not to .md files), with no script and no raw HTML
    passed through from the Markdown."""
    assert 'href="/schema/guide"' in (await client.get("/schema")).text
    for name, heading in (("guide", "Push, pull or both"), ("feeds", "How it is fetched"), ("webhooks", "unit.changed")):
        page = await client.get(f"/schema/{name}")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"], name
        assert heading in page.text and "<script" not in page.text and "<style" not in page.text
    assert '<a href="/schema/feeds">pull feeds</a>' in (await client.get("/schema/guide")).text


def test_markdown_raw_html_is_escaped():
    """Input: a document holding a script tag: rendered as text, never as markup."""
    from skyddat_boende.docs_pages import render_markdown

    html = render_markdown("# T\n\n<script>alert(1)</script> see [feeds](feeds.md#status)")
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="/schema/feeds#status"' in html


def test_real_http_server_serves_health_ready_and_limits_body(database_url):
    with running_server({"DATABASE_URL": database_url, "SB_MAX_BODY_BYTES": "2048"}) as base:
        assert httpx.get(base + "/health").json() == {"status": "ok"}
        assert httpx.get(base + "/ready").status_code == 200
        # a 4 KiB body against a 2 KiB limit: refused before any handler runs
        too_big = httpx.post(base + "/health", content=b"x" * 4096, headers={"content-type": "application/json"})
        assert too_big.status_code in (405, 413)


async def test_every_connection_runs_without_jit(database_url):
    # PostgreSQL's default is jit=on: a short statement whose estimate passes jit_above_cost would
    # spend hundreds of milliseconds compiling while holding its locks
    conn = await database.connect(database_url)
    try:
        assert await conn.fetchval("show jit") == "off"
    finally:
        await conn.close()
    pool = await database.create_pool(database_url, max_size=2, service_role=True)
    try:
        async with pool.acquire() as pooled:
            assert await pooled.fetchval("show jit") == "off"
    finally:
        await pool.close()
