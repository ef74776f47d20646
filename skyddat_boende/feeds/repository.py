"""SQL for feed registrations and their status, filtered by organisation (None: national follow-up)."""

from __future__ import annotations

import uuid

import asyncpg

from skyddat_boende.feeds.schemas import FeedCreate, FeedRead, FeedStatus
from skyddat_boende.feeds.secrets import Vault

STALE = "coalesce(f.failing_since < now() - make_interval(hours => $1), false)"
COLUMNS = f"""f.id, f.organisation_id, f.url, f.interval_seconds,
    case when f.oauth_token_url is not null then 'oauth'
         when f.auth_header_name is not null then 'secret_header' else 'none' end as auth,
    f.active, f.created_at, f.last_success_at, f.last_error, f.last_error_at, f.consecutive_failures,
    f.failing_since, f.next_attempt_at, f.documents_applied,
    {STALE} as stale"""


class UnitNotOwned(ValueError):
    """A mapped unit id is not one of the organisation's units."""


async def create(db: asyncpg.Connection, organisation_id: str, url: str, data: FeedCreate, vault: Vault,
                 stale_hours: int) -> FeedRead:
    """A new active feed, due at once; UnitNotOwned if `unit_ids` names another organisation's unit."""
    header, oauth = data.secret_header, data.oauth
    feed_id = await db.fetchval(
        """insert into availability_feed (organisation_id, url, interval_seconds, auth_header_name, auth_header_secret,
                                          oauth_token_url, oauth_client_id, oauth_client_secret, oauth_scope)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id""",
        organisation_id, url, data.interval_seconds, header and header.name, header and vault.seal(header.value),
        oauth and oauth.token_url, oauth and oauth.client_id, oauth and vault.seal(oauth.client_secret),
        oauth and oauth.scope,
    )
    mapped = await db.execute(
        """insert into feed_unit_mapping (feed_id, external_id, unit_id)
           select $1, m.external_id, m.unit_id
             from unnest($2::text[], $3::uuid[]) as m (external_id, unit_id)
             join unit u on u.id = m.unit_id join shelter s on s.id = u.shelter_id and s.operator_id = $4""",
        feed_id, list(data.unit_ids), list(data.unit_ids.values()), organisation_id,
    )
    if int(mapped.split()[-1]) != len(data.unit_ids):
        raise UnitNotOwned("a mapped unit is not one of your organisation's units")
    return await get(db, organisation_id, feed_id, stale_hours)


async def overview(db: asyncpg.Connection, stale_hours: int, limit: int, offset: int) -> list[FeedStatus]:
    """Every active feed's status by organisation (stale: failing longer than the stale age)."""
    rows = await db.fetch(
        f"""select f.organisation_id, f.last_success_at, f.last_error, f.consecutive_failures, f.failing_since,
                   f.next_attempt_at, {STALE} as stale
              from availability_feed f where f.active order by f.organisation_id limit $2 offset $3""",
        stale_hours, limit, offset,
    )
    return [FeedStatus(**dict(r)) for r in rows]


async def list_for(db: asyncpg.Connection, organisation_id: str | None, stale_hours: int, limit: int,
                   offset: int) -> list[FeedRead]:
    rows = await db.fetch(
        f"""select {COLUMNS} from availability_feed f where $2::text is null or f.organisation_id = $2
             order by f.organisation_id, f.created_at limit $3 offset $4""",
        stale_hours, organisation_id, limit, offset,
    )
    return [FeedRead(**dict(r)) for r in rows]


async def get(db: asyncpg.Connection, organisation_id: str | None, feed_id: uuid.UUID,
              stale_hours: int) -> FeedRead | None:
    row = await db.fetchrow(
        f"select {COLUMNS} from availability_feed f where f.id = $3 and ($2::text is null or f.organisation_id = $2)",
        stale_hours, organisation_id, feed_id,
    )
    return FeedRead(**dict(row)) if row is not None else None


async def deactivate(db: asyncpg.Connection, organisation_id: str, feed_id: uuid.UUID) -> bool:
    return await db.fetchval(
        "update availability_feed set active = false where id = $1 and organisation_id = $2 returning true",
        feed_id, organisation_id,
    ) is not None


async def make_due(db: asyncpg.Connection, organisation_id: str | None, feed_id: uuid.UUID | None = None) -> int:
    """`poll-now`: the feeds (one, an organisation's, or all) are due at the next poll round."""
    result = await db.execute(
        """update availability_feed set next_attempt_at = now()
            where active and ($1::text is null or organisation_id = $1) and ($2::uuid is null or id = $2)""",
        organisation_id, feed_id,
    )
    return int(result.split()[-1])
