"""Liveness and readiness, for orchestrators and load balancers. No authentication, no data."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from skyddat_boende import migrations
from skyddat_boende.problems import RETRY_AFTER, ServiceUnavailable, problem_responses


class Health(msgspec.Struct, frozen=True):
    status: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    migrations_applied: int


class HealthController(Controller):
    tags = ["operations"]

    @get("/health", summary="The process is alive", description="Always 200 while the process serves requests.")
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        summary="Ready to serve: database reachable and migrations current",
        responses=problem_responses(503),
    )
    async def ready(self, state: State) -> Readiness:
        pool: asyncpg.Pool = state.pool
        try:
            async with pool.acquire(timeout=2) as conn:
                todo = await migrations.pending(conn, state.migrations)
        except migrations.MigrationError as exc:
            raise ServiceUnavailable(str(exc), headers=dict(RETRY_AFTER)) from None
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            raise ServiceUnavailable("The database is not reachable.", headers=dict(RETRY_AFTER)) from None
        if todo:
            raise ServiceUnavailable(f"{len(todo)} migration(s) not applied yet.", headers=dict(RETRY_AFTER))
        return Readiness(status="ready", migrations_applied=len(state.migrations))
