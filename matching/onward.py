"""Onward housing: apartments as a second kind of place for a household leaving a shelter.

The hard rules that mean the same for a home as for a shelter are the engine's own (rules.RULES, by
name: exclusions, distance from the threat, protected identity, wheelchair, pets); the rules only a
home has (rooms, rent, available by the move-in date) are added here in the same `Rule` form, so one
`violated_rule`-style pass and one "why no match" count cover both. Ranking is fast-track style: an
offer at once for the best fitting apartment.

Crowding norm (docs/decisions.md): at most two people to a bedroom, plus a living room; a person
living alone may have a one-room flat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import msgspec

from .rules import RULES_BY_NAME, Rule, RuleContext
from .types import Municipality, ProtectedDataLevel, Request

#: The engine's hard rules that apply to a home unchanged, in their order.
SHARED_RULES = ("excluded_area", "too_close_to_threat", "protected_data", "need_wheelchair", "need_pets")


class Apartment(msgspec.Struct, frozen=True):
    """A home a housing provider offers. `features` holds "wheelchair" and "pets" when they apply, so the
    engine's need rules read it as they read a shelter unit's."""

    id: str
    provider_id: str
    municipality: Municipality
    rooms: int
    monthly_rent: int
    available_from: dt.date
    protected_data_capability: ProtectedDataLevel
    features: frozenset[str] = frozenset()


class OnwardRequest(Request, frozen=True, kw_only=True):
    """A placement request's household and exclusions, plus what a home must meet."""

    max_rent: int
    earliest_move_in: dt.date


class Ranked(msgspec.Struct, frozen=True):
    apartment_id: str
    provider_id: str
    municipality: str
    fit: dict[str, int]


class OnwardResult(msgspec.Struct, frozen=True):
    ranked: tuple[Ranked, ...]
    fitting: int
    excluded: dict[str, int]
    explanation: str


def rooms_needed(household_size: int) -> int:
    """Rooms (kitchen not counted) for the crowding norm: two to a bedroom, plus a living room."""
    return 1 if household_size <= 1 else -(-household_size // 2) + 1


ONWARD_RULES: tuple[Rule, ...] = (
    *(RULES_BY_NAME[name] for name in SHARED_RULES),
    Rule(
        "rooms",
        "with too few rooms for the household",
        key=lambda a, ctx: a.rooms,
        passes=lambda r, rooms, ctx: rooms >= rooms_needed(r.household.size),
    ),
    Rule(
        "rent",
        "with a rent above the maximum",
        key=lambda a, ctx: a.monthly_rent,
        passes=lambda r, rent, ctx: rent <= r.max_rent,
    ),
    Rule(
        "not_available_in_time",
        "not free by the earliest move-in date",
        key=lambda a, ctx: a.available_from,
        passes=lambda r, free_from, ctx: free_from <= max(r.earliest_move_in, ctx.today),
    ),
)
ONWARD_RULES_BY_NAME = {rule.name: rule for rule in ONWARD_RULES}


def violated_rule(request: OnwardRequest, apartment: Apartment, ctx: RuleContext) -> str | None:
    """The first hard rule that excludes this apartment for this household, or None if it fits."""
    for rule in ONWARD_RULES:
        if not rule.passes(request, rule.key(apartment, ctx), ctx):
            return rule.name
    return None


def fit(request: OnwardRequest, apartment: Apartment) -> dict[str, int]:
    """Why it fits, in integers shown to the social worker (a larger sort key ranks higher)."""
    return {
        "preferred_county": int(apartment.municipality.county_code in request.preferred_counties),
        "rent_margin_sek": request.max_rent - apartment.monthly_rent,
        "spare_rooms": apartment.rooms - rooms_needed(request.household.size),
    }


def rank(
    request: OnwardRequest, apartments: Iterable[Apartment], today: dt.date, *, skip: Sequence[str] = (), n: int = 10
) -> OnwardResult:
    """The n best fitting apartments, best first (preferred county, then lower rent, then fewer spare
    rooms, then the earliest free, then id), with the excluded ones counted per rule. `skip` lists
    apartments this household was already offered."""
    ctx = RuleContext(today=today)
    excluded: dict[str, int] = {}
    fitting: list[Apartment] = []
    for apartment in apartments:
        if apartment.id in skip:
            continue
        broken = violated_rule(request, apartment, ctx)
        if broken is None:
            fitting.append(apartment)
        else:
            excluded[broken] = excluded.get(broken, 0) + 1
    fitting.sort(key=lambda a: (-fit(request, a)["preferred_county"], a.monthly_rent,
                                fit(request, a)["spare_rooms"], a.available_from, a.id))
    ranked = tuple(Ranked(a.id, a.provider_id, a.municipality.code, fit(request, a)) for a in fitting[:n])
    return OnwardResult(ranked, len(fitting), excluded, explain(len(fitting), excluded))


def explain(fitting: int, excluded: dict[str, int]) -> str:
    """'2 apartments fit; excluded: 14 apartments too close to a threat area, 3 apartments ...'."""
    text = f"{fitting:,} apartments fit"
    parts = [f"{n:,} apartments {ONWARD_RULES_BY_NAME[name].excluded_text}"
             for name, n in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])) if n]
    return text + ("; excluded: " + ", ".join(parts) if parts else "") + "."


def impossible(request: OnwardRequest, apartments: Iterable[Apartment], ctx: RuleContext) -> str | None:
    """'rooms' or 'rent' when no published apartment in the household's allowed area could ever take it
    (too few rooms in every one, or every rent above the ceiling); None when one could, or when none is
    published there yet (the request then waits for one)."""
    area = [ONWARD_RULES_BY_NAME[name] for name in ("excluded_area", "too_close_to_threat")]
    in_area = [a for a in apartments if all(rule.passes(request, rule.key(a, ctx), ctx) for rule in area)]
    if not in_area:
        return None
    for name in ("rooms", "rent"):
        rule = ONWARD_RULES_BY_NAME[name]
        if not any(rule.passes(request, rule.key(a, ctx), ctx) for a in in_area):
            return name
    return None
