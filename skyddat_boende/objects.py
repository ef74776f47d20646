"""Answering for objects the caller may not see, and auditing every change."""

from __future__ import annotations

import uuid
from typing import TypeVar

from litestar import Request

from skyddat_boende import audit
from skyddat_boende.access import actor_of, handler_action, record_denial
from skyddat_boende.problems import Conflict, NotFound

T = TypeVar("T")


async def not_found(request: Request, object_type: str, object_id: uuid.UUID | str) -> NotFound:
    """Audit the denied lookup, then give the caller the same 404 whether the object exists or not."""
    action = handler_action(request.route_handler)
    pending = getattr(request.state, "pending_denials", None)
    if pending is not None:  # written by the request's own connection after its transaction
        pending.append((actor_of(request.user), action, object_type, str(object_id), "denied"))
    else:
        await record_denial(request, request.user, action, object_type, str(object_id))
    return NotFound(f"No {object_type.replace('_', ' ')} with that id is available to you.")


async def shown(
    request: Request, object_type: str, object_id: uuid.UUID, found: T | None, purpose: str | None = None
) -> T:
    """One sensitive object read for the caller, audited as allowed (with the caller's purpose, if one is
    asked). None, another organisation's object or no such object, is the same 404, audited as denied."""
    if found is None:
        raise await not_found(request, object_type, object_id)
    audited(request, object_type, object_id, outcome="allowed", purpose=purpose)
    return found


async def changed(request: Request, object_type: str, object_id: uuid.UUID, done: bool | None, refused: str) -> None:
    """Audit a step that changed one of the caller's objects (`done` True). None, not the caller's object,
    is the same 404, audited as denied; False, the object's state does not allow the step, is a 409
    with `refused` as its detail."""
    if done is None:
        raise await not_found(request, object_type, object_id)
    if not done:
        raise Conflict(refused)
    audited(request, object_type, object_id)


def audited(
    request: Request, object_type: str, object_id: uuid.UUID | str | None, outcome: audit.Outcome = "succeeded",
    purpose: str | None = None,
) -> None:
    """Audit a change (or, with outcome 'allowed', a read of sensitive data). The event is written in the
    request's transaction, just before it commits (dependencies.provide_connection): with the change,
    or not at all."""
    pending = getattr(request.state, "pending_audit", None)
    if pending is None:
        raise RuntimeError("audited() needs the request's database transaction (the Db dependency)")
    pending.append((actor_of(request.user), handler_action(request.route_handler), object_type,
                    None if object_id is None else str(object_id), outcome, purpose))


def audited_reads(request: Request, object_type: str, objects) -> None:
    """A list of sensitive objects was shown: one 'allowed' event per object, so that "who saw case X"
    has an answer."""
    for item in objects:
        audited(request, object_type, item.id, outcome="allowed")
