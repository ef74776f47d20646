"""Delivering the outbox: claim due rows, POST each signed to its subscription's URL, record the outcome.

Several service processes may run workers on one database. A round claims due rows in a short
transaction (`FOR UPDATE SKIP LOCKED`, so two workers never claim the same row) and leases them by
moving `next_attempt_at` LEASE ahead; the HTTP calls run outside any transaction. If a process dies
mid-delivery the lease runs out and another worker sends the event again with the same id:
delivery is at least once, and receivers deduplicate on Webhook-Id.

Signing (api_docs/webhooks.md): Webhook-Signature is `v1=` + hex HMAC-SHA256, keyed with the
subscription's secret (its UTF-8 bytes), of `{Webhook-Id}.{Webhook-Timestamp}.{body}`.

Logs name event and subscription ids, attempts and statuses: never URLs, secrets or payloads.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import logging
import random
import uuid
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
USER_AGENT = "skyddat-boende-webhooks/1"

# httpx logs every request's full URL at INFO level; a webhook URL's path or query may hold the partner's
# own token, so httpx's log lines are dropped while a webhook is being sent.
_SENDING: contextvars.ContextVar[bool] = contextvars.ContextVar("webhook_sending", default=False)


class _HideWebhookRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _SENDING.get()


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
    allow_loopback_http: bool = False,
) -> int:
    """One round: deliver up to `batch` events due at `now` (default: the current time; tests pass it to
    drive the clock). Returns how many deliveries were attempted (0 when nothing was due)."""
    now = now or datetime.now(timezone.utc)
    claimed = await _claim(pool, now, batch)
    if not claimed:
        return 0
    statuses = await asyncio.gather(*(_send(http_client, row, now, allow_loopback_http) for row in claimed))
    await _record(pool, claimed, statuses, now)
    return len(claimed)


async def _claim(pool: asyncpg.Pool, now: datetime, batch: int) -> list[Claimed]:
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """with due as (
                   select id from webhook_outbox
                    where delivered_at is null and given_up_at is null and next_attempt_at <= $1
                    order by next_attempt_at
                    limit $2
                    for update skip locked
               )
               update webhook_outbox o
                  set attempts = o.attempts + 1, next_attempt_at = $1::timestamptz + $3::interval
                 from due, webhook_subscription s
                where o.id = due.id and s.id = o.subscription_id
               returning o.id, o.subscription_id, o.event_type, o.payload::text as payload, o.created_at,
                         o.attempts, s.url, s.secret, s.active""",
            now, batch, LEASE,
        )
    return [Claimed(**{**dict(row), "payload": msgspec.json.decode(row["payload"])}) for row in rows]


async def _send(client: httpx.AsyncClient, row: Claimed, now: datetime, allow_loopback_http: bool) -> int | None:
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
        async with client.stream("POST", destination.url, content=body, headers=headers, timeout=TIMEOUT,
                                 follow_redirects=False, extensions={"sni_hostname": destination.host}) as response:
            return response.status_code
    except httpx.HTTPError as exc:  # its text may quote the URL: only the type is logged
        log.info("webhook delivery got no answer",
                 extra={"event_id": event_id, "subscription_id": str(row.subscription_id),
                        "error_type": type(exc).__name__})
        return None
    finally:
        _SENDING.reset(sending)


async def _record(pool: asyncpg.Pool, claimed: list[Claimed], statuses: list[int | None], now: datetime) -> None:
    updates = []
    for row, status in zip(claimed, statuses):
        delivered = status is not None and 200 <= status < 300
        give_up = not delivered and (not row.active or row.attempts >= MAX_ATTEMPTS)
        retry_at = None if delivered or give_up else now + retry_delay(row.attempts)
        updates.append((row.id, row.attempts, status, now if delivered else None, now if give_up else None, retry_at))
        log.info("webhook delivery", extra={
            "event_id": str(row.id), "subscription_id": str(row.subscription_id), "attempt": row.attempts,
            "status": status, "outcome": "delivered" if delivered else "given_up" if give_up else "retry",
        })
    async with pool.acquire() as conn:
        # `attempts = $2`: if our lease ran out and another worker claimed the row again, its result wins
        await conn.executemany(
            """update webhook_outbox
                  set last_status = $3, delivered_at = $4, given_up_at = $5,
                      next_attempt_at = coalesce($6, next_attempt_at)
                where id = $1 and attempts = $2 and delivered_at is null and given_up_at is null""",
            updates,
        )


class WebhookWorker:
    """Runs `deliver_due` every `interval` seconds as an asyncio task (started in the app's lifespan).
    `wake()` starts a round at once. Uses its own HTTP client: short timeouts, no redirects followed."""

    def __init__(self, pool: asyncpg.Pool, *, interval: float = 5.0, allow_loopback_http: bool = False) -> None:
        self.pool = pool
        self.interval = interval
        self.allow_loopback_http = allow_loopback_http
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._http: httpx.AsyncClient | None = None

    def start(self) -> None:
        if self._task is not None:
            return
        self._stopping = False
        self._http = httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT,
                                       headers={"User-Agent": USER_AGENT})
        self._task = asyncio.create_task(self._run(), name="webhook-worker")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Finish the round in progress (briefly), then stop. Rows it had claimed are retried after LEASE."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(self._task, timeout=TIMEOUT.read + 2)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self._task = None
            if self._http is not None:
                await self._http.aclose()
                self._http = None

    async def _run(self) -> None:
        while not self._stopping:
            attempted = 0
            try:
                attempted = await deliver_due(self.pool, self._http, allow_loopback_http=self.allow_loopback_http)
            except Exception as exc:  # a database hiccup must not end the worker
                log.error("webhook delivery round failed", extra={"error_type": type(exc).__name__})
            if attempted >= BATCH or self._stopping:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
