"""Rate limits that hold across processes: a one-minute window per caller in PostgreSQL.

Two limits, both counted by one upsert per check (`_COUNT`): every `/api` call counts against its client
address before the token is looked at (so unauthenticated and invalid-token floods are refused before any
signature is checked), and a verified call also against its client. Each caller's window starts with
its first call and lasts a minute; a caller over the limit is told how long until its window ends. A
fixed window lets a caller make up to twice the limit across two consecutive windows; the limits are
guards against runaway or hostile callers, not billing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math

import asyncpg
import msgspec

from skyddat_boende.identity import Principal

POOL_SIZE = 4
"""Connections a process counts calls on (app.py): a count is one short statement."""

WINDOW_SECONDS = 60
"""The window's length (the SQL below says '1 minute'), and so the longest Retry-After."""

# One statement per check: counts the call in the caller's window (starting a new window when the
# last one has ended) and returns the count and the seconds left in the window. Its commit does not wait
# for the disk (synchronous_commit off for this transaction only): every call from one address counts on
# one row, whose lock each count holds until its commit, so waiting for the disk there would queue every
# call of every process behind the disk, while a crash loses at most the last moment's counts.
_COUNT = """
with asynchronous as (select set_config('synchronous_commit', 'off', true))
insert into rate_limit_window as w (bucket, window_start, calls)
select $1, statement_timestamp(), 1 from asynchronous
on conflict (bucket) do update set
    calls = case when w.window_start > statement_timestamp() - interval '1 minute' then w.calls + 1 else 1 end,
    window_start = case when w.window_start > statement_timestamp() - interval '1 minute' then w.window_start
                        else statement_timestamp() end
returning calls, extract(epoch from window_start + interval '1 minute' - statement_timestamp())::float8 as seconds_left
"""


class RateLimiter:
    def __init__(self, pool: asyncpg.Pool, *, per_address: int, per_client: int, pool_wait: float = 10) -> None:
        self.pool, self.per_address, self.per_client = pool, per_address, per_client
        self.pool_wait = pool_wait
        """How long a count waits for a pooled connection (then TimeoutError: 503), like a request does."""

    async def address_wait(self, host: str | None) -> int:
        """0 when a call from this client address may go ahead (it is counted); else seconds to wait."""
        return await self._wait("address " + address_key(host), self.per_address)

    async def client_wait(self, principal: Principal) -> int:
        """The same for a verified caller (see `client_key`)."""
        return await self._wait("client " + client_key(principal), self.per_client)

    async def _wait(self, caller: str, limit: int) -> int:
        bucket = hashlib.sha256(caller.encode()).digest()
        async with self.pool.acquire(timeout=self.pool_wait) as conn:
            calls, left = await conn.fetchrow(_COUNT, bucket)
        return 0 if calls <= limit else max(1, math.ceil(left))


def address_key(host: str | None) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64, which one subscriber usually holds whole."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def client_key(principal: Principal) -> str:
    """A partner system is one client; people sharing a client (the web login) each count alone."""
    parts = [principal.issuer, principal.client_id] + ([] if principal.is_machine else [principal.subject])
    return msgspec.json.encode(parts).decode()  # unambiguous whatever the claims contain


async def forget_ended_windows(db: asyncpg.Connection) -> None:
    """Housekeeping: windows that have ended count for nothing."""
    await db.execute("delete from rate_limit_window where window_start < now() - interval '1 minute'")
