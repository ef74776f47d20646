"""Webhooks: subscriptions over the API, the transactional outbox, and signed delivery to a real
HTTP receiver on 127.0.0.1 (allowed because the test app runs with SB_ENV=development)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.webhooks import outbox
from skyddat_boende.webhooks.delivery import MAX_ATTEMPTS, PER_DESTINATION, WebhookWorker, deliver_due
from skyddat_boende.webhooks.destinations import checked_url, normalised_url, pinned_destination
from tests import factories
from tests.conftest import make_app
from tests.helpers import chain_audit
from tests.webhook_support import Receiver, verify


def soon() -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=1)


@pytest.fixture(scope="module")
async def hooks_url(create_migrated_database) -> str:
    """A database of this module's own, so that no other test's outbox rows are delivered here."""
    return await create_migrated_database()


@pytest.fixture(scope="module")
async def pool(hooks_url):
    created = await database.create_pool(hooks_url)
    yield created
    await created.close()


@pytest.fixture(autouse=True)
async def nothing_left_pending(pool):
    yield
    await pool.execute("update webhook_outbox set given_up_at = now() where delivered_at is null and given_up_at is null")


@pytest.fixture
async def api(hooks_url, issuer):
    """The app with its background worker stopped: these tests drive delivery themselves. (The test client
    runs the app, its lifespan and so its worker on an event loop of its own: reach it through the portal.)"""
    async with AsyncTestClient(app=make_app(hooks_url, issuer)) as client:
        client.blocking_portal.call(client.app.state.webhook_worker.stop)
        yield client


@pytest.fixture
async def orgs(pool) -> tuple[str, str]:
    async with pool.acquire() as conn:
        return (await factories.operator_org(conn, f"wh-{uuid.uuid4().hex[:8]}"),
                await factories.operator_org(conn, f"wh-{uuid.uuid4().hex[:8]}"))


@pytest.fixture
async def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


async def subscribe(api, tokens, org: str, url: str, types=("offer.created", "offer.accepted")) -> dict:
    response = await api.post("/api/webhooks", json={"url": url, "event_types": list(types)},
                              headers=tokens.headers("org_admin", org))
    assert response.status_code == 201, response.text
    return response.json()


async def enqueue_committed(pool, org: str, event_type: str, payload: dict[str, str]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await outbox.enqueue(conn, org, event_type, payload)


async def test_create_shows_the_secret_once_lists_without_it_and_is_audited(api, tokens, orgs, pool, receiver):
    """Input: POST /api/webhooks with an org_admin token; then GET list and GET one."""
    org, _ = orgs
    created = await subscribe(api, tokens, org, receiver.url)
    assert created["secret"].startswith("whsec_") and created["active"] is True
    assert created["event_types"] == ["offer.accepted", "offer.created"]
    admin = tokens.headers("org_admin", org)
    listed = await api.get("/api/webhooks", headers=admin)
    one = await api.get(f"/api/webhooks/{created['id']}", headers=admin)
    assert listed.status_code == one.status_code == 200
    assert [item["id"] for item in listed.json()] == [created["id"]]
    assert created["secret"] not in listed.text + one.text and "secret" not in one.json()
    await chain_audit(pool)
    audited = await pool.fetchval(
        "select count(*) from audit_event where action = 'api.create_webhook' and object_id = $1 "
        "and outcome = 'succeeded'", created["id"])
    assert audited == 1


async def test_committed_event_is_delivered_once_signed_and_logs_nothing_secret(
        api, tokens, orgs, pool, receiver, http, caplog):
    """Input: enqueue offer.created {offer_id, request_id} in a committed transaction, plus an event type
    the subscription did not ask for (unit.changed); then two delivery rounds."""
    org, _ = orgs
    created = await subscribe(api, tokens, org, receiver.url)
    offer_id, request_id = str(uuid.uuid4()), str(uuid.uuid4())
    await enqueue_committed(pool, org, "offer.created", {"offer_id": offer_id, "request_id": request_id})
    await enqueue_committed(pool, org, "unit.changed", {"unit_id": str(uuid.uuid4())})  # not subscribed

    with caplog.at_level(logging.DEBUG):
        assert await deliver_due(pool, http, now=soon(), allow_loopback_http=True) == 1
        assert await deliver_due(pool, http, now=soon() + timedelta(hours=1), allow_loopback_http=True) == 0

    assert len(receiver.requests) == 1
    headers, body, path = receiver.requests[0]
    assert path == "/hooks?token=querysecret"
    assert verify(created["secret"], headers, body)
    assert not verify("whsec_" + "x" * 43, headers, body)
    assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 60
    envelope = json.loads(body)
    assert envelope == {"id": headers["Webhook-Id"], "type": "offer.created", "created_at": envelope["created_at"],
                        "data": {"offer_id": offer_id, "request_id": request_id}}
    row = await pool.fetchrow("select attempts, last_status, delivered_at from webhook_outbox where id = $1",
                              uuid.UUID(headers["Webhook-Id"]))
    assert row["attempts"] == 1 and row["last_status"] == 200 and row["delivered_at"] is not None
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "delivered" in logged and headers["Webhook-Id"] in logged
    assert created["secret"] not in logged and "querysecret" not in logged and "/hooks" not in logged


async def test_rolled_back_transaction_leaves_no_event(api, tokens, orgs, pool, receiver, http):
    """Input: enqueue offer.accepted, then an error rolls the transaction back."""
    org, _ = orgs
    created = await subscribe(api, tokens, org, receiver.url)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, org, "offer.accepted", {"offer_id": str(uuid.uuid4())})
            raise RuntimeError("the change failed")
    assert await pool.fetchval("select count(*) from webhook_outbox where subscription_id = $1",
                               uuid.UUID(created["id"])) == 0
    assert await deliver_due(pool, http, now=soon(), allow_loopback_http=True) == 0
    assert receiver.requests == []


async def test_enqueue_outside_a_transaction_is_refused(pool, orgs):
    """Input: enqueue on a connection with no transaction open (autocommit)."""
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            await outbox.enqueue(conn, orgs[0], "offer.created", {"offer_id": str(uuid.uuid4())})


async def test_500_twice_then_200_is_delivered_on_the_third_attempt_with_growing_delays(
        api, tokens, orgs, pool, http):
    """Input: a receiver answering 500, 500, 200; time driven through `now`, never slept."""
    org, _ = orgs
    receiver = Receiver(statuses=(500, 500))
    try:
        created = await subscribe(api, tokens, org, receiver.url)
        await enqueue_committed(pool, org, "offer.accepted", {"offer_id": str(uuid.uuid4())})
        now = soon()
        schedule = []
        for attempt in (1, 2):
            assert await deliver_due(pool, http, now=now, allow_loopback_http=True) == 1
            row = await pool.fetchrow("select * from webhook_outbox where subscription_id = $1",
                                      uuid.UUID(created["id"]))
            assert row["attempts"] == attempt and row["last_status"] == 500 and row["delivered_at"] is None
            schedule.append(row["next_attempt_at"] - now)
            # not due before its time
            assert await deliver_due(pool, http, now=row["next_attempt_at"] - timedelta(seconds=1),
                                     allow_loopback_http=True) == 0
            now = row["next_attempt_at"]
        assert await deliver_due(pool, http, now=now, allow_loopback_http=True) == 1
        row = await pool.fetchrow("select * from webhook_outbox where subscription_id = $1", uuid.UUID(created["id"]))
        assert row["attempts"] == 3 and row["last_status"] == 200 and row["delivered_at"] is not None
        assert timedelta(seconds=24) <= schedule[0] <= timedelta(seconds=36)  # 30 s +-20%
        assert timedelta(seconds=48) <= schedule[1] <= timedelta(seconds=72)  # 60 s +-20%
        ids = receiver.ids()
        assert len(ids) == 3 and len(set(ids)) == 1 and ids[0] == str(row["id"])  # same Webhook-Id each time
        assert all(verify(created["secret"], h, b) for h, b, _ in receiver.requests)
    finally:
        receiver.close()


async def test_gives_up_after_the_last_attempt(api, tokens, orgs, pool, http):
    """Input: a receiver that always answers 503; MAX_ATTEMPTS rounds, each at the row's next_attempt_at."""
    org, _ = orgs
    receiver = Receiver(statuses=(503,) * MAX_ATTEMPTS)
    try:
        created = await subscribe(api, tokens, org, receiver.url)
        await enqueue_committed(pool, org, "offer.created", {"offer_id": str(uuid.uuid4())})
        now = soon()
        for _ in range(MAX_ATTEMPTS):
            assert await deliver_due(pool, http, now=now, allow_loopback_http=True) == 1
            now = await pool.fetchval("select next_attempt_at from webhook_outbox where subscription_id = $1",
                                      uuid.UUID(created["id"]))
        row = await pool.fetchrow("select * from webhook_outbox where subscription_id = $1", uuid.UUID(created["id"]))
        assert row["given_up_at"] is not None and row["delivered_at"] is None and row["attempts"] == MAX_ATTEMPTS
        assert await deliver_due(pool, http, now=now + timedelta(days=1), allow_loopback_http=True) == 0
    finally:
        receiver.close()


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(api, tokens, orgs, pool, http):
    """Input: a receiver answering 302 with a Location elsewhere."""
    org, _ = orgs
    receiver = Receiver(statuses=(302,))
    try:
        created = await subscribe(api, tokens, org, receiver.url)
        await enqueue_committed(pool, org, "offer.created", {"offer_id": str(uuid.uuid4())})
        await deliver_due(pool, http, now=soon(), allow_loopback_http=True)
        row = await pool.fetchrow("select * from webhook_outbox where subscription_id = $1", uuid.UUID(created["id"]))
        assert len(receiver.requests) == 1 and row["last_status"] == 302 and row["delivered_at"] is None
    finally:
        receiver.close()


async def test_two_workers_at_once_deliver_each_event_exactly_once(api, tokens, orgs, hooks_url, http):
    """Input: 30 committed events; two workers (each with its own pool, like two processes) running
    delivery rounds of 4 concurrently against a receiver that takes 20 ms an answer."""
    org, _ = orgs
    receiver = Receiver(delay=0.02)
    pools = [await database.create_pool(hooks_url, max_size=3) for _ in range(2)]
    try:
        created = await subscribe(api, tokens, org, receiver.url)
        for _ in range(30):
            await enqueue_committed(pools[0], org, "offer.accepted", {"offer_id": str(uuid.uuid4())})
        now = soon()

        async def worker(worker_pool) -> int:
            total = 0
            while attempted := await deliver_due(worker_pool, http, now=now, batch=4, allow_loopback_http=True):
                total += attempted
            return total

        done = await asyncio.gather(*(worker(p) for p in pools))
        ids = receiver.ids()
        assert sum(done) == 30 and all(n > 0 for n in done), done
        assert len(ids) == 30 and len(set(ids)) == 30
        delivered = await pools[0].fetchval(
            "select count(*) from webhook_outbox where subscription_id = $1 and delivered_at is not null "
            "and attempts = 1", uuid.UUID(created["id"]))
        assert delivered == 30
    finally:
        receiver.close()
        for p in pools:
            await p.close()


@pytest.mark.parametrize(
    ("event_type", "payload", "what"),
    [
        ("offer.created", {"unit_id": "Provgatan 1, 111 22 Stockholm"}, "an address as an id value"),
        ("offer.created", {"address": str(uuid.uuid4())}, "a key outside the allow-list"),
        ("offer.created", {"case_reference": "CASE-00001"}, "a case reference"),
        ("offer.created", {"request_id": "19800101-1234"}, "a personal identity number"),
        ("offer.created", {"unit_id": 42}, "a number, not a UUID string"),
        ("offer.created", {"unit_id": {"street": "Provgatan 1"}}, "a nested object"),
        ("offer.created", [("unit_id", str(uuid.uuid4()))], "not a dict"),
        ("offer.moved", {"offer_id": str(uuid.uuid4())}, "an unknown event type"),
        ("webhook.test", {"subscription_id": str(uuid.uuid4())}, "the test event, which only the API sends"),
    ],
)
async def test_payload_guard_refuses_anything_but_allow_listed_ids(api, tokens, orgs, pool, receiver,
                                                                   event_type, payload, what):
    """Input: `what`, enqueued for an organisation with an active subscription; nothing may be written."""
    org, _ = orgs
    await subscribe(api, tokens, org, receiver.url, types=("offer.created",))
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(ValueError) as refused:
            await outbox.enqueue(conn, org, event_type, payload)
        assert "Provgatan" not in str(refused.value) and "19800101" not in str(refused.value)
        assert await conn.fetchval("select count(*) from webhook_outbox where organisation_id = $1", org) == 0


async def test_database_refuses_a_payload_with_details_even_bypassing_enqueue(api, tokens, orgs, pool, receiver):
    """Input: a direct INSERT of {"unit_id": <address>} and of {"case_reference": ...} into webhook_outbox."""
    org, _ = orgs
    created = await subscribe(api, tokens, org, receiver.url)
    for payload in ('{"unit_id": "Provgatan 1"}', '{"case_reference": "CASE-1"}', '["x"]'):
        with pytest.raises(asyncpg.CheckViolationError):
            await pool.execute(
                "insert into webhook_outbox (subscription_id, organisation_id, event_type, payload) "
                "values ($1, $2, 'offer.created', $3::text::jsonb)", uuid.UUID(created["id"]), org, payload)


async def test_another_organisations_admin_gets_404_and_changes_nothing(api, tokens, orgs, pool, receiver):
    """Input: org B's org_admin GETs, DELETEs and tests org A's subscription; and an unknown id."""
    mine, theirs = orgs
    created = await subscribe(api, tokens, mine, receiver.url)
    other = tokens.headers("org_admin", theirs)
    url = f"/api/webhooks/{created['id']}"
    answers = [await api.get(url, headers=other), await api.delete(url, headers=other),
               await api.post(url + "/test", headers=other)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert (await api.get(f"/api/webhooks/{uuid.uuid4()}", headers=other)).json() == answers[0].json()
    assert (await api.get("/api/webhooks", headers=other)).json() == []
    still = await api.get(url, headers=tokens.headers("org_admin", mine))
    assert still.json()["active"] is True
    assert await pool.fetchval("select count(*) from webhook_outbox where subscription_id = $1",
                               uuid.UUID(created["id"])) == 0
    await chain_audit(pool)
    denied = await pool.fetchval("select count(*) from audit_event where object_id = $1 and outcome = 'denied'",
                                 created["id"])
    assert denied == 3


async def test_social_worker_and_shelter_staff_get_403(api, tokens, orgs, receiver):
    """Input: /api/webhooks list and create with a social worker's and a shelter staff token."""
    for headers in (tokens.social_worker("1280"), tokens.staff(orgs[0])):
        assert (await api.get("/api/webhooks", headers=headers)).status_code == 403
        created = await api.post("/api/webhooks", headers=headers,
                                 json={"url": receiver.url, "event_types": ["offer.created"]})
        assert created.status_code == 403


#: 127.0.0.1 and ::1 as resolvers and IPv6 also spell them; the last is a name (a full-width digit) that
#: the resolver maps to 127.0.0.1 (IDNA folds it to ASCII), found only by resolving it at registration.
LOOPBACK_SPELLINGS = [
    "https://127.1/hooks", "https://0x7f.0.0.1/hooks", "https://0177.0.0.1/hooks", "https://2130706433/hooks",
    "https://0x7f000001/hooks", "https://127.0.0.1./hooks", "https://[::ffff:127.0.0.1]/hooks",
    "https://[::ffff:7f00:1]/hooks", "https://[::127.0.0.1]/hooks", "https://[0:0:0:0:0:0:0:1]/hooks",
    "https://[64:ff9b::7f00:1]/hooks", "https://[2002:7f00:1::]/hooks", "https://[::ffff:0:7f00:1]/hooks",
    "https://10.1/hooks", "https://0/hooks", "https://127.0.0.\uff11/hooks",
]


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("http://partner.example/hooks", "plain http to a public host"),
        ("https://10.0.0.5/hooks", "a private address"),
        ("https://169.254.169.254/latest/meta-data", "the cloud metadata address"),
        ("https://[::1]/hooks", "IPv6 loopback"),
        ("https://intranet/hooks", "a single-label name"),
        ("https://user:pass@partner.example/hooks", "credentials in the URL"),
        ("https://partner.example/hooks#frag", "a fragment"),
        ("ftp://partner.example/hooks", "another scheme"),
        ("https://partner.example/" + "a" * 500, "longer than 500 characters"),
        *[(url, "loopback in another spelling") for url in LOOPBACK_SPELLINGS],
    ],
)
async def test_bad_destination_urls_are_refused(api, tokens, orgs, url, what):
    """Input: `what` as the URL of a new subscription."""
    response = await api.post("/api/webhooks", headers=tokens.headers("org_admin", orgs[0]),
                              json={"url": url, "event_types": ["offer.created"]})
    assert response.status_code in (400, 422), what
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "user:pass" not in response.text and "meta-data" not in response.text  # the URL is never echoed


def test_loopback_http_only_in_development_and_hosts_are_lowercased():
    """Input: http://127.0.0.1 with and without the development allowance; a mixed-case https URL."""
    assert normalised_url("http://127.0.0.1:8080/h", allow_loopback_http=True) == "http://127.0.0.1:8080/h"
    for url in ("http://127.0.0.1:8080/h", "https://localhost/h"):
        with pytest.raises(ValueError):
            normalised_url(url, allow_loopback_http=False)
    assert normalised_url("HTTPS://Partner.Example/Path?Q=1", allow_loopback_http=False) == \
        "https://partner.example/Path?Q=1"


async def test_database_check_refuses_plain_http_and_bad_event_types(pool, orgs):
    """Input: direct INSERTs of http://partner.example, an unknown event type, 21 event types."""
    secret = "whsec_" + "a" * 43
    for url, types in (("http://partner.example/h", ["offer.created"]), ("https://p.example/h", ["offer.moved"]),
                       ("https://p.example/h", ["offer.created"] * 21), ("https://p.example/h", ["webhook.test"])):
        with pytest.raises(asyncpg.CheckViolationError):
            await pool.execute("insert into webhook_subscription (organisation_id, url, secret, event_types) "
                               "values ($1, $2, $3, $4)", orgs[0], url, secret, types)


async def test_at_most_ten_active_subscriptions(api, tokens, orgs, receiver):
    """Input: eleven creations by one organisation; then one deletion and a twelfth creation."""
    admin = tokens.headers("org_admin", orgs[0])
    ids = [(await subscribe(api, tokens, orgs[0], receiver.url))["id"] for _ in range(10)]
    eleventh = await api.post("/api/webhooks", headers=admin, json={"url": receiver.url, "event_types": ["offer.created"]})
    assert eleventh.status_code == 409
    assert (await api.delete(f"/api/webhooks/{ids[0]}", headers=admin)).status_code == 204
    await subscribe(api, tokens, orgs[0], receiver.url)


async def test_test_event_and_deactivation(api, tokens, orgs, pool, receiver, http):
    """Input: POST /test on an active subscription (delivered as webhook.test); an offer.created left
    pending, then DELETE (the pending event is dropped), then POST /test again (409)."""
    org, _ = orgs
    admin = tokens.headers("org_admin", org)
    created = await subscribe(api, tokens, org, receiver.url)
    url = f"/api/webhooks/{created['id']}"
    queued = await api.post(url + "/test", headers=admin)
    assert queued.status_code == 202
    await deliver_due(pool, http, now=soon(), allow_loopback_http=True)
    headers, body, _ = receiver.requests[0]
    assert verify(created["secret"], headers, body)
    assert json.loads(body)["type"] == "webhook.test" and headers["Webhook-Id"] == queued.json()["event_id"]
    assert json.loads(body)["data"] == {"subscription_id": created["id"]}

    await enqueue_committed(pool, org, "offer.created", {"offer_id": str(uuid.uuid4())})
    assert (await api.delete(url, headers=admin)).status_code == 204
    assert (await api.get(url, headers=admin)).json()["active"] is False
    assert await deliver_due(pool, http, now=soon(), allow_loopback_http=True) == 0
    assert len(receiver.requests) == 1
    assert (await api.post(url + "/test", headers=admin)).status_code == 409
    await enqueue_committed(pool, org, "offer.created", {"offer_id": str(uuid.uuid4())})  # nobody listens now
    assert await pool.fetchval("select count(*) from webhook_outbox where subscription_id = $1 "
                               "and delivered_at is null and given_up_at is null", uuid.UUID(created["id"])) == 0


async def test_the_apps_background_worker_delivers(hooks_url, issuer, tokens, orgs, pool, receiver):
    """Input: the app's own lifespan worker running; an event committed, then the worker woken."""
    org, _ = orgs
    async with AsyncTestClient(app=make_app(hooks_url, issuer)) as client:
        created = await subscribe(client, tokens, org, receiver.url)
        await enqueue_committed(pool, org, "offer.created", {"offer_id": str(uuid.uuid4())})
        client.blocking_portal.call(client.app.state.webhook_worker.wake)
        for _ in range(100):
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
    assert len(receiver.requests) == 1
    assert verify(created["secret"], *receiver.requests[0][:2])


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
async def test_registration_and_delivery_judge_every_spelling_alike(url):
    """Input: each loopback spelling, at registration (checked_url, with and without the development
    allowance for loopback http) and at delivery (pinned_destination): refused by both."""
    for allow in (False, True):
        with pytest.raises(ValueError):
            await checked_url(url, allow_loopback_http=allow)
        with pytest.raises(ValueError):
            await checked_url(url.replace("https://", "http://"), allow_loopback_http=allow)
    assert await pinned_destination(url, allow_loopback_http=False) is None


async def test_registration_keeps_public_addresses_and_unresolved_names():
    """Input: public addresses (also as a decimal number, in IPv6, and as the NAT64 address a DNS64
    resolver answers for a public IPv4 one), and a name that does not resolve here (accepted: each
    delivery resolves it again)."""
    for url in ("https://8.8.8.8/h", "https://134744072/h", "https://[2001:4860:4860::8888]/h",
                "https://[64:ff9b::808:808]/h", "https://partner.example/h"):
        assert await checked_url(url, allow_loopback_http=False) == url


async def test_delivery_connects_to_the_checked_address_not_a_second_lookup():
    """DNS rebinding: the name is resolved once and the request goes to that checked address, with the
    name kept for Host and TLS. Tried: a public address literal, private and loopback literals."""
    public = await pinned_destination("https://8.8.8.8:8443/hook?x=1", allow_loopback_http=False)
    assert public is not None
    assert public.url == "https://8.8.8.8:8443/hook?x=1" and public.host == "8.8.8.8"
    assert public.netloc == "8.8.8.8:8443"
    for inside in ("https://10.0.0.5/hook", "https://127.0.0.1/hook", "https://[::1]/hook", "https://169.254.1.1/x"):
        assert await pinned_destination(inside, allow_loopback_http=False) is None, inside
    # the development exception stays what it was: plain http to loopback only in development
    dev = await pinned_destination("http://127.0.0.1:9999/hook", allow_loopback_http=True)
    assert dev is not None and dev.url == "http://127.0.0.1:9999/hook"


async def test_a_hanging_receiver_delays_only_its_own_events(api, tokens, orgs, pool):
    """Input: 25 events for a receiver that hangs without answering (until the test lets it go), then 5
    for a healthy one, and the worker's timeout far longer than the test waits: the healthy receiver
    must get its events while every call to the hanging one is still unanswered, and the hanging one
    must see no more calls at once than its bound."""
    hanging_org, healthy_org = orgs
    let_go = threading.Event()
    hanging, healthy = Receiver(hold=let_go), Receiver()
    worker = WebhookWorker(pool, allow_loopback_http=True, timeout=httpx.Timeout(120.0, connect=3.0))
    try:
        await subscribe(api, tokens, hanging_org, hanging.url)
        await subscribe(api, tokens, healthy_org, healthy.url)
        for _ in range(25):  # older: a worker taking the oldest due events first meets these first
            await enqueue_committed(pool, hanging_org, "offer.created", {"offer_id": str(uuid.uuid4())})
        for _ in range(5):
            await enqueue_committed(pool, healthy_org, "offer.created", {"offer_id": str(uuid.uuid4())})
        worker.start()
        deadline = time.monotonic() + 30
        while len(healthy.requests) < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(healthy.requests) == 5
        assert hanging.requests == [] and hanging.arrived == PER_DESTINATION
    finally:
        let_go.set()
        await worker.stop()
        hanging.close()
        healthy.close()
