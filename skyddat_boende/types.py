"""Bounded field types shared by the API schemas. Every string, list and number has a limit."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from matching.types import Feature, ProtectedDataLevel, TargetGroup, Urgency  # the shared vocabulary

__all__ = ["Feature", "ProtectedDataLevel", "TargetGroup", "Urgency"]

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
