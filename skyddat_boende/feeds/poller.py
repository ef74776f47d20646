"""Polling due feeds: claim, fetch, apply through the bulk-sync code path, record the status.

A round claims due feeds with `FOR UPDATE SKIP LOCKED` and leases them (next attempt moved LEASE ahead),
as the webhook outbox does, so two pollers never fetch the same feed at once; the job framework
(jobs.py) also runs the round in one worker at a time. A document is applied only while the lease
is still this poller's, so a poller that overran its lease cannot apply a document twice.

Each feed ends a poll with one of: a document applied (the organisation's availability replaced at once,
every unit confirmed), a freshness confirmation (304, or the same content under a new ETag: nothing
rewritten), or a failure recorded by type with exponential backoff and jitter. A feed failing longer
than the stale age lets its units go stale like any unconfirmed unit and sends `feed.stale` once.
Logs name feed ids and error types only: never URLs, secrets or document content.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg
import httpx

from skyddat_boende import audit, events
from skyddat_boende.capacity import repository as capacity
from skyddat_boende.feeds import document
from skyddat_boende.feeds.fetch import USER_AGENT, Credentials, FeedError, Fetched, Limits, fetch
from skyddat_boende.feeds.secrets import NoKey, Vault

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
"""Longer than any one fetch and apply may take (fetch.DEADLINE_SECONDS plus the write)."""
BATCH = 500
CONCURRENCY = 32
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    organisation_id: str
    url: str
    interval_seconds: int
    etag: str | None
    last_modified: str | None
    content_sha256: bytes | None
    auth_header_name: str | None
    auth_header_secret: bytes | None
    oauth_token_url: str | None
    oauth_client_id: str | None
    oauth_client_secret: bytes | None
    oauth_scope: str | None
    consecutive_failures: int
    lease: datetime


def backoff(failures: int, interval_seconds: int) -> timedelta:
    """After the `failures`-th failure in a row: the feed's interval doubling each time, at most 6 h
    (never less than the interval), +-20% jitter so feeds failing together do not return together."""
    base = min(timedelta(seconds=interval_seconds) * 2 ** max(failures - 1, 0), max(MAX_BACKOFF,
               timedelta(seconds=interval_seconds)))
    return base * random.uniform(0.8, 1.2)


async def poll_round(pool: asyncpg.Pool, vault: Vault, limits: Limits, stale_hours: int,
                     *, now: datetime | None = None, batch: int = BATCH) -> int:
    """Poll every feed due at `now` (up to `batch`), at most CONCURRENCY at once; how many were polled."""
    now = now or datetime.now(timezone.utc)
    claimed = await _claim(pool, now, batch)
    if not claimed:
        return 0
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(follow_redirects=False, timeout=limits.timeout,
                                 headers={"User-Agent": USER_AGENT}) as client:
        async def one(feed: Claimed) -> None:
            async with gate:
                await poll_one(pool, client, vault, limits, stale_hours, feed)

        await asyncio.gather(*(one(feed) for feed in claimed))
    return len(claimed)


async def _claim(pool: asyncpg.Pool, now: datetime, limit: int) -> list[Claimed]:
    lease = now + LEASE
    rows = await pool.fetch(
        """update availability_feed f set next_attempt_at = $3
             from (select id from availability_feed where active and next_attempt_at <= $1
                    order by next_attempt_at limit $2 for update skip locked) due
            where f.id = due.id
           returning f.id, f.organisation_id, f.url, f.interval_seconds, f.etag, f.last_modified, f.content_sha256,
                     f.auth_header_name, f.auth_header_secret, f.oauth_token_url, f.oauth_client_id,
                     f.oauth_client_secret, f.oauth_scope, f.consecutive_failures, f.next_attempt_at as lease""",
        now, limit, lease,
    )
    return [Claimed(**dict(row)) for row in rows]


async def poll_one(pool: asyncpg.Pool, client: httpx.AsyncClient, vault: Vault, limits: Limits, stale_hours: int,
                   feed: Claimed) -> str:
    """Fetch and apply one claimed feed; the outcome ('applied', 'confirmed' or an error type)."""
    try:
        fetched = await fetch(client, feed.url, (feed.etag, feed.last_modified), _credentials(feed, vault), limits)
        outcome = await _apply(pool, feed, fetched)
    except FeedError as exc:
        outcome = exc.kind
    except NoKey:
        outcome = "secret_unavailable"
    except (document.InvalidDocument, ValueError) as exc:
        outcome = getattr(exc, "kind", "schema")
    except Exception as exc:  # one feed's trouble (a database hiccup) must not end the round for the others
        log.error("feed poll failed", extra={"feed_id": str(feed.id), "error_type": type(exc).__name__})
        outcome = "internal_error"
    if outcome not in ("applied", "confirmed", "lease_lost"):
        await _record_failure(pool, feed, outcome, stale_hours)
    log.info("feed polled", extra={"feed_id": str(feed.id), "outcome": outcome})
    return outcome


def _credentials(feed: Claimed, vault: Vault) -> Credentials:
    header = (feed.auth_header_name, vault.open(feed.auth_header_secret)) if feed.auth_header_name else None
    oauth = ((feed.oauth_token_url, feed.oauth_client_id, vault.open(feed.oauth_client_secret), feed.oauth_scope)
             if feed.oauth_token_url else None)
    return Credentials(header, oauth)


async def _apply(pool: asyncpg.Pool, feed: Claimed, fetched: Fetched) -> str:
    """In one transaction: a new document replaces the organisation's availability (capacity's bulk sync),
    the same document (304, or equal bytes) only confirms; then the feed's success is recorded."""
    digest = None if fetched.body is None else hashlib.sha256(fetched.body).digest()
    unchanged = fetched.body is None or digest == feed.content_sha256
    parsed = None if unchanged else document.parse(fetched.body)
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("select true from availability_feed where id = $1 and next_attempt_at = $2 "
                                   "and active for update", feed.id, feed.lease):
            return "lease_lost"  # another poller has it now (or it was deactivated): it records the outcome
        if unchanged:
            await capacity.confirm_units(conn, feed.organisation_id)
        else:
            await _replace(conn, feed, parsed)
        await conn.execute(
            """update availability_feed
                  set etag = $2, last_modified = $3, content_sha256 = coalesce($4, content_sha256),
                      last_success_at = now(), last_error = null, consecutive_failures = 0, failing_since = null,
                      stale_notified_at = null, next_attempt_at = now() + make_interval(secs => interval_seconds),
                      documents_applied = documents_applied + $5
                where id = $1""",
            feed.id, fetched.etag, fetched.last_modified, digest, 0 if unchanged else 1,
        )
    return "confirmed" if unchanged else "applied"


async def _replace(conn: asyncpg.Connection, feed: Claimed, parsed: document.FeedDocument) -> None:
    rows = await conn.fetch(
        """select u.id::text as ref, u.id from unit u join shelter s on s.id = u.shelter_id where s.operator_id = $1
           union all
           select m.external_id, m.unit_id from feed_unit_mapping m where m.feed_id = $2""",
        feed.organisation_id, feed.id,
    )
    snapshot = document.snapshot(parsed, {r["ref"]: r["id"] for r in rows})
    if snapshot is None or await capacity.replace_availability(conn, feed.organisation_id, snapshot) is None:
        raise FeedError("foreign_unit")
    await audit.record(conn, audit.SYSTEM, "feed.apply", "availability_feed", str(feed.id), "succeeded")


async def _record_failure(pool: asyncpg.Pool, feed: Claimed, kind: str, stale_hours: int) -> None:
    retry_at = datetime.now(timezone.utc) + backoff(feed.consecutive_failures + 1, feed.interval_seconds)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """update availability_feed
                  set last_error = $3, last_error_at = now(), consecutive_failures = consecutive_failures + 1,
                      failing_since = coalesce(failing_since, now()), next_attempt_at = $4
                where id = $1 and next_attempt_at = $2
               returning failing_since < now() - make_interval(hours => $5) and stale_notified_at is null as stale""",
            feed.id, feed.lease, kind, retry_at, stale_hours,
        )
        if row is not None and row["stale"]:
            await conn.execute("update availability_feed set stale_notified_at = now() where id = $1", feed.id)
            await events.publish(conn, feed.organisation_id, "feed.stale", feed_id=feed.id)


async def poll_due(pool: asyncpg.Pool, settings) -> int:
    """The worker's feed job: one round with the service's settings."""
    limits = Limits(allow_loopback_http=settings.development)
    return await poll_round(pool, Vault(settings.feed_secret_key), limits, settings.stale_after_hours)
