"""Request-scoped dependencies handlers declare by name."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from skyddat_boende import audit

Db = NamedDependency[asyncpg.Connection]
"""The request's connection, inside the request's transaction."""


async def provide_connection(state: State, request: Request) -> AsyncGenerator[asyncpg.Connection, None]:
    """One connection and one transaction per request; an exception in the handler rolls it back.

    Audit events the handler queued (objects.audited) are written last, just before the commit, to
    audit_pending (a chainer moves them into the hash chain after the commit, sql/0038). Denials
    (objects.not_found) are written after the request's transaction, on the same connection, so they
    survive its rollback without ever waiting for a second connection."""
    async with state.pool.acquire(timeout=state.settings.db_pool_wait_seconds) as conn:
        request.state.pending_audit = []
        request.state.pending_denials = []
        try:
            async with conn.transaction():
                yield conn
                for event in request.state.pending_audit:
                    await audit.record(conn, *event)
        finally:
            if request.state.pending_denials:
                async with conn.transaction():
                    for event in request.state.pending_denials:
                        await audit.record(conn, *event)
