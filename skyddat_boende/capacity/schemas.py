"""Bodies for shelters, units and availability. Read types list their fields; write types accept only
what the operator may set (never the operator, the version, beds taken or, on read, the address)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from skyddat_boende.types import (
    Beds, ChildAgeLimit, City, DailyRate, Feature, IntakeLimit, Label, LanguageCode, MunicipalityCode, Phone,
    PostalCode, ProtectedDataLevel, SecurityLevel, Street, TargetGroup, UnitLabel,
)

UnitStatus = Literal["available", "occupied", "out_of_service"]
TargetGroups = Annotated[list[TargetGroup], Meta(min_length=1, max_length=5)]
Features = Annotated[list[Feature], Meta(max_length=7)]
Languages = Annotated[list[LanguageCode], Meta(min_length=1, max_length=40)]


class AddressWrite(msgspec.Struct, forbid_unknown_fields=True):
    street: Street
    postal_code: PostalCode
    city: City
    contact_phone: Phone

    example: ClassVar[dict] = {"street": "Exempelgatan 1", "postal_code": "901 00", "city": "Umeå",
                               "contact_phone": "+46 90 100 00 00"}


class ShelterCreate(msgspec.Struct, forbid_unknown_fields=True):
    label: Label
    municipality_code: MunicipalityCode
    target_groups: TargetGroups
    security_level: SecurityLevel
    protected_data_capability: ProtectedDataLevel
    staff_languages: Languages
    daily_rate_sek: DailyRate
    address: AddressWrite
    features: Features = []
    max_age_boys: ChildAgeLimit | None = None
    max_age_girls: ChildAgeLimit | None = None
    daily_intake_limit: IntakeLimit | None = None

    example: ClassVar[dict] = {
        "label": "Jouren Norrsken, hus B", "municipality_code": "2480", "target_groups": ["women", "families"],
        "security_level": 3, "protected_data_capability": "skyddad_folkbokforing", "staff_languages": ["sv", "en", "ar"],
        "daily_rate_sek": 1850, "address": AddressWrite.example, "features": ["pets", "wheelchair"],
        "max_age_boys": 15, "max_age_girls": 17, "daily_intake_limit": 2,
    }


class ShelterUpdate(msgspec.Struct, forbid_unknown_fields=True):
    label: Label | UnsetType = UNSET
    target_groups: TargetGroups | UnsetType = UNSET
    security_level: SecurityLevel | UnsetType = UNSET
    protected_data_capability: ProtectedDataLevel | UnsetType = UNSET
    staff_languages: Languages | UnsetType = UNSET
    daily_rate_sek: DailyRate | UnsetType = UNSET
    features: Features | UnsetType = UNSET
    max_age_boys: ChildAgeLimit | None | UnsetType = UNSET
    max_age_girls: ChildAgeLimit | None | UnsetType = UNSET
    daily_intake_limit: IntakeLimit | None | UnsetType = UNSET

    example: ClassVar[dict] = {"daily_rate_sek": 1900, "staff_languages": ["sv", "en", "ar", "so"],
                               "daily_intake_limit": None}


class ShelterRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    operator_id: str
    label: str
    municipality_code: MunicipalityCode
    target_groups: list[TargetGroup]
    features: list[Feature]
    security_level: int
    protected_data_capability: ProtectedDataLevel
    max_age_boys: int | None
    max_age_girls: int | None
    staff_languages: list[LanguageCode]
    daily_rate_sek: int
    daily_intake_limit: int | None
    version: int
    updated_at: dt.datetime


class UnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    label: UnitLabel
    beds: Beds
    shareable: bool = False
    status: UnitStatus = "available"
    available_from: dt.date | None = None

    example: ClassVar[dict] = {"label": "Lgh 3", "beds": 4, "shareable": False, "status": "available",
                               "available_from": None}


class UnitUpdate(msgspec.Struct, forbid_unknown_fields=True):
    label: UnitLabel | UnsetType = UNSET
    beds: Beds | UnsetType = UNSET
    shareable: bool | UnsetType = UNSET
    status: UnitStatus | UnsetType = UNSET
    available_from: dt.date | UnsetType = UNSET

    example: ClassVar[dict] = {"beds": 3, "status": "occupied", "available_from": "2027-02-01"}


class UnitRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    shelter_id: uuid.UUID
    label: str
    beds: int
    beds_taken: int
    shareable: bool
    status: str
    available_from: dt.date
    availability_confirmed_at: dt.datetime
    stale: bool
    """True when availability was last confirmed longer ago than the freshness limit (a grey light)."""
    held_by_offer: bool
    version: int


class AvailabilityEntry(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: uuid.UUID
    status: UnitStatus
    available_from: dt.date | None = None


MAX_SNAPSHOT_UNITS = 5000
#: The body limit of `PUT /api/availability`, above the service's default: a snapshot of
#: MAX_SNAPSHOT_UNITS entries, each at its longest and pretty-printed, must fit (tests/test_contract.py).
SNAPSHOT_MAX_BODY_BYTES = 1024 * 1024


class AvailabilitySnapshot(msgspec.Struct, forbid_unknown_fields=True):
    """The whole availability of the caller's operator: units not listed become out of service."""

    units: Annotated[list[AvailabilityEntry], Meta(max_length=MAX_SNAPSHOT_UNITS)]

    example: ClassVar[dict] = {"units": [
        {"unit_id": "6f0c2a4e-1b7d-4c1e-9a51-2d8f3b6e7a10", "status": "available"},
        {"unit_id": "b3e9d1f2-5a6c-4e8b-8d7f-0c1a2b3c4d5e", "status": "occupied", "available_from": "2027-02-01"},
    ]}


class AvailabilityResult(msgspec.Struct, frozen=True):
    updated: int
    """Units listed in the snapshot."""
    set_out_of_service: int
    """Unlisted units that were in service and are now out of service."""
    changed: int
    """Units whose state changed (each has a new version); the others were only confirmed."""


class Confirmation(msgspec.Struct, frozen=True):
    confirmed_units: int
    confirmed_at: dt.datetime
