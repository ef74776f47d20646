"""Placement steps shared by the API and the web pages: the shelter records check-in and move-out; the
placing municipality's social worker reads the address. Each is audited exactly once, in the request's
transaction, and a denied read is audited too."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Request

from skyddat_boende import events, workflow
from skyddat_boende.objects import audited, not_found, shown
from skyddat_boende.placements import repository
from skyddat_boende.placements.schemas import PlacementRead, ShelterAddress
from skyddat_boende.problems import Conflict
from skyddat_boende.retries import retrying

EVENTS = {"checked_in": "placement.checked_in", "moved_out": "placement.moved_out"}


async def transition(
    db: asyncpg.Connection, request: Request, placement_id: uuid.UUID, to: str, planned_end=None
) -> PlacementRead:
    """Move a placement in the caller's operator's unit to `to`; NotFound or Conflict otherwise."""
    operator = request.user.organisation_id
    outcome = await retrying(db, workflow.move_placement, operator, placement_id, to, planned_end)
    if outcome == "missing":
        raise await not_found(request, "placement", placement_id)
    if outcome == "conflict":
        raise Conflict(f"The placement cannot move to {to.replace('_', ' ')} from its current state.")
    audited(request, "placement", placement_id)
    placement = await repository.get(db, operator, False, True, placement_id)
    await events.publish(db, placement.placing_municipality, EVENTS[to], placement_id=placement_id)
    return placement


async def read_address(
    db: asyncpg.Connection, request: Request, placement_id: uuid.UUID, purpose: str
) -> ShelterAddress:
    """The address for the caller's municipality (placement_address() decides), audited either way,
    with the reason the social worker gave."""
    found = await repository.address(db, request.user.organisation_id, placement_id)
    return await shown(request, "shelter_address", placement_id, found, purpose=purpose)
