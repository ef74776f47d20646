"""The webhook vocabulary: event types and the only keys a payload may hold. No Litestar, no asyncpg."""

from __future__ import annotations

import re
from typing import Final, Literal

# Keep in step with is_webhook_event_type() in sql/0034_webhook_vocabulary.sql
EventType = Literal[
    "offer.created", "offer.accepted", "offer.declined", "offer.expired", "offer.withdrawn",
    "placement.checked_in", "placement.moved_out", "request.withdrawn", "request.waiting", "unit.changed",
    "feed.stale", "onward_offer.created", "onward_offer.accepted", "onward_offer.declined",
    "onward_offer.expired", "onward_offer.withdrawn", "onward.moved_in",
]
EVENT_TYPES: Final[frozenset[str]] = frozenset(EventType.__args__)
#: Sent only by POST /api/webhooks/{id}/test, to that one subscription; nobody subscribes to it.
TEST_EVENT: Final = "webhook.test"

# Keep in step with is_webhook_payload() in sql/0034_webhook_vocabulary.sql
PAYLOAD_KEYS: Final[frozenset[str]] = frozenset(
    {"request_id", "offer_id", "placement_id", "unit_id", "shelter_id", "subscription_id", "feed_id",
     "onward_request_id", "onward_offer_id", "apartment_id"}
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def checked_payload(payload: object) -> dict[str, str]:
    """The payload with its UUIDs in lower case, or ValueError. Messages name keys, never values."""
    if not isinstance(payload, dict):
        raise ValueError("a webhook payload is a dict of ids")
    if len(payload) > len(PAYLOAD_KEYS):
        raise ValueError("a webhook payload has too many keys")
    checked = {}
    for key, value in payload.items():
        if key not in PAYLOAD_KEYS:
            raise ValueError(f"webhook payload key {key!r} is not allowed; allowed: {sorted(PAYLOAD_KEYS)}")
        if not isinstance(value, str) or not _UUID.match(value.lower()):
            raise ValueError(f"webhook payload value of {key!r} must be a UUID string (8-4-4-4-12 hex)")
        checked[key] = value.lower()
    return checked
