"""Placement requests: the household (each child its own entry with its own decision), the hard rules
and the preferences of the social worker's risk assessment."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from skyddat_boende.types import (
    CountyCode, DailyRate, LanguageCode, MunicipalityCode, ProtectedDataLevel, Reference, SecurityLevel, Urgency,
)

Gender = Literal["female", "male", "other"]
HardNeed = Literal["wheelchair", "pets", "substance_use", "mental_illness", "intellectual_disability"]
RequestStatus = Literal["waiting", "offered", "placed", "withdrawn", "closed"]
Km = Annotated[int, Meta(ge=0, le=2000)]


class AdultIn(msgspec.Struct, forbid_unknown_fields=True):
    gender: Gender
    age: Annotated[int, Meta(ge=16, le=110)]


class ChildIn(msgspec.Struct, forbid_unknown_fields=True):
    gender: Gender
    age: Annotated[int, Meta(ge=0, le=17)]
    decision_reference: Reference
    """The child's own decision (SoL 6 kap. 1 a § since 2024), pseudonymous like the case reference."""


class RequestCreate(msgspec.Struct, forbid_unknown_fields=True):
    case_reference: Reference
    urgency: Urgency
    security_level_needed: SecurityLevel
    protected_data_level: ProtectedDataLevel
    adults: Annotated[list[AdultIn], Meta(min_length=1, max_length=4)]
    latest_start_date: dt.date
    children: Annotated[list[ChildIn], Meta(max_length=12)] = []
    needs: Annotated[list[HardNeed], Meta(max_length=5)] = []
    honour_related: bool = False
    lgbtq: bool = False
    languages: Annotated[list[LanguageCode], Meta(max_length=10)] = []
    require_honour_competence: bool = False
    """A hard rule: only shelters with honour-violence competence (else it only ranks them higher)."""
    require_staff_language: bool = False
    """A hard rule: only shelters whose staff speak every one of `languages` but Swedish (else it only
    ranks them higher)."""
    excluded_municipalities: Annotated[list[MunicipalityCode], Meta(max_length=290)] = []
    excluded_counties: Annotated[list[CountyCode], Meta(max_length=21)] = []
    threat_municipalities: Annotated[list[MunicipalityCode], Meta(max_length=50)] = []
    min_distance_km: Km = 0
    preferred_counties: Annotated[list[CountyCode], Meta(max_length=21)] = []
    preferred_near_municipality: MunicipalityCode | None = None
    max_distance_km: Annotated[int, Meta(ge=1, le=2000)] | None = None
    max_daily_rate_sek: DailyRate | None = None

    example: ClassVar[dict] = {
        "case_reference": "MAL-2027-0042", "urgency": "days", "security_level_needed": 3,
        "protected_data_level": "skyddad_folkbokforing", "adults": [{"gender": "female", "age": 34}],
        "children": [{"gender": "male", "age": 9, "decision_reference": "MAL-2027-0042-B1"},
                     {"gender": "female", "age": 6, "decision_reference": "MAL-2027-0042-B2"}],
        "latest_start_date": "2027-01-20", "needs": ["pets"], "honour_related": False, "lgbtq": False,
        "languages": ["sv", "ar"], "require_honour_competence": False, "require_staff_language": False,
        "excluded_municipalities": ["1283"], "excluded_counties": [], "threat_municipalities": ["1280"],
        "min_distance_km": 150, "preferred_counties": ["24"], "preferred_near_municipality": "2480",
        "max_distance_km": 1200, "max_daily_rate_sek": 2500,
    }


class AdultRead(msgspec.Struct, frozen=True):
    gender: str
    age: int


class ChildRead(msgspec.Struct, frozen=True):
    gender: str
    age: int
    decision_reference: str


class OfferSummary(msgspec.Struct, frozen=True):
    """What the social worker sees of an offer: where (municipality only), until when, and why it fits."""

    id: uuid.UUID
    status: str
    municipality_code: str
    security_level: int
    daily_rate_sek: int
    expires_at: dt.datetime
    fit: dict[str, int]


class MatchReport(msgspec.Struct, frozen=True):
    """Why there is, or is not, a fitting place: counts per hard rule."""

    fitting_units: int
    excluded: dict[str, int]
    explanation: str


class RequestRead(msgspec.Struct, frozen=True):
    id: uuid.UUID
    case_reference: str
    status: RequestStatus
    urgency: Urgency
    security_level_needed: int
    protected_data_level: ProtectedDataLevel
    adults: list[AdultRead]
    children: list[ChildRead]
    needs: list[HardNeed]
    honour_related: bool
    lgbtq: bool
    languages: list[LanguageCode]
    require_honour_competence: bool
    require_staff_language: bool
    excluded_municipalities: list[MunicipalityCode]
    excluded_counties: list[CountyCode]
    threat_municipalities: list[MunicipalityCode]
    min_distance_km: int
    preferred_counties: list[CountyCode]
    preferred_near_municipality: MunicipalityCode | None
    max_distance_km: int | None
    latest_start_date: dt.date
    max_daily_rate_sek: int | None
    waiting_since: dt.datetime
    version: int
    offer: OfferSummary | None
    placement_id: uuid.UUID | None
    match: MatchReport | None = None
