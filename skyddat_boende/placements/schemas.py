"""Placements as the placing municipality and the shelter see them, and the address, readable only by
the placing municipality's social workers while the placement is active."""

from __future__ import annotations

import datetime as dt
import uuid

from typing import ClassVar, Literal, get_args

import msgspec

AddressPurpose = Literal["arrange_arrival", "contact_shelter", "follow_up", "emergency"]
"""Why the address is read: a reason from this list is required and kept in the audit trail."""
ADDRESS_PURPOSES: tuple[str, ...] = get_args(AddressPurpose)


class PlacementRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    request_id: uuid.UUID
    offer_id: uuid.UUID
    unit_id: uuid.UUID
    shelter_id: uuid.UUID
    municipality_code: str
    placing_municipality: str
    beds: int
    status: str
    accepted_at: dt.datetime
    checked_in_at: dt.datetime | None
    planned_end_date: dt.date | None
    moved_out_at: dt.datetime | None
    version: int


class ShelterAddress(msgspec.Struct, frozen=True):
    street: str
    postal_code: str
    city: str
    contact_phone: str
    municipality_code: str


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    planned_end_date: dt.date | None = None

    example: ClassVar[dict] = {"planned_end_date": "2027-04-30"}


class PlannedEnd(msgspec.Struct, forbid_unknown_fields=True):
    planned_end_date: dt.date

    example: ClassVar[dict] = {"planned_end_date": "2027-05-31"}
