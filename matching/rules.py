"""The hard rules: the single place where "may this unit be offered to this request?" is decided.

Each rule reads a small *key* from the unit (for example its security level, or its
municipality) and decides with `passes(request, key, ctx)`. `violated_rule` applies
them in order to one (request, unit) pair. Candidate generation (candidates.py)
calls the very same `passes` once per distinct key and broadcasts the answer to all
units sharing that key, which is what makes fast-track fast; the validator and the
unmatched-reason counts use `violated_rule` / the same rules. Nothing else in the
package re-implements a rule.

Rules that span several pairs (a unit's beds shared between households, a
shelter's daily intake limit, one unit per request) are checked by the solver's
constraints and, independently, by validator.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from .geo import distance_km
from .types import (
    PROTECTED_DATA_LEVELS,
    Adult,
    Household,
    Municipality,
    Needs,
    Problem,
    Request,
    TargetGroup,
    Unit,
)

_DATA_RANK = {level: i for i, level in enumerate(PROTECTED_DATA_LEVELS)}


@dataclass(frozen=True)
class RuleContext:
    """What the pair rules need besides the request and the unit."""

    today: dt.date
    holds: Mapping[str, str] = field(default_factory=dict)
    """unit_id -> request_id holding it under an open offer."""
    intake_remaining: Mapping[str, int] = field(default_factory=dict)
    """shelter_id -> households it may still take in today (absent = no limit)."""

    @classmethod
    def of(cls, problem: Problem) -> RuleContext:
        return cls(
            today=problem.today,
            holds={o.unit_id: o.request_id for o in problem.open_offers},
            intake_remaining=intake_remaining(problem.units, problem.intake_used),
        )


def intake_remaining(units, intake_used: Mapping[str, int]) -> dict[str, int]:
    """Per shelter with a daily intake limit: the limit minus today's intake so far."""
    out: dict[str, int] = {}
    for u in units:
        if u.daily_intake_limit is not None and u.shelter_id not in out:
            out[u.shelter_id] = u.daily_intake_limit - intake_used.get(u.shelter_id, 0)
    return out


@dataclass(frozen=True)
class Rule:
    name: str
    excluded_text: str
    """How an excluded unit is described: "{n} units {excluded_text}"."""
    key: Callable[[Unit, RuleContext], Hashable]
    passes: Callable[[Request, Hashable, RuleContext], bool]
    blocked: Callable[[Request], Iterable[Hashable]] | None = None
    """For a rule whose key is a tuple of tokens unique to (nearly) every unit: the tokens this
    request rules out; a unit fails iff one of its tokens is among them. candidates.py then looks
    the few blocked tokens up instead of calling `passes` once per unit (it must agree with `passes`)."""


# ---------------------------------------------------------------- rule helpers


def latest_start(request: Request, today: dt.date) -> dt.date | None:
    """The date by which the unit must be available.

    The request's latest_start; an acute request (placed today) also needs it today.
    """
    deadline = request.latest_start
    if request.urgency == "acute" and (deadline is None or deadline > today):
        deadline = today
    return deadline


def adult_groups(adult: Adult, needs: Needs) -> set[TargetGroup]:
    """Target groups any one of which lets a shelter take this adult (young adults aside)."""
    groups: set[TargetGroup] = set()
    if adult.gender == "female":
        groups.add("women")
    elif adult.gender == "male":
        groups.add("men")
    if needs.lgbtq or adult.gender == "other":
        groups.add("lgbtq")
    return groups


def _takes_adult(groups: frozenset[str], adult: Adult, needs: Needs) -> bool:
    """A shelter takes an adult of one of its groups. Its young adults' group adds honour-related
    18-25s, but never overrides its gender groups: a shelter for women and young adults does not
    take a young man."""
    if adult_groups(adult, needs) & groups:
        return True
    young = needs.honour_related and adult.age is not None and 18 <= adult.age <= 25
    return young and "young_adults" in groups and not groups & {"women", "men"}


def takes_household(groups: frozenset[str], household: Household) -> bool:
    """Every adult is covered by a group the shelter takes; children need "families"."""
    if household.children and "families" not in groups:
        return False
    return all(_takes_adult(groups, a, household.needs) for a in household.adults)


def _speaks(request: Request, spoken: frozenset[str]) -> bool:
    """The staff speak every language the household needs, where the social worker requires it."""
    needs = request.household.needs
    return not needs.require_languages or set(needs.languages) - {"sv"} <= spoken


def _children_within(household: Household, limit: int | None, gender: str) -> bool:
    # A child of gender "other" is held to both limits (the safe reading).
    if limit is None:
        return True
    return all(
        c.age <= limit for c in household.children if c.gender in (gender, "other")
    )


def far_enough(request: Request, m: Municipality) -> bool:
    """At least min_distance_km from every threat municipality (exactly the minimum is allowed)."""
    return all(
        distance_km(t.lat, t.lon, m.lat, m.lon) >= request.min_distance_km
        for t in request.threats
    )


def _outside_excluded(request: Request, key: tuple[str, str], ctx: RuleContext) -> bool:
    code, county = key
    return (
        code not in request.excluded_municipalities
        and county not in request.excluded_counties
        and all(t.code != code for t in request.threats)
    )


def _need(feature: str) -> Rule:
    attr = feature
    return Rule(
        name=f"need_{feature}",
        excluded_text=f"without {feature.replace('_', ' ')}",
        key=lambda u, ctx: feature in u.features,
        passes=lambda r, has, ctx: has or not getattr(r.household.needs, attr),
    )


SHELTER_WIDE_DECLINES = frozenset({"cannot_meet_needs", "security_concern", "too_close_to_threat"})
"""Decline reasons about the shelter (its care, its security, its place), not the unit: after one,
none of the shelter's units is offered to that request again. Any other reason ("full", "other")
and an expired offer rule out that unit only."""


def tried_after(answers: Iterable[tuple[str, str, str | None]]) -> tuple[frozenset[str], frozenset[str]]:
    """(tried unit ids, excluded shelter ids) from a request's declined or expired offers,
    each given as (unit_id, shelter_id, decline reason or None when it expired)."""
    units, shelters = set(), set()
    for unit_id, shelter_id, reason in answers:
        units.add(unit_id)
        if reason in SHELTER_WIDE_DECLINES:
            shelters.add(shelter_id)
    return frozenset(units), frozenset(shelters)


def _tried_tokens(r: Request) -> list[tuple[str, str]]:
    return [("unit", u) for u in r.tried_unit_ids] + [("shelter", s) for s in r.excluded_shelter_ids]


def _untried(r: Request, tokens: tuple[tuple[str, str], tuple[str, str]], ctx: RuleContext) -> bool:
    (_, unit_id), (_, shelter_id) = tokens
    return unit_id not in r.tried_unit_ids and shelter_id not in r.excluded_shelter_ids


DEADLINE_DAYS = {"acute": 1, "days": 7, "planned": 14}
"""Days from waiting_since within which a request of each urgency should be placed."""


# ---------------------------------------------------------------- the rules, in order

RULES: tuple[Rule, ...] = (
    Rule(
        "already_tried",
        "offered before and declined or let expire, or in a shelter that declined this request",
        key=lambda u, ctx: (("unit", u.id), ("shelter", u.shelter_id)),
        passes=_untried,
        blocked=_tried_tokens,
    ),
    Rule(
        "held_by_open_offer",
        "held under an open offer to another request",
        key=lambda u, ctx: ctx.holds.get(u.id),
        passes=lambda r, holder, ctx: holder is None or holder == r.id,
    ),
    Rule(
        "intake_limit",
        "in shelters at today's intake limit",
        key=lambda u, ctx: ctx.intake_remaining.get(u.shelter_id, 1) > 0,
        passes=lambda r, has_room, ctx: has_room,
    ),
    Rule(
        "excluded_area",
        "in an excluded or threat municipality or county",
        key=lambda u, ctx: (u.municipality.code, u.municipality.county_code),
        passes=_outside_excluded,
    ),
    Rule(
        "too_close_to_threat",
        "too close to a threat area",
        key=lambda u, ctx: u.municipality,
        passes=lambda r, m, ctx: far_enough(r, m),
    ),
    Rule(
        "security_level",
        "below the security level needed",
        key=lambda u, ctx: u.security_level,
        passes=lambda r, level, ctx: level >= r.security_level,
    ),
    Rule(
        "protected_data",
        "unable to keep the protected personal data level",
        key=lambda u, ctx: u.protected_data_capability,
        passes=lambda r, cap, ctx: _DATA_RANK[cap] >= _DATA_RANK[r.household.protected_data],
    ),
    Rule(
        "target_group",
        "not taking this kind of household",
        key=lambda u, ctx: u.target_groups,
        passes=lambda r, groups, ctx: takes_household(groups, r.household),
    ),
    Rule(
        "boys_age_limit",
        "with a boys' age limit below a child's age",
        key=lambda u, ctx: u.max_age_boys,
        passes=lambda r, limit, ctx: _children_within(r.household, limit, "male"),
    ),
    Rule(
        "girls_age_limit",
        "with a girls' age limit below a child's age",
        key=lambda u, ctx: u.max_age_girls,
        passes=lambda r, limit, ctx: _children_within(r.household, limit, "female"),
    ),
    _need("wheelchair"),
    _need("pets"),
    _need("substance_use"),
    _need("mental_illness"),
    _need("intellectual_disability"),
    Rule(
        "need_honour_competence",
        "without honour-violence competence",
        key=lambda u, ctx: "honour_competence" in u.features,
        passes=lambda r, has, ctx: has or not r.household.needs.require_honour_competence,
    ),
    Rule(
        "staff_language",
        "whose staff do not speak the household's languages",
        key=lambda u, ctx: u.languages,
        passes=lambda r, spoken, ctx: _speaks(r, spoken),
    ),
    Rule(
        "beds",
        "with too few free beds",
        key=lambda u, ctx: u.beds,
        passes=lambda r, beds, ctx: r.household.size <= beds,
    ),
    Rule(
        "not_available_in_time",
        "not free by the latest start date",
        key=lambda u, ctx: u.available_from,
        passes=lambda r, free_from, ctx: (
            (d := latest_start(r, ctx.today)) is None or free_from <= d
        ),
    ),
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}

KEPT_FOR_ACUTE = "kept_for_acute"
"""Not a rule: the fitting units whose acute price (scoring.acute_price) reaches the request's
priority, so that it is not offered them now. Counted beside the rules' exclusions in "why no match"."""
EXCLUSION_TEXTS: dict[str, str] = {rule.name: rule.excluded_text for rule in RULES} | {
    KEPT_FOR_ACUTE: "kept for expected acute arrivals (priced above this request's priority)"}
EXCLUSION_NAMES: tuple[str, ...] = (*RULE_NAMES, KEPT_FOR_ACUTE)


def violated_rule(request: Request, unit: Unit, ctx: RuleContext) -> str | None:
    """The first hard rule that excludes this pair, or None if the unit fits."""
    for rule in RULES:
        if not rule.passes(request, rule.key(unit, ctx), ctx):
            return rule.name
    return None


def explain_exclusions(excluded: Mapping[str, int]) -> str:
    """'1,240 units too close to a threat area, 310 units without wheelchair, ...'."""
    parts = [
        f"{n:,} units {EXCLUSION_TEXTS[name]}"
        for name, n in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0]))
        if n
    ]
    return ", ".join(parts)
