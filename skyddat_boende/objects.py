"""Answering for objects the caller may not see, and auditing every change."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Request

from skyddat_boende import audit
from skyddat_boende.access import actor_of, handler_action, record_denial
from skyddat_boende.problems import NotFound


async def not_found(request: Request, object_type: str, object_id: uuid.UUID | str) -> NotFound:
    """Audit the denied lookup, then give the caller the same 404 whether the object exists or not."""
    await record_denial(request, request.user, handler_action(request.route_handler), object_type, str(object_id))
    return NotFound(f"No {object_type.replace('_', ' ')} with that id is available to you.")


async def audited(
    db: asyncpg.Connection, request: Request, object_type: str, object_id: uuid.UUID | str | None,
    outcome: audit.Outcome = "succeeded",
) -> None:
    """Record a change (or, with outcome 'allowed', a read of sensitive data) in the request's transaction."""
    await audit.record(db, actor_of(request.user), handler_action(request.route_handler), object_type,
                       None if object_id is None else str(object_id), outcome)
