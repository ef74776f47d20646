"""The engine's data types: what goes in (requests, units, a problem) and what comes out.

Every type is a frozen msgspec Struct so that the web service can decode and encode
them directly, and every enum-like field uses the shared vocabulary strings from
docs/vocabulary.md exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

Gender = Literal["female", "male", "other"]
TargetGroup = Literal["women", "men", "young_adults", "families", "lgbtq"]
ProtectedDataLevel = Literal[
    "none", "sekretessmarkering", "skyddad_folkbokforing", "fingerade_personuppgifter"
]
Feature = Literal[
    "wheelchair",
    "pets",
    "substance_use",
    "mental_illness",
    "intellectual_disability",
    "honour_competence",
    "lgbtq_competence",
]
Urgency = Literal["acute", "days", "planned"]

GENDERS: tuple[Gender, ...] = ("female", "male", "other")
TARGET_GROUPS: tuple[TargetGroup, ...] = ("women", "men", "young_adults", "families", "lgbtq")
PROTECTED_DATA_LEVELS: tuple[ProtectedDataLevel, ...] = (
    "none",
    "sekretessmarkering",
    "skyddad_folkbokforing",
    "fingerade_personuppgifter",
)
"""Ordered lowest first: a shelter that keeps a level also keeps every lower one."""
FEATURES: tuple[Feature, ...] = (
    "wheelchair",
    "pets",
    "substance_use",
    "mental_illness",
    "intellectual_disability",
    "honour_competence",
    "lgbtq_competence",
)
URGENCIES: tuple[Urgency, ...] = ("acute", "days", "planned")
SECURITY_LEVELS = (1, 2, 3, 4)


class Municipality(msgspec.Struct, frozen=True):
    """A municipality (kommun): SCB code, county code and the seat's coordinates (WGS84)."""

    code: str
    county_code: str
    lat: float
    lon: float


# ---------------------------------------------------------------- the household


class Adult(msgspec.Struct, frozen=True):
    gender: Gender
    age: int | None = None
    """Needed only to decide whether a young adults' shelter (18-25) may take them."""


class Child(msgspec.Struct, frozen=True):
    """Each accompanying child is its own entry (own decision, own assessment)."""

    age: int
    gender: Gender


class Needs(msgspec.Struct, frozen=True):
    # hard: the shelter must have the matching feature
    wheelchair: bool = False
    pets: bool = False
    substance_use: bool = False
    mental_illness: bool = False
    intellectual_disability: bool = False
    # soft (fit level of the objective)
    languages: tuple[str, ...] = ()
    """ISO 639-1 codes the household needs staff to speak (other than Swedish)."""
    lgbtq: bool = False
    """LGBTQ+ household: an "lgbtq" shelter may take it; lgbtq_competence is preferred."""
    honour_related: bool = False
    """Honour-related violence: a "young_adults" shelter may take 18-25s; honour_competence is preferred."""
    # optional hard requirements a social worker may set (else the two above only add fit points)
    require_honour_competence: bool = False
    """Hard: the shelter must have honour_competence."""
    require_languages: bool = False
    """Hard: the staff must speak every one of `languages` (Swedish aside)."""


class Household(msgspec.Struct, frozen=True):
    adults: tuple[Adult, ...]
    children: tuple[Child, ...] = ()
    needs: Needs = Needs()
    protected_data: ProtectedDataLevel = "none"

    @property
    def size(self) -> int:
        """Beds needed: one per adult and one per child."""
        return len(self.adults) + len(self.children)


class Request(msgspec.Struct, frozen=True):
    """A placement request from a social worker. `id` is the pseudonymous case reference."""

    id: str
    household: Household
    waiting_since: dt.date
    urgency: Urgency = "planned"
    security_level: int = 1
    # hard exclusions
    excluded_municipalities: tuple[str, ...] = ()
    excluded_counties: tuple[str, ...] = ()
    threats: tuple[Municipality, ...] = ()
    """Threat municipalities: never placed in one, and at least min_distance_km from each."""
    min_distance_km: float = 0.0
    latest_start: dt.date | None = None
    """Hard: the unit must be available on or before this date."""
    # preferences (soft, fit level of the objective)
    preferred_counties: tuple[str, ...] = ()
    near: Municipality | None = None
    """With max_distance_km: prefer units within that distance of this municipality."""
    max_distance_km: float | None = None
    max_daily_rate: int | None = None
    """SEK per day; a preference (fit), not a hard rule."""
    # what earlier offers taught (hard, rule "already_tried")
    tried_unit_ids: frozenset[str] = frozenset()
    """Units this request was offered and declined or let expire: never offered to it again."""
    excluded_shelter_ids: frozenset[str] = frozenset()
    """Shelters that declined this request for a reason about the shelter, not the unit
    (rules.SHELTER_WIDE_DECLINES): none of their units is offered to it again."""


# ---------------------------------------------------------------- the supply


class Unit(msgspec.Struct, frozen=True):
    """A place (room or flat) with its shelter's attributes copied in.

    Shelter attributes (shelter_id, municipality, target_groups, security_level,
    protected_data_capability, features, languages, age limits, daily_rate,
    daily_intake_limit) are the same for every unit of one shelter.
    """

    id: str
    shelter_id: str
    municipality: Municipality
    target_groups: frozenset[TargetGroup]
    security_level: int
    protected_data_capability: ProtectedDataLevel
    beds: int
    """Free beds now."""
    available_from: dt.date
    daily_rate: int
    """SEK per day (dygnskostnad) the placing municipality pays."""
    shared: bool = False
    """If true, several households may share it up to its beds; else one household."""
    features: frozenset[Feature] = frozenset()
    languages: frozenset[str] = frozenset()
    max_age_boys: int | None = None
    """Inclusive: a boy aged exactly max_age_boys is accepted. None = no limit."""
    max_age_girls: int | None = None
    daily_intake_limit: int | None = None
    """The shelter's limit on new households per day. None = no limit."""
    acute_demand: float = 0.0
    """Acute arrivals expected to need this unit before it would free again (matching.lookahead;
    0 = none expected, or no look-ahead): a less urgent household pays a price for it (scoring.acute_price)."""
    days_demand: float = 0.0
    """The same for "days" arrivals: a planned household pays a price for it, a "days" household a
    smaller one that only steers it to the unit fewer others need (scoring.acute_price)."""


class Offer(msgspec.Struct, frozen=True):
    """An open placement offer: the unit is held for this request and nobody else."""

    request_id: str
    unit_id: str


class Problem(msgspec.Struct, frozen=True):
    """One day's matching problem."""

    today: dt.date
    requests: tuple[Request, ...]
    units: tuple[Unit, ...]
    open_offers: tuple[Offer, ...] = ()
    intake_used: dict[str, int] = {}
    """Households a shelter has already taken in today (shelter_id -> count)."""


# ---------------------------------------------------------------- results


class FitParts(msgspec.Struct, frozen=True):
    """Fit points (level 2), each part explained."""

    preferred_region: int = 0
    within_distance: int = 0
    language: int = 0
    honour_competence: int = 0
    lgbtq_competence: int = 0
    within_budget: int = 0
    size_fit: int = 0
    """No waste: higher when the unit's beds match the household's size."""

    @property
    def total(self) -> int:
        return (
            self.preferred_region
            + self.within_distance
            + self.language
            + self.honour_competence
            + self.lgbtq_competence
            + self.within_budget
            + self.size_fit
        )


class Score(msgspec.Struct, frozen=True):
    """A match's score, level by level (see matching/README.md)."""

    priority: int
    """Level 1: urgency weight x waiting-time factor, less the unit's acute price (scoring.acute_price)."""
    fit: FitParts
    """Level 2."""
    cost_points: int
    """Level 3: (RATE_CAP_SEK - daily_rate) // COST_UNIT_SEK (100 SEK); higher is cheaper."""
    daily_rate: int
    total: int
    """priority * w_priority + fit.total * w_fit + cost_points: the integer maximised."""


class Match(msgspec.Struct, frozen=True):
    request_id: str
    unit_id: str
    shelter_id: str
    score: Score


class Unmatched(msgspec.Struct, frozen=True):
    request_id: str
    excluded: dict[str, int]
    """Hard rule name -> number of units it excluded (each unit counted once, under the first rule it breaks);
    "kept_for_acute": fitting units whose acute price reached the request's priority (scoring.acute_price)."""
    fitting_units: int
    """Units that pass every hard rule for this request and that it may be offered (not kept for acute)."""
    fitting_units_taken: int
    """Of those, units given to other requests (or full / at the shelter's intake limit)."""
    explanation: str


SolveStatus = Literal["optimal", "feasible", "no_solution"]


class Result(msgspec.Struct, frozen=True):
    status: SolveStatus
    matches: tuple[Match, ...]
    unmatched: tuple[Unmatched, ...]
    objective: int
    bound: int
    """Upper bound on the objective (assignment relaxation or CP-SAT bound)."""
    gap: float
    """(bound - objective) / max(1, bound); 0.0 when proven optimal."""
    proof: str
    """How optimality was shown: "relaxation" (the flow's optimum, or its bound met), "lagrangian"
    (a solution met the bed prices' bound), "cp_sat" (the search proved it), or "" if not proven."""
    wall_time_s: float
    weights: tuple[int, int, int] = (0, 0, 1)
    """(w_priority, w_fit, w_cost) used for Score.total."""


class Ranked(msgspec.Struct, frozen=True):
    unit_id: str
    shelter_id: str
    municipality: str
    score: Score


class FastTrackResult(msgspec.Struct, frozen=True):
    request_id: str
    ranked: tuple[Ranked, ...]
    fitting_units: int
    excluded: dict[str, int]
    explanation: str
