"""Bodies for feed registration and status. Secrets go in, never out."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from skyddat_boende.webhooks.destinations import MAX_URL_LENGTH

FeedUrl = Annotated[str, Meta(min_length=10, max_length=MAX_URL_LENGTH, examples=["https://partner.example/feed.json"],
                              description="https only; no user info or fragment; a public host")]
ExternalId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,100}$")]


class SecretHeader(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9-]{1,64}$", examples=["X-Feed-Key"])]
    value: Annotated[str, Meta(min_length=16, max_length=500, pattern=r"^[\x21-\x7e]+$")]


class OAuthClient(msgspec.Struct, forbid_unknown_fields=True):
    """OAuth 2 client credentials at the partner's own issuer."""

    token_url: FeedUrl
    client_id: Annotated[str, Meta(min_length=1, max_length=200)]
    client_secret: Annotated[str, Meta(min_length=8, max_length=500)]
    scope: Annotated[str, Meta(max_length=200)] | None = None


class FeedCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: FeedUrl
    interval_seconds: Annotated[int, Meta(ge=60, le=86400)] = 300
    secret_header: SecretHeader | None = None
    oauth: OAuthClient | None = None
    unit_ids: Annotated[dict[ExternalId, uuid.UUID], Meta(max_length=5000)] = {}
    """Your own stable unit ids, each mapped once to one of this service's unit ids."""

    example: ClassVar[dict] = {
        "url": "https://booking.partner.example/feeds/skyddat-boende.json", "interval_seconds": 300,
        "secret_header": {"name": "X-Feed-Key", "value": "a-long-random-secret-shared-with-you"},
        "unit_ids": {"hus-b-lgh-3": "6f0c2a4e-1b7d-4c1e-9a51-2d8f3b6e7a10"},
    }


class FeedRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    organisation_id: str
    url: str
    interval_seconds: int
    auth: str
    """'none', 'secret_header' or 'oauth' (the secrets themselves are never shown)."""
    active: bool
    created_at: dt.datetime
    last_success_at: dt.datetime | None
    last_error: str | None
    """The type of the last failure (e.g. timeout, http_500, too_large, invalid_json, schema,
    foreign_unit, redirect_not_followed, address_refused), never its content; null after a success."""
    last_error_at: dt.datetime | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    next_attempt_at: dt.datetime
    documents_applied: int
    stale: bool
    """Failing for longer than the stale age: its units are shown as unconfirmed."""


class FeedStatus(msgspec.Struct, frozen=True):
    """One organisation's feed, as national follow-up sees it."""

    organisation_id: str
    last_success_at: dt.datetime | None
    last_error: str | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    next_attempt_at: dt.datetime
    stale: bool
