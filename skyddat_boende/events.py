"""Domain events for partner systems, written to the webhook outbox inside the change's transaction."""

from __future__ import annotations

import uuid

import asyncpg

from skyddat_boende.webhooks import outbox


async def publish(db: asyncpg.Connection, organisation_id: str, event_type: str, **ids: uuid.UUID | str) -> None:
    """Ids only (request_id, offer_id, placement_id, unit_id, shelter_id): never case details or addresses."""
    await outbox.enqueue(db, organisation_id, event_type, {key: str(value) for key, value in ids.items()})


async def units_changed(db: asyncpg.Connection, operator_id: str, units) -> None:
    """unit.changed for each of `units` (rows with `id` and `shelter_id`), to the operator that owns them:
    every path that creates or changes a unit (API, bulk sync, feed, web page) comes through here."""
    await outbox.enqueue_many(db, operator_id, "unit.changed",
                              [{"unit_id": str(u["id"]), "shelter_id": str(u["shelter_id"])} for u in units])
