"""Pull feeds against real local HTTP feed servers: a first fetch, a 304, a changed document, every bad
input of issue 25, a failing feed turning stale with its webhook, and two pollers on the same feeds."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import msgspec
import pytest

from skyddat_boende import database
from skyddat_boende.feeds import document, repository
from skyddat_boende.feeds.poller import poll_round
from skyddat_boende.feeds.schemas import FeedCreate
from skyddat_boende.feeds.secrets import Vault
from skyddat_boende.webhooks import repository as webhooks
from skyddat_boende.webhooks.delivery import deliver_due
from tests.feed_support import TEST_LIMITS, Server, partner
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
    assert asyncio.get_running_loop().time() - started < 4  # the slow feed is cut off at its deadline
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
