"""Delivering the outbox: claim due rows, POST each signed to its subscription's URL, record the outcome.

Several worker processes may deliver from one database. A claim takes due rows in a short
transaction (`FOR UPDATE SKIP LOCKED`, so two workers never claim the same row) and leases them by
moving `next_attempt_at` LEASE ahead; the HTTP calls run outside any transaction. If a process dies
mid-delivery the lease runs out and another worker sends the event again with the same id:
delivery is at least once, and receivers deduplicate on Webhook-Id.

Each destination (subscription) has at most PER_DESTINATION deliveries in flight from one worker,
and a worker at most MAX_IN_FLIGHT in all; each delivery records its own outcome as soon as it has
one, and a freed slot is filled at once. So a receiver that hangs holds its own slots until the
timeout, and every other destination's events go on being delivered meanwhile.

Signing (api_docs/webhooks.md): Webhook-Signature is `v1=` + hex HMAC-SHA256, keyed with the
subscription's secret (its UTF-8 bytes), of `{Webhook-Id}.{Webhook-Timestamp}.{body}`.

Logs name event and subscription ids, attempts and statuses: never URLs, secrets or payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import hmac
import logging
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx
import msgspec

from skyddat_boende.webhooks.destinations import pinned_destination

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
"""After this many failed attempts (about 8.5 hours with the delays below) the event is given up."""
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(seconds=60)
"""How long a claimed row is not due for other workers: longer than any one delivery may take."""
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
BATCH = 20
"""Deliveries one `deliver_due` round claims at most."""
PER_DESTINATION = 4
"""Deliveries in flight to one subscription from one worker, at most."""
MAX_IN_FLIGHT = 32
"""Deliveries in flight from one worker, at most."""
USER_AGENT = "skyddat-boende-webhooks/1"

# httpx logs every request's full URL at INFO level; a webhook URL's path or query may hold the partner's
# own token, so httpx's log lines are dropped while a webhook is being sent.
_SENDING: contextvars.ContextVar[bool] = contextvars.ContextVar("webhook_sending", default=False)


class _HideWebhookRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _SENDING.get()


@contextlib.contextmanager
def requests_unlogged() -> Iterator[None]:
    """httpx logs nothing inside (for any outgoing call whose URL may carry a partner's token: webhooks
    and pull feeds)."""
    token = _SENDING.set(True)
    try:
        yield
    finally:
        _SENDING.reset(token)


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _HideWebhookRequests) for f in _httpx_log.filters):
    _httpx_log.addFilter(_HideWebhookRequests())


class Envelope(msgspec.Struct, frozen=True):
    """The JSON body of every delivery."""

    id: str
    type: str
    created_at: str
    data: dict[str, str]


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_type: str
    payload: dict[str, str]
    created_at: datetime
    attempts: int
    url: str
    secret: str
    active: bool


def signature(secret: str, event_id: str, timestamp: str, body: bytes) -> str:
    """The Webhook-Signature header value."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 30 s doubling each time, at most 6 h, +-20% jitter
    (so that many events failing together do not all come back at once)."""
    base = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return base * random.uniform(0.8, 1.2)


async def deliver_due(
    pool: asyncpg.Pool, http_client: httpx.AsyncClient, *, now: datetime | None = None, batch: int = BATCH,
    allow_loopback_http: bool = False, timeout: httpx.Timeout = TIMEOUT,
) -> int:
    """One round: deliver up to `batch` events due at `now` (default: the current time; tests pass it to
    drive the clock), at most PER_DESTINATION to one subscription. Returns how many deliveries were
    attempted (0 when nothing was due)."""
    now = now or datetime.now(timezone.utc)
    claimed = await _claim(pool, now, batch)
    await asyncio.gather(*(_deliver(pool, http_client, row, now, allow_loopback_http, timeout) for row in claimed))
    return len(claimed)


async def _claim(pool: asyncpg.Pool, now: datetime, limit: int, in_flight: Counter[uuid.UUID] = Counter()) -> list[Claimed]:
    """Claim up to `limit` due rows, oldest first, no more for a subscription than PER_DESTINATION less
    what `in_flight` already has on the way to it."""
    busy = list(in_flight.items())
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """with busy as (
                   select * from unnest($4::uuid[], $5::int[]) as b (subscription_id, in_flight)
               ), destination as (
                   select o.subscription_id, $6 - coalesce(max(b.in_flight), 0) as free
                     from webhook_outbox o left join busy b using (subscription_id)
                    where o.delivered_at is null and o.given_up_at is null and o.next_attempt_at <= $1
                    group by o.subscription_id
               ), due as (
                   select d.id, d.next_attempt_at
                     from destination s
                     cross join lateral (
                         select id, next_attempt_at from webhook_outbox o
                          where o.subscription_id = s.subscription_id and o.delivered_at is null
                            and o.given_up_at is null and o.next_attempt_at <= $1
                          order by o.next_attempt_at
                          limit greatest(s.free, 0)
                          for update skip locked
                     ) d
                    order by d.next_attempt_at
                    limit $2
               )
               update webhook_outbox o
                  set attempts = o.attempts + 1, next_attempt_at = $1::timestamptz + $3::interval
                 from due, webhook_subscription s
                where o.id = due.id and s.id = o.subscription_id
               returning o.id, o.subscription_id, o.event_type, o.payload::text as payload, o.created_at,
                         o.attempts, s.url, s.secret, s.active""",
            now, limit, LEASE, [k for k, _ in busy], [n for _, n in busy], PER_DESTINATION,
        )
    return [Claimed(**{**dict(row), "payload": msgspec.json.decode(row["payload"])}) for row in rows]


async def _deliver(pool: asyncpg.Pool, client: httpx.AsyncClient, row: Claimed, now: datetime,
                   allow_loopback_http: bool, timeout: httpx.Timeout) -> None:
    """Send one claimed event and record the outcome."""
    status = await _send(client, row, now, allow_loopback_http, timeout)
    await _record(pool, row, status, now)


async def _send(client: httpx.AsyncClient, row: Claimed, now: datetime, allow_loopback_http: bool,
                timeout: httpx.Timeout = TIMEOUT) -> int | None:
    """The receiver's HTTP status, or None when nothing was answered (or the event was not sent)."""
    if not row.active:
        return None
    destination = await pinned_destination(row.url, allow_loopback_http=allow_loopback_http)
    if destination is None:
        log.warning("webhook destination refused: not a public address",
                    extra={"event_id": str(row.id), "subscription_id": str(row.subscription_id)})
        return None
    event_id = str(row.id)
    timestamp = str(int(now.timestamp()))
    body = msgspec.json.encode(Envelope(
        id=event_id, type=row.event_type, data=row.payload,
        created_at=row.created_at.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    ))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": event_id,
        "Webhook-Timestamp": timestamp,
        "Webhook-Signature": signature(row.secret, event_id, timestamp, body),
        "Host": destination.netloc,
    }
    sending = _SENDING.set(True)
    try:
        # stream: the status is all we need, a large or slow response body is never read
        async with client.stream("POST", destination.url, content=body, headers=headers, timeout=timeout,
                                 follow_redirects=False, extensions={"sni_hostname": destination.host}) as response:
            return response.status_code
    except httpx.HTTPError as exc:  # its text may quote the URL: only the type is logged
        log.info("webhook delivery got no answer",
                 extra={"event_id": event_id, "subscription_id": str(row.subscription_id),
                        "error_type": type(exc).__name__})
        return None
    finally:
        _SENDING.reset(sending)


async def _record(pool: asyncpg.Pool, row: Claimed, status: int | None, now: datetime) -> None:
    delivered = status is not None and 200 <= status < 300
    give_up = not delivered and (not row.active or row.attempts >= MAX_ATTEMPTS)
    retry_at = None if delivered or give_up else now + retry_delay(row.attempts)
    log.info("webhook delivery", extra={
        "event_id": str(row.id), "subscription_id": str(row.subscription_id), "attempt": row.attempts,
        "status": status, "outcome": "delivered" if delivered else "given_up" if give_up else "retry",
    })
    # `attempts = $2`: if our lease ran out and another worker claimed the row again, its result wins
    await pool.execute(
        """update webhook_outbox
              set last_status = $3, delivered_at = $4, given_up_at = $5,
                  next_attempt_at = coalesce($6, next_attempt_at)
            where id = $1 and attempts = $2 and delivered_at is null and given_up_at is null""",
        row.id, row.attempts, status, now if delivered else None, now if give_up else None, retry_at,
    )


class WebhookWorker:
    """Delivers due events as an asyncio task: claims whenever a slot is free (at most PER_DESTINATION
    per subscription, MAX_IN_FLIGHT in all), each delivery a task of its own; looks again every
    `interval` seconds, at once after `wake()` or when a delivery ends. Uses its own HTTP client: short
    timeouts, no redirects followed."""

    def __init__(self, pool: asyncpg.Pool, *, interval: float = 5.0, allow_loopback_http: bool = False,
                 timeout: httpx.Timeout = TIMEOUT) -> None:
        self.pool = pool
        self.interval = interval
        self.allow_loopback_http = allow_loopback_http
        self.timeout = timeout
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._http: httpx.AsyncClient | None = None
        self._in_flight: dict[asyncio.Task, uuid.UUID] = {}

    def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        self._http = httpx.AsyncClient(follow_redirects=False, timeout=self.timeout,
                                       headers={"User-Agent": USER_AGENT})
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Let the deliveries in flight finish (briefly), then stop. Rows still out are retried after LEASE."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self._task, timeout=self.timeout.read + 2)
            if self._in_flight:
                await asyncio.wait(list(self._in_flight), timeout=self.timeout.read + 2)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        finally:
            for task in list(self._in_flight):
                task.cancel()
            self._task = None
            if self._http is not None:
                await self._http.aclose()
                self._http = None

    async def _run(self) -> None:
        while not self._stopping:
            claimed = 0
            try:
                claimed = await self._claim_more()
            except Exception as exc:  # a database hiccup must not end the worker
                log.error("webhook delivery round failed", extra={"error_type": type(exc).__name__})
            if claimed and len(self._in_flight) < MAX_IN_FLIGHT:
                continue  # more may be due
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def _claim_more(self) -> int:
        free = MAX_IN_FLIGHT - len(self._in_flight)
        if free <= 0 or self._stopping:
            return 0
        now = datetime.now(timezone.utc)
        rows = await _claim(self.pool, now, free, Counter(self._in_flight.values()))
        for row in rows:
            task = asyncio.create_task(self._deliver(row, now))
            self._in_flight[task] = row.subscription_id
            task.add_done_callback(self._delivered)
        return len(rows)

    async def _deliver(self, row: Claimed, now: datetime) -> None:
        try:
            await _deliver(self.pool, self._http, row, now, self.allow_loopback_http, self.timeout)
        except Exception as exc:  # recorded or not, the lease brings the event back
            log.error("webhook delivery failed", extra={"event_id": str(row.id), "error_type": type(exc).__name__})

    def _delivered(self, task: asyncio.Task) -> None:
        self._in_flight.pop(task, None)
        self._wake.set()
