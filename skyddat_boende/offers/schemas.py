"""What shelter staff see of an offer: the household they are asked to take in, without the case
reference, the threat areas or anything else the shelter does not need."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar, Literal

import msgspec

from skyddat_boende.placement_requests.schemas import HardNeed
from skyddat_boende.types import LanguageCode, ProtectedDataLevel, Urgency

OfferStatus = Literal["open", "accepted", "declined", "expired", "withdrawn"]
DeclineReason = Literal["full", "cannot_meet_needs", "security_concern", "too_close_to_threat", "other"]


class Person(msgspec.Struct, frozen=True):
    gender: str
    age: int


class HouseholdSummary(msgspec.Struct, frozen=True):
    adults: list[Person]
    children: list[Person]
    needs: list[HardNeed]
    languages: list[LanguageCode]
    honour_related: bool
    lgbtq: bool
    protected_data_level: ProtectedDataLevel
    security_level_needed: int
    urgency: Urgency


class OfferRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    status: str
    unit_id: uuid.UUID
    shelter_id: uuid.UUID
    requesting_municipality: str
    beds: int
    created_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    decline_reason: str | None
    household: HouseholdSummary
    placement_id: uuid.UUID | None


class Decline(msgspec.Struct, forbid_unknown_fields=True):
    reason: DeclineReason

    example: ClassVar[dict] = {"reason": "cannot_meet_needs"}
