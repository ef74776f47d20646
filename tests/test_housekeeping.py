"""What is kept only for a while is deleted when its time is up, and nothing else."""

from __future__ import annotations

from skyddat_boende import database
from skyddat_boende.idempotency import forget_expired_keys
from skyddat_boende.web.auth import forget_expired_sessions
from skyddat_boende.webhooks.outbox import forget_finished


async def test_expired_idempotency_keys_and_ended_sessions_are_forgotten(create_migrated_database):
    conn = await database.connect(await create_migrated_database())
    try:
        for age, key in (("49 hours", "old"), ("1 hour", "fresh")):
            await conn.execute(
                "insert into idempotency_key (owner, key, fingerprint, status_code, body, created_at) "
                "values ('o', $1, repeat('a', 64), 201, '\\x7b7d', now() - $2::text::interval)", key, age)
        for byte, when in ((b"\x01", "now() - interval '1 minute'"), (b"\x02", "now() + interval '1 hour'")):
            await conn.execute(f"insert into ended_web_session values ($1, {when})", byte * 32)
        org = "kommun-1280"  # every municipality is an organisation from the start (sql/0013)
        sub = await conn.fetchval("insert into webhook_subscription (organisation_id, url, secret, event_types) "
                                  "values ($1, 'https://hooks.example/x', 'whsec_' || repeat('a', 43), '{offer.created}') returning id",
                                  org)
        for label, delivered in (("old", "now() - interval '31 days'"), ("recent", "now() - interval '1 day'"),
                                 ("pending", "null")):
            await conn.execute(
                "insert into webhook_outbox (subscription_id, organisation_id, event_type, payload, delivered_at) "
                f"values ($1, $2, 'offer.created', jsonb_build_object('offer_id', gen_random_uuid()::text), {delivered})",
                sub, org)
        await forget_expired_keys(conn)
        await forget_expired_sessions(conn)
        await forget_finished(conn)
        assert await conn.fetchval("select count(*) from webhook_outbox") == 2  # the old delivered one is gone
        assert [r["key"] for r in await conn.fetch("select key from idempotency_key")] == ["fresh"]
        assert [bytes(r[0]) for r in await conn.fetch("select token_digest from ended_web_session")] == [b"\x02" * 32]
    finally:
        await conn.close()
