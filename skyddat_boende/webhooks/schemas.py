"""Bodies for webhook subscriptions. The secret appears in one type only: the answer to creation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from skyddat_boende.webhooks.destinations import MAX_URL_LENGTH
from skyddat_boende.webhooks.events import EventType

WebhookUrl = Annotated[str, Meta(min_length=10, max_length=MAX_URL_LENGTH, examples=["https://partner.example/hooks"],
                                 description="https only; no user info or fragment; a public host")]
EventTypes = Annotated[list[EventType], Meta(min_length=1, max_length=20)]


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: WebhookUrl
    event_types: EventTypes

    example: ClassVar[dict] = {"url": "https://partner.example/hooks/skyddat-boende",
                               "event_types": ["offer.created", "offer.accepted", "placement.checked_in"]}


class WebhookRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    url: str
    event_types: list[EventType]
    active: bool
    created_at: dt.datetime


class WebhookCreated(msgspec.Struct, frozen=True):
    """The new subscription and its signing secret: shown this once, never again."""

    id: uuid.UUID
    url: str
    event_types: list[EventType]
    active: bool
    created_at: dt.datetime
    secret: Annotated[str, Meta(description="HMAC-SHA256 key (its UTF-8 bytes); store it now, it is not shown again")]


class TestEventQueued(msgspec.Struct, frozen=True):
    event_id: uuid.UUID
