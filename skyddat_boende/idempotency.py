"""Idempotency-Key for POSTs (draft-ietf-httpapi-idempotency-key-header).

Policy (also in api_docs/guide.md): a key is 1-64 characters of [A-Za-z0-9_-], scoped to the caller's
organisation, client and subject. The first successful response is stored with the change, in the same
transaction, and kept for 48 hours. The same key with the same body (the same JSON value: whitespace and
the order of an object's members do not count) replays it (with `Idempotency-Replayed: true`); the same key with another body or on another operation is 422; the same
key while the first request is still running is 409. A request that fails stores nothing, so it
may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response

from skyddat_boende.identity import Principal
from skyddat_boende.objects import audited
from skyddat_boende.problems import Problem

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RETENTION = "48 hours"
REPLAYED_HEADERS = ("etag", "location")


class IdempotencyKeyInvalid(Problem):
    status, slug, title = 400, "idempotency-key-invalid", "Invalid Idempotency-Key"


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency-Key used for another request"


class IdempotencyKeyInProgress(Problem):
    status, slug, title = 409, "idempotency-key-in-progress", "A request with this Idempotency-Key is still running"


async def idempotent(
    db: asyncpg.Connection, request: Request, run: Callable[[], Awaitable[Response[Any]]]
) -> Response[Any]:
    """Run `run` once per Idempotency-Key; without the header, just run it."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return await run()
    if not KEY_PATTERN.match(key):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'.")
    principal: Principal = request.user
    owner = f"{principal.organisation_id} {principal.issuer} {principal.client_id} {principal.subject}"
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + canonical(await request.body())
    ).hexdigest()
    lock = int.from_bytes(hashlib.sha256(f"{owner}\n{key}".encode()).digest()[:8], "big", signed=True)
    if not await db.fetchval("select pg_try_advisory_xact_lock($1)", lock):
        raise IdempotencyKeyInProgress("Wait for the first request with this key to finish, then retry.")
    stored = await db.fetchrow(
        f"""select fingerprint, status_code, headers, body from idempotency_key
             where owner = $1 and key = $2 and created_at > now() - interval '{RETENTION}'""",
        owner, key,
    )
    if stored is not None:
        if stored["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used with another request body or operation.")
        headers = dict(stored["headers"]) | {"Idempotency-Replayed": "true"}
        audited(request, "replayed_response", None, outcome="allowed")  # a replay can show case data too
        return Response(bytes(stored["body"]), status_code=stored["status_code"], headers=headers,
                        media_type="application/json")
    response = await run()
    body = msgspec.json.encode(response.content)
    headers = {name: value for name, value in response.headers.items() if name.lower() in REPLAYED_HEADERS}
    await db.execute(
        """insert into idempotency_key (owner, key, fingerprint, status_code, headers, body)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (owner, key) do update
              set fingerprint = excluded.fingerprint, status_code = excluded.status_code,
                  headers = excluded.headers, body = excluded.body, created_at = now()""",
        owner, key, fingerprint, response.status_code, headers, body,
    )
    return Response(body, status_code=response.status_code, headers=dict(response.headers),
                    media_type="application/json")


def canonical(body: bytes) -> bytes:
    """The body's JSON value in one spelling (compact, object members sorted), so that a retry that
    re-serialises the same value matches; a body that is not JSON stays as sent."""
    if not body:
        return body
    try:
        return msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    except (msgspec.DecodeError, RecursionError):
        return body


async def forget_expired_keys(db: asyncpg.Connection) -> None:
    """Housekeeping: keys older than the retention are no longer kept."""
    await db.execute(f"delete from idempotency_key where created_at < now() - interval '{RETENTION}'")
