"""Bodies for apartments, onward requests and onward offers. The household and its exclusions are the
placement request's own types; the address, as a shelter's, is write-only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from skyddat_boende.capacity.schemas import MAX_SNAPSHOT_UNITS, AddressWrite
from skyddat_boende.placement_requests.schemas import (
    AdultIn, AdultRead, ChildIn, ChildRead, HardNeed, Km, MatchReport,
)
from skyddat_boende.types import CountyCode, Label, MunicipalityCode, ProtectedDataLevel, Reference, Urgency

LeaseType = Literal["first_hand", "trial_lease", "sublet"]
"""First-hand lease, a trial lease through social services (försökskontrakt), or a sublet."""
ApartmentStatus = Literal["available", "unavailable"]
Rooms = Annotated[int, Meta(ge=1, le=10)]
Area = Annotated[int, Meta(ge=10, le=400)]
Floor = Annotated[int, Meta(ge=-2, le=60)]
Rent = Annotated[int, Meta(ge=0, le=100000)]
MaxRent = Annotated[int, Meta(ge=1, le=100000)]
OnwardDeclineReason = Literal[
    "let_to_another", "household_too_large", "cannot_keep_protected_identity", "no_rent_guarantee",
    "not_suitable", "other",
]
"""Why a provider declines (docs/decisions.md): let to someone else meanwhile, too many people for the
flat, cannot keep the household's protected identity, no rent guarantee, otherwise not suitable, other."""


class ApartmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    label: Label
    municipality_code: MunicipalityCode
    rooms: Rooms
    area_m2: Area
    floor: Floor
    monthly_rent_sek: Rent
    available_from: dt.date
    lease_type: LeaseType
    protected_data_capability: ProtectedDataLevel
    address: AddressWrite
    lift: bool = False
    wheelchair_accessible: bool = False
    pets_allowed: bool = False

    example: ClassVar[dict] = {
        "label": "Lgh 1102, 3 rok", "municipality_code": "2480", "rooms": 3, "area_m2": 74, "floor": 2,
        "monthly_rent_sek": 7450, "available_from": "2027-02-01", "lease_type": "trial_lease",
        "protected_data_capability": "skyddad_folkbokforing",
        "address": {"street": "Exempelvägen 12", "postal_code": "903 30", "city": "Umeå",
                    "contact_phone": "+46 90 100 00 01"},
        "lift": True, "wheelchair_accessible": False, "pets_allowed": True,
    }


class ApartmentUpdate(msgspec.Struct, forbid_unknown_fields=True):
    label: Label | UnsetType = UNSET
    rooms: Rooms | UnsetType = UNSET
    area_m2: Area | UnsetType = UNSET
    floor: Floor | UnsetType = UNSET
    monthly_rent_sek: Rent | UnsetType = UNSET
    available_from: dt.date | UnsetType = UNSET
    lease_type: LeaseType | UnsetType = UNSET
    protected_data_capability: ProtectedDataLevel | UnsetType = UNSET
    lift: bool | UnsetType = UNSET
    wheelchair_accessible: bool | UnsetType = UNSET
    pets_allowed: bool | UnsetType = UNSET
    status: ApartmentStatus | UnsetType = UNSET
    """One-tap availability; an apartment that is let stays let."""

    example: ClassVar[dict] = {"monthly_rent_sek": 7600, "available_from": "2027-02-15", "status": "available"}


class ApartmentRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    provider_id: str
    label: str
    municipality_code: str
    rooms: int
    area_m2: int
    floor: int
    lift: bool
    wheelchair_accessible: bool
    pets_allowed: bool
    monthly_rent_sek: int
    available_from: dt.date
    lease_type: str
    protected_data_capability: str
    status: str
    offered: bool
    """True while an onward offer holds it."""
    version: int
    updated_at: dt.datetime


class ApartmentAvailabilityEntry(msgspec.Struct, forbid_unknown_fields=True):
    apartment_id: uuid.UUID
    status: ApartmentStatus
    available_from: dt.date | None = None


class ApartmentSnapshot(msgspec.Struct, forbid_unknown_fields=True):
    """The whole availability of the caller's provider: apartments not listed (and not let) become
    unavailable."""

    apartments: Annotated[list[ApartmentAvailabilityEntry], Meta(max_length=MAX_SNAPSHOT_UNITS)]

    example: ClassVar[dict] = {"apartments": [
        {"apartment_id": "9a1d4c2e-7b3f-4e5a-8c6d-1f2e3a4b5c6d", "status": "available", "available_from": "2027-02-01"},
        {"apartment_id": "2c7e9f1a-4d5b-4a6c-9e8f-3b2a1c0d9e8f", "status": "available"},
        {"apartment_id": "e5f6a7b8-1c2d-4e3f-8a9b-0c1d2e3f4a5b", "status": "unavailable",
         "available_from": "2027-04-01"},
    ]}


class OnwardRequestCreate(msgspec.Struct, forbid_unknown_fields=True):
    case_reference: Reference
    urgency: Urgency
    protected_data_level: ProtectedDataLevel
    adults: Annotated[list[AdultIn], Meta(min_length=1, max_length=4)]
    max_rent_sek: MaxRent
    earliest_move_in: dt.date
    placement_id: uuid.UUID | None = None
    """The shelter placement the household moves on from; none when it must leave a home."""
    children: Annotated[list[ChildIn], Meta(max_length=12)] = []
    needs: Annotated[list[HardNeed], Meta(max_length=5)] = []
    excluded_municipalities: Annotated[list[MunicipalityCode], Meta(max_length=290)] = []
    excluded_counties: Annotated[list[CountyCode], Meta(max_length=21)] = []
    threat_municipalities: Annotated[list[MunicipalityCode], Meta(max_length=50)] = []
    min_distance_km: Km = 0
    preferred_counties: Annotated[list[CountyCode], Meta(max_length=21)] = []

    example: ClassVar[dict] = {
        "case_reference": "MAL-2027-0042", "urgency": "planned", "protected_data_level": "skyddad_folkbokforing",
        "adults": [{"gender": "female", "age": 34}],
        "children": [{"gender": "male", "age": 9, "decision_reference": "MAL-2027-0042-B1"},
                     {"gender": "female", "age": 6, "decision_reference": "MAL-2027-0042-B2"}],
        "max_rent_sek": 8000, "earliest_move_in": "2027-02-01",
        "placement_id": "4b8e2f6a-0c1d-4e7f-9a3b-5d6c7e8f9a0b", "needs": ["pets"],
        "excluded_municipalities": ["1283"], "excluded_counties": [], "threat_municipalities": ["1280"],
        "min_distance_km": 150, "preferred_counties": ["24"],
    }


class OnwardOfferSummary(msgspec.Struct, frozen=True):
    """What the social worker sees of an onward offer before acceptance: where (municipality only), what,
    until when, why it fits, and how it was answered."""

    id: uuid.UUID
    status: str
    municipality_code: str
    rooms: int
    monthly_rent_sek: int
    lease_type: str
    created_at: dt.datetime
    expires_at: dt.datetime
    decline_reason: str | None
    lease_signed_on: dt.date | None
    move_in_on: dt.date | None
    moved_in_at: dt.datetime | None
    fit: dict[str, int]


class OnwardRequestRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    case_reference: str
    status: str
    placement_id: uuid.UUID | None
    urgency: str
    protected_data_level: str
    adults: list[AdultRead]
    children: list[ChildRead]
    needs: list[str]
    excluded_municipalities: list[str]
    excluded_counties: list[str]
    threat_municipalities: list[str]
    min_distance_km: int
    preferred_counties: list[str]
    max_rent_sek: int
    earliest_move_in: dt.date
    waiting_since: dt.datetime
    version: int
    offers: list[OnwardOfferSummary]
    """Every offer made, newest first: the open or accepted one, then its history."""
    match: MatchReport | None = None


class HouseholdSummary(msgspec.Struct, frozen=True):
    adults: int
    children: int
    rooms_needed: int
    needs: list[str]
    protected_data_level: str


class OnwardOfferRead(msgspec.Struct, frozen=True):
    """What housing staff see: the apartment, the household's size and needs, no case details."""

    id: uuid.UUID
    status: str
    apartment_id: uuid.UUID
    requesting_municipality: str
    household: HouseholdSummary
    created_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    decline_reason: str | None
    lease_signed_on: dt.date | None
    move_in_on: dt.date | None
    moved_in_at: dt.datetime | None


class OnwardDecline(msgspec.Struct, forbid_unknown_fields=True):
    reason: OnwardDeclineReason

    example: ClassVar[dict] = {"reason": "let_to_another"}


class OnwardAccept(msgspec.Struct, forbid_unknown_fields=True):
    lease_signed_on: dt.date
    move_in_on: dt.date

    example: ClassVar[dict] = {"lease_signed_on": "2027-01-25", "move_in_on": "2027-02-01"}


class ApartmentAddress(msgspec.Struct, frozen=True):
    street: str
    postal_code: str
    city: str
    contact_phone: str
    municipality_code: str
