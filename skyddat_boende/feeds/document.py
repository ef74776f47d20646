"""The feed document: what a partner's feed URL returns (api_docs/feeds.md, api_docs/feed.schema.json).

Based on Open Referral HSDS 3.0 `service_capacity`: one entry per unit (room or flat) with `available`
and `maximum` beds and when it was `updated`. `unit.id` names the unit: this service's unit id, or the
partner's own stable id mapped once when the feed is registered. These types are the validator; the
published JSON Schema is generated from them (`python -m skyddat_boende feed schema`) and a test keeps
the file equal to what they generate.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from skyddat_boende.capacity.schemas import MAX_SNAPSHOT_UNITS, AvailabilityEntry, AvailabilitySnapshot

UnitRef = Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,100}$",
                              description="This service's unit id, or your stable id mapped at registration")]
Beds = Annotated[int, Meta(ge=0, le=20)]
FORMAT = "skyddat-boende-feed/1"


class CapacityUnit(msgspec.Struct, frozen=True):
    """HSDS `unit`: here the room or flat whose beds are counted."""

    id: UnitRef
    name: Annotated[str, Meta(max_length=60)] = "bed"


class ServiceCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """HSDS 3.0 `service_capacity`, one per unit. A unit with `available` 0 is marked occupied."""

    unit: CapacityUnit
    available: Beds
    maximum: Annotated[int, Meta(ge=1, le=20)]
    updated: dt.datetime
    id: Annotated[str, Meta(max_length=100)] | None = None
    available_from: dt.date | None = None
    """Not in HSDS: the first day the beds can be used (default: today)."""


class FeedDocument(msgspec.Struct, frozen=True):
    """A feed lists every unit of the organisation it publishes: an unlisted unit is set out of service."""

    format: Literal["skyddat-boende-feed/1"]
    service_capacity: Annotated[list[ServiceCapacity], Meta(max_length=MAX_SNAPSHOT_UNITS)]
    updated: dt.datetime | None = None


class InvalidDocument(ValueError):
    """The document is not JSON, or not a feed document; `kind` is the type recorded on the feed."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


_decoder = msgspec.json.Decoder(FeedDocument)


def parse(body: bytes) -> FeedDocument:
    """The validated document, or InvalidDocument('invalid_json' | 'schema')."""
    try:
        document = _decoder.decode(body)
    except msgspec.ValidationError:
        raise InvalidDocument("schema") from None
    except msgspec.DecodeError:
        raise InvalidDocument("invalid_json") from None
    refs = [entry.unit.id for entry in document.service_capacity]
    if len(set(refs)) != len(refs) or any(e.available > e.maximum for e in document.service_capacity):
        raise InvalidDocument("schema")  # a unit twice, or more beds free than it has
    return document


def snapshot(document: FeedDocument, unit_ids: dict[str, object]) -> AvailabilitySnapshot | None:
    """The bulk-sync body the document means, with `unit_ids` mapping each reference to one of this
    service's units; None when a reference names no unit the feed's organisation may publish."""
    entries = []
    for entry in document.service_capacity:
        unit_id = unit_ids.get(entry.unit.id)
        if unit_id is None:
            return None
        status = "available" if entry.available > 0 else "occupied"
        entries.append(AvailabilityEntry(unit_id, status, entry.available_from))
    return AvailabilitySnapshot(entries)


def json_schema() -> dict:
    schema = msgspec.json.schema(FeedDocument)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://skyddat-boende.example/api_docs/feed.schema.json",
            "title": "Availability feed (HSDS 3.0 service_capacity)", **schema}
