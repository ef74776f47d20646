"""Signed webhooks for partner systems: subscriptions, a transactional outbox and its delivery worker.

Other code announces a change with `outbox.enqueue(db, organisation_id, event_type, payload)` inside
the transaction of the change. Payloads carry ids only. See api_docs/webhooks.md.
"""
