"""Request-scoped dependencies handlers declare by name."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency

Db = NamedDependency[asyncpg.Connection]
"""The request's connection, inside the request's transaction."""


async def provide_connection(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """One connection and one transaction per request; an exception in the handler rolls it back."""
    async with state.pool.acquire() as conn, conn.transaction():
        yield conn
