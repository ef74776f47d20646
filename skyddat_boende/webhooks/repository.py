"""SQL for webhook subscriptions, always filtered by the caller's organisation."""

from __future__ import annotations

import secrets
import uuid

import asyncpg

from skyddat_boende.webhooks.schemas import WebhookCreated, WebhookRead

MAX_ACTIVE_PER_ORGANISATION = 10  # also enforced by the trigger webhook_subscription_limit
_COLUMNS = "id, url, event_types, active, created_at"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def active_count(db: asyncpg.Connection, organisation_id: str) -> int:
    return await db.fetchval(
        "select count(*) from webhook_subscription where organisation_id = $1 and active", organisation_id
    )


async def create(db: asyncpg.Connection, organisation_id: str, url: str, event_types: list[str]) -> WebhookCreated:
    row = await db.fetchrow(
        f"""insert into webhook_subscription (organisation_id, url, secret, event_types)
            values ($1, $2, $3, $4) returning {_COLUMNS}, secret""",
        organisation_id, url, new_secret(), event_types,
    )
    return WebhookCreated(**dict(row))


async def list_for(db: asyncpg.Connection, organisation_id: str, limit: int, offset: int) -> list[WebhookRead]:
    rows = await db.fetch(
        f"""select {_COLUMNS} from webhook_subscription where organisation_id = $1
            order by created_at, id limit $2 offset $3""",
        organisation_id, limit, offset,
    )
    return [WebhookRead(**dict(row)) for row in rows]


async def get(db: asyncpg.Connection, organisation_id: str, subscription_id: uuid.UUID) -> WebhookRead | None:
    row = await db.fetchrow(
        f"select {_COLUMNS} from webhook_subscription where id = $1 and organisation_id = $2",
        subscription_id, organisation_id,
    )
    return WebhookRead(**dict(row)) if row else None


async def deactivate(db: asyncpg.Connection, organisation_id: str, subscription_id: uuid.UUID) -> bool:
    """False when the organisation has no such subscription. Its undelivered events are given up."""
    found = await db.fetchval(
        """update webhook_subscription set active = false, deactivated_at = coalesce(deactivated_at, now())
            where id = $1 and organisation_id = $2 returning true""",
        subscription_id, organisation_id,
    )
    if not found:
        return False
    await db.execute(
        """update webhook_outbox set given_up_at = now()
            where subscription_id = $1 and delivered_at is null and given_up_at is null""",
        subscription_id,
    )
    return True
