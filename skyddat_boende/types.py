"""Bounded field types shared by the API schemas. Every string, list and number has a limit."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from matching import types as vocabulary  # the shared vocabulary, described here for the API reference
from matching.types import Feature, TargetGroup

__all__ = ["Feature", "ProtectedDataLevel", "TargetGroup", "Urgency"]

Urgency = Annotated[vocabulary.Urgency, Meta(description=(
    "How soon the household must move in; it weighs the request's priority (acute 4, days 2, planned 1) "
    "and the time within which matching aims to place it. `acute`: today: only units free today are "
    "offered, and an offer is held for the shorter acute hold time; `days`: within 7 days of the "
    "request; `planned`: within 14 days, by `latest_start_date`. A `days` or `planned` request goes before "
    "the others of those two urgencies on the last 3 days of its window, and for 21 days after the window "
    "it gives way to every request still within its own."
))]
ProtectedDataLevel = Annotated[vocabulary.ProtectedDataLevel, Meta(description=(
    "Protected personal data (Skatteverket's levels, lowest first). `none`; `sekretessmarkering`: "
    "confidentiality marking; `skyddad_folkbokforing`: protected registration; "
    "`fingerade_personuppgifter`: fictitious identity. A shelter states the highest level it can handle."
))]

Label = Annotated[str, Meta(min_length=2, max_length=120)]  # a shelter's; the database holds the same limits
UnitLabel = Annotated[str, Meta(min_length=1, max_length=60)]
MunicipalityCode = Annotated[str, Meta(pattern=r"^[0-9]{4}$", examples=["1280"])]
CountyCode = Annotated[str, Meta(pattern=r"^[0-9]{2}$", examples=["12"])]
LanguageCode = Annotated[str, Meta(pattern=r"^[a-z]{2}$", examples=["sv"])]
SecurityLevel = Annotated[int, Meta(ge=1, le=4, description="1 daytime staff ... 4 reinforced perimeter, 24h staff")]
ChildAgeLimit = Annotated[int, Meta(ge=0, le=17)]
DailyRate = Annotated[int, Meta(ge=0, le=100_000, description="SEK per day (dygnskostnad)")]
IntakeLimit = Annotated[int, Meta(ge=1, le=100)]
Beds = Annotated[int, Meta(ge=1, le=20)]
Reference = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,39}$", description="pseudonymous reference, never a name or personnummer"),
]
Street = Annotated[str, Meta(min_length=2, max_length=200)]
PostalCode = Annotated[str, Meta(pattern=r"^[0-9]{3} ?[0-9]{2}$")]
City = Annotated[str, Meta(min_length=2, max_length=100)]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9 -]{6,20}$")]
