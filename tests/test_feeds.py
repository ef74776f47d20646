"""Pull feeds against real local HTTP feed servers: a first fetch, a 304, a changed document, every bad
input of issue 25, a failing feed turning stale with its webhook, and two pollers on the same feeds."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database, jobs
from skyddat_boende.config import Settings
from skyddat_boende.feeds import document, repository
from skyddat_boende.feeds.poller import poll_round
from skyddat_boende.feeds.schemas import FeedCreate
from skyddat_boende.feeds.secrets import Vault
from skyddat_boende.jobs import Jobs
from skyddat_boende.webhooks import repository as webhooks
from skyddat_boende.webhooks.delivery import deliver_due
from tests.conftest import make_app
from tests.helpers import REPO_ROOT, child_env
from tests.feed_support import TEST_LIMITS, FaultyHandler, Server, partner
from tests.webhook_support import Receiver

KEY = Vault.new_key()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
async def feeds_url(create_migrated_database) -> str:
    return await create_migrated_database()


@pytest.fixture(scope="module")
async def pool(feeds_url):
    created = await database.create_pool(feeds_url)
    yield created
    await created.close()


@pytest.fixture
def server(tmp_path):
    started = Server(tmp_path)
    yield started
    started.close()


async def register(pool, org: str, url: str, **fields) -> uuid.UUID:
    async with pool.acquire() as conn, conn.transaction():
        feed = await repository.create(conn, org, url, msgspec.convert({"url": url, **fields}, FeedCreate),
                                       Vault(KEY), 24)
    return feed.id


async def poll(pool, *feed_ids: uuid.UUID) -> int:
    for feed_id in feed_ids:
        await repository.make_due(pool, None, feed_id)
    return await poll_round(pool, Vault(KEY), TEST_LIMITS, 24)


async def units_of(pool, unit_ids) -> dict[uuid.UUID, tuple[str, int]]:
    rows = await pool.fetch("select id, status, version from unit where id = any($1::uuid[])", unit_ids)
    return {r["id"]: (r["status"], r["version"]) for r in rows}


async def status(pool, feed_id: uuid.UUID):
    return await repository.get(pool, None, feed_id, 24)


async def test_first_fetch_then_304_then_a_changed_document(pool, server):
    """Input: a document naming two units (one by this service's id, one by the partner's own id mapped
    at registration; the third unit unlisted), the same again (304), then one unit changed."""
    async with pool.acquire() as conn:
        org, units = await partner(conn)
    url = server.publish("a.json", [(str(units[0]), 2), ("partner-7", 0)])
    feed = await register(pool, org, url, unit_ids={"partner-7": str(units[1])})
    assert await poll(pool, feed) == 1
    first = await units_of(pool, units)
    assert [first[u][0] for u in units] == ["available", "occupied", "out_of_service"]
    after_first = await status(pool, feed)
    assert after_first.documents_applied == 1 and after_first.last_error is None and after_first.last_success_at

    confirmed_before = await pool.fetchval("select min(availability_confirmed_at) from unit where id = any($1)", units)
    assert await poll(pool, feed) == 1
    assert await units_of(pool, units) == first  # a 304 rewrites nothing
    assert await pool.fetchval("select min(availability_confirmed_at) from unit where id = any($1)", units) > confirmed_before
    assert (await status(pool, feed)).documents_applied == 1
    assert server.headers_seen[-1].get("If-None-Match")

    server.publish("a.json", [(str(units[0]), 0), ("partner-7", 0)])
    await poll(pool, feed)
    changed = await units_of(pool, units)
    assert changed[units[0]] == ("occupied", first[units[0]][1] + 1)
    assert changed[units[1]] == first[units[1]] and changed[units[2]] == first[units[2]]
    assert (await status(pool, feed)).documents_applied == 2


BAD = {
    "timeout": ("slow", None),
    "http_500": ("error", None),
    "too_large": ("huge", None),
    "redirect_not_followed": ("redirect", None),
    "invalid_json": (None, b'{"format": "skyddat-boende-feed/1", "service_capacity": ['),
    "schema": (None, b'{"format": "skyddat-boende-feed/1", "service_capacity": [{"unit": {"id": "x"}, '
                     b'"available": 5, "maximum": 2, "updated": "2026-01-01T00:00:00Z"}]}'),
}


@pytest.mark.parametrize("kind", [*BAD, "foreign_unit"])
async def test_each_bad_feed_is_recorded_changes_nothing_and_stalls_no_other_feed(pool, server, kind):
    """Input: a feed that times out, answers 500, sends 50 MB, redirects to 10.0.0.1, sends broken JSON,
    breaks the schema, or names another organisation's unit; in the same round a healthy feed of
    another organisation."""
    async with pool.acquire() as conn:
        org, units = await partner(conn)
        other, other_units = await partner(conn)
    server.publish("bad.json", [(str(units[0]), 1)])
    if kind == "foreign_unit":
        server.publish("bad.json", [(str(units[0]), 1), (str(other_units[0]), 1)])
    else:
        fault, body = BAD[kind]
        if fault:
            server.faults["/bad.json"] = fault
        else:
            (server.root / "bad.json").write_bytes(body)
    bad = await register(pool, org, server.url("bad.json"))
    good = await register(pool, other, server.publish("good.json", [(str(u), 0) for u in other_units]))
    before = await units_of(pool, units + other_units)
    started = asyncio.get_running_loop().time()
    assert await poll(pool, bad, good) == 2
    assert asyncio.get_running_loop().time() - started < 6  # the slow feed (10 s) is cut off at its deadline
    after = await units_of(pool, units + other_units)
    assert {u: after[u] for u in units} == {u: before[u] for u in units}
    assert {after[u][0] for u in other_units} == {"occupied"}
    recorded = await status(pool, bad)
    assert (recorded.last_error, recorded.consecutive_failures, recorded.documents_applied) == (kind, 1, 0)
    assert recorded.next_attempt_at > recorded.last_error_at and recorded.last_success_at is None
    assert (await status(pool, good)).last_error is None


async def test_a_new_etag_without_new_content_only_confirms(pool, server):
    """Input: the server sends the same bytes under a different ETag on every request."""
    async with pool.acquire() as conn:
        org, units = await partner(conn)
    feed = await register(pool, org, server.publish("e.json", [(str(u), 1) for u in units]))
    server.faults["/e.json"] = "new_etag"
    await poll(pool, feed)
    first = await units_of(pool, units)
    await poll(pool, feed)
    assert await units_of(pool, units) == first
    recorded = await status(pool, feed)
    assert recorded.documents_applied == 1 and recorded.last_error is None


async def test_a_failing_feed_turns_stale_and_tells_the_organisation_once(pool, server):
    """Input: a feed answering 500 for longer than the stale age (its first failure moved back 25 hours)."""
    async with pool.acquire() as conn:
        org, units = await partner(conn)
        receiver = Receiver()
        await webhooks.create(conn, org, receiver.url, ["feed.stale"])
    try:
        feed = await register(pool, org, server.publish("s.json", [(str(u), 1) for u in units]))
        await poll(pool, feed)
        server.faults["/s.json"] = "error"
        await poll(pool, feed)
        assert (await status(pool, feed)).stale is False
        await pool.execute("update availability_feed set failing_since = now() - interval '25 hours' where id = $1", feed)
        await pool.execute("update unit set availability_confirmed_at = now() - interval '25 hours' "
                           "where id = any($1)", units)
        await poll(pool, feed)
        await poll(pool, feed)
        recorded = await status(pool, feed)
        assert recorded.stale and recorded.consecutive_failures == 3
        stale_units = await pool.fetchval("select count(*) from unit where id = any($1) and "
                                          "availability_confirmed_at < now() - interval '24 hours'", units)
        assert stale_units == len(units)
        async with httpx.AsyncClient() as http:
            await deliver_due(pool, http, allow_loopback_http=True)
        bodies = [json.loads(body) for _, body, _ in receiver.requests]
        assert [(b["type"], b["data"]) for b in bodies] == [("feed.stale", {"feed_id": str(feed)})]
    finally:
        receiver.close()


async def test_two_pollers_on_the_same_feeds_apply_each_document_once(feeds_url, pool, server):
    """Input: twenty due feeds and two pollers, each with its own connection pool, polling at once."""
    feeds = []
    async with pool.acquire() as conn:
        for i in range(20):
            org, units = await partner(conn, units=2)
            feeds.append(await register(pool, org, server.publish(f"p{i}.json", [(str(u), 1) for u in units])))
    second = await database.create_pool(feeds_url)
    try:
        vault = Vault(KEY)
        counts = await asyncio.gather(poll_round(pool, vault, TEST_LIMITS, 24), poll_round(second, vault, TEST_LIMITS, 24))
    finally:
        await second.close()
    assert sum(counts) == 20
    assert [(await status(pool, f)).last_error for f in feeds] == [None] * 20
    assert [(await status(pool, f)).documents_applied for f in feeds] == [1] * 20
    assert all(server.requests[f"/p{i}.json"] == 1 for i in range(20))


async def test_the_published_schema_and_example_match_the_validator():
    """The JSON Schema in api_docs is what the validator's types generate; the example passes it."""
    published = json.loads((ROOT / "api_docs/feed.schema.json").read_text())
    assert published == document.json_schema()
    example = document.parse((ROOT / "api_docs/feed-example.json").read_bytes())
    assert len(example.service_capacity) >= 2


@pytest.fixture
async def api(feeds_url, issuer):
    async with AsyncTestClient(app=make_app(feeds_url, issuer, run_jobs=False, feed_secret_key=KEY)) as client:
        yield client


async def test_registration_over_the_api_keeps_the_secret_sealed_and_checks_its_input(api, tokens, pool, server,
                                                                                      caplog):
    """Input: a feed with a secret header (never shown again, not stored in the clear, sent to the feed),
    then a second feed (409), a private address and another organisation's unit in the mapping (422),
    shelter staff (403); national follow-up reads the overview without ids or URLs."""
    async with pool.acquire() as conn:
        org, units = await partner(conn)
        other, other_units = await partner(conn)
    admin = tokens.headers("org_admin", org)
    secret = "feed-secret-" + uuid.uuid4().hex
    url = server.publish("api.json", [("own-1", 1)])
    body = {"url": url, "interval_seconds": 120, "secret_header": {"name": "X-Feed-Key", "value": secret},
            "unit_ids": {"own-1": str(units[0])}}
    created = await api.post("/api/feeds", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert secret not in created.text and created.json()["auth"] == "secret_header"
    feed = uuid.UUID(created.json()["id"])
    stored = await pool.fetchval("select auth_header_secret from availability_feed where id = $1", feed)
    assert secret.encode() not in bytes(stored)
    with caplog.at_level(logging.DEBUG):
        assert await poll(pool, feed) == 1
    assert server.headers_seen[-1]["X-Feed-Key"] == secret
    assert "feed polled" in caplog.text and secret not in caplog.text and "api.json" not in caplog.text
    read = await api.get(f"/api/feeds/{feed}", headers=admin)
    assert read.json()["documents_applied"] == 1 and secret not in read.text

    assert (await api.post("/api/feeds", json=body, headers=admin)).status_code == 409
    other_admin = tokens.headers("org_admin", other)
    for bad in ({"url": "https://10.0.0.1/feed.json"}, {"url": "http://feeds.example/f.json"},
                {"url": url, "unit_ids": {"theirs": str(units[0])}}):
        refused = await api.post("/api/feeds", json=bad, headers=other_admin)
        assert refused.status_code == 422, (bad, refused.text)
    assert await pool.fetchval("select count(*) from availability_feed where organisation_id = $1", other) == 0
    assert (await api.get(f"/api/feeds/{feed}", headers=other_admin)).status_code == 404
    assert (await api.get("/api/feeds", headers=tokens.staff(org))).status_code == 403
    overview = await api.get("/api/feeds/overview", headers=tokens.headers("national_followup", "nat-uppfoljning"))
    assert overview.status_code == 200 and str(feed) not in overview.text and url not in overview.text
    assert org in {row["organisation_id"] for row in overview.json()}


async def test_a_feed_document_emits_unit_changed(pool, server):
    """Input: a subscriber to unit.changed; a feed document changing one of two units."""
    async with pool.acquire() as conn:
        org, units = await partner(conn, units=2)
        receiver = Receiver()
        await webhooks.create(conn, org, receiver.url, ["unit.changed"])
    try:
        feed = await register(pool, org, server.publish("u.json", [(str(units[0]), 0), (str(units[1]), 1)]))
        await poll(pool, feed)
        async with httpx.AsyncClient() as http:
            await deliver_due(pool, http, allow_loopback_http=True)
        bodies = [json.loads(body) for _, body, _ in receiver.requests]
        assert [(b["type"], b["data"]["unit_id"]) for b in bodies] == [("unit.changed", str(units[0]))]
    finally:
        receiver.close()


async def test_oauth_client_credentials_fetch_a_token_first(pool, tmp_path):
    """Input: a feed behind OAuth 2 client credentials: the token endpoint (a real local server) must see
    the client's credentials, and the feed the bearer token it issued; a wrong secret is recorded."""
    seen: list[tuple[str, dict, bytes]] = []

    class Issuer(FaultyHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append((self.path, dict(self.headers), body))
            good = base64.b64encode(b"partner-client:partner-secret-1").decode()
            if self.headers.get("Authorization") != f"Basic {good}":
                return self._answer(401, b'{"error": "invalid_client"}', {"Content-Type": "application/json"})
            self._answer(200, b'{"access_token": "tok-123", "token_type": "Bearer", "expires_in": 300}',
                         {"Content-Type": "application/json"})

    server = Server(tmp_path)
    server.RequestHandlerClass = Issuer
    try:
        async with pool.acquire() as conn:
            org, units = await partner(conn, units=1)
            other, other_units = await partner(conn, units=1)
        oauth = {"token_url": server.url("token"), "client_id": "partner-client", "client_secret": "partner-secret-1"}
        good = await register(pool, org, server.publish("o.json", [(str(units[0]), 1)]), oauth=oauth)
        bad = await register(pool, other, server.publish("o2.json", [(str(other_units[0]), 1)]),
                             oauth=oauth | {"client_secret": "wrong-secret"})
        assert await poll(pool, good, bad) == 2
        assert (await status(pool, good)).documents_applied == 1
        assert (await status(pool, bad)).last_error == "oauth_token_refused"
        assert b"grant_type=client_credentials" in seen[0][2]
        feed_headers = [h for h in server.headers_seen if h.get("Authorization", "").startswith("Bearer")]
        assert [h["Authorization"] for h in feed_headers] == ["Bearer tok-123"]
    finally:
        server.close()


def _cli(*args: str, env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skyddat_boende", "feed", *args], cwd=REPO_ROOT,
                          env=child_env(env), input=stdin, capture_output=True, text=True, timeout=60)


async def test_cli_adds_lists_and_polls_a_feed(feeds_url, pool, server):
    """Input: `feed add` with the header secret on stdin, `feed list`, `feed poll-now --org`; and `feed add`
    of a private address (one error line, exit 2)."""
    async with pool.acquire() as conn:
        org, units = await partner(conn, units=1)
    env = {"DATABASE_URL": feeds_url, "SB_ENV": "development", "SB_FEED_SECRET_KEY": KEY}
    secret = "cli-secret-" + uuid.uuid4().hex
    url = server.publish("cli.json", [("theirs-1", 0)])
    added = await asyncio.to_thread(_cli, "add", "--org", org, "--url", url, "--secret-header", "X-Key",
                                    "--map", f"theirs-1={units[0]}", env=env, stdin=secret + "\n")
    assert added.returncode == 0, added.stderr
    listed = await asyncio.to_thread(_cli, "list", "--org", org, env=env)
    assert listed.returncode == 0 and secret not in listed.stdout
    assert json.loads(listed.stdout.splitlines()[0])["auth"] == "secret_header"
    polled = await asyncio.to_thread(_cli, "poll-now", "--org", org, env=env)
    assert polled.returncode == 0 and "polled 1 feed(s)" in polled.stdout, polled.stderr
    assert server.headers_seen[-1]["X-Key"] == secret
    assert (await units_of(pool, units))[units[0]][0] == "occupied"
    refused = await asyncio.to_thread(_cli, "add", "--org", org, "--url", "https://192.168.1.5/f.json", env=env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1


def test_the_feeds_benchmark_runs(server_url, tmp_path):
    """`bench/feeds_bench.py --smoke`: five feeds, a full round then an all-304 round, its result written."""
    out = tmp_path / "feeds.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "feeds_bench.py"), "--smoke", "--out", str(out)],
                          cwd=ROOT, env=child_env({"DATABASE_URL": server_url}), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["documents_applied"] == 5 and result["settings"]["feeds"] == 5
    assert result["full_round_seconds"] > 0 and result["all_304_round_seconds"] > 0


async def test_two_service_processes_polling_at_once_apply_each_document_once(feeds_url, pool, server):
    """Input: twelve due feeds and two `feed poll-now` processes started together on the same database."""
    feeds, orgs = [], []
    async with pool.acquire() as conn:
        for i in range(12):
            org, units = await partner(conn, units=2)
            orgs.append(org)
            feeds.append(await register(pool, org, server.publish(f"q{i}.json", [(str(u), 1) for u in units])))
    await pool.execute("update availability_feed set next_attempt_at = now() + interval '1 day' "
                       "where not (id = any($1::uuid[]))", feeds)  # only this test's feeds are due
    env = {"DATABASE_URL": feeds_url, "SB_ENV": "development", "SB_FEED_SECRET_KEY": KEY}
    runs = await asyncio.gather(*(asyncio.to_thread(_cli, "poll-now", env=env) for _ in range(2)))
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    polled = [int(run.stdout.split("polled ")[1].split()[0]) for run in runs]
    assert sum(polled) == 12
    assert [(await status(pool, f)).documents_applied for f in feeds] == [1] * 12
    assert all(server.requests[f"/q{i}.json"] == 1 for i in range(12))


async def test_the_worker_job_polls_feeds_once_per_tick(pool, server):
    """Input: the worker's `feeds` job run for one tick by two workers: the first polls, the second does
    not run that tick again."""
    async with pool.acquire() as conn:
        org, units = await partner(conn, units=1)
    feed = await register(pool, org, server.publish("job.json", [(str(units[0]), 0)]))
    await pool.execute("update availability_feed set next_attempt_at = now() + interval '1 day' where id <> $1", feed)
    settings = Settings(environment="development", feed_secret_key=KEY)
    job = next(j for j in Jobs(pool, settings, {}).jobs if j.name == jobs.FEEDS)
    tick = jobs.tick_at(job.period, time.time())
    assert await jobs.run_tick(pool, job, tick, "worker-a") is True
    assert await jobs.run_tick(pool, job, tick, "worker-b") is False
    assert (await status(pool, feed)).documents_applied == 1
    assert (await units_of(pool, units))[units[0]][0] == "occupied"
