"""The objective: three lexicographic levels folded into one integer per match.

Level 1, priority (per pair): URGENCY_WEIGHT[urgency] * (WAIT_BASE_DAYS + min(days waited, the
request's deadline in days, rules.DEADLINE_DAYS)),
less the unit's acute price when the request is not acute (acute_price: the acute priority that
expected acute arrivals would lose); a pair whose price reaches the request's priority is not offered.
Level 2, fit (per pair): the sum of the FIT_PARTS points below (0..FIT_MAX).
Level 3, cost (per pair): cost points = (RATE_CAP_SEK - daily_rate) // COST_UNIT_SEK (0..COST_MAX), higher is cheaper.
Cost is counted in whole 100 SEK per day, which keeps the folded weights of a large batch well
inside the min-cost flow's int64 cost range.

For a batch of n requests, Weights.for_batch(n) picks w_fit > n * COST_MAX and
w_priority > n * (FIT_MAX * w_fit + COST_MAX), so that any gain at a higher level
outweighs every possible change at the lower levels together: maximising
    total = priority * w_priority + fit * w_fit + cost_points
is exactly the lexicographic optimum. Like the hard rules, each fit part reads one
key from the unit, so candidates.py scores many units with one call per distinct key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from .geo import distance_km
from .rules import DEADLINE_DAYS
from .types import FitParts, Request, Score, Unit

URGENCY_WEIGHT = {"acute": 4, "days": 2, "planned": 1}
WAIT_BASE_DAYS = 30
"""Waiting time: each day waited, up to the deadline, adds 1/30 of the base priority."""

RATE_CAP_SEK = 10_000
COST_UNIT_SEK = 100
COST_MAX = RATE_CAP_SEK // COST_UNIT_SEK


def priority(request: Request, today: dt.date) -> int:
    """Urgency first; within an urgency, the longer waited first, up to the deadline (rules.DEADLINE_DAYS).
    Past its deadline a request keeps the priority of its last day: never below a fresher request of its
    urgency, but no longer climbing above those that can still be placed in time and would otherwise
    miss theirs one after another whenever places are short (bench/simulate.py, docs/decisions.md)."""
    waited = min(max(0, (today - request.waiting_since).days), DEADLINE_DAYS[request.urgency])
    return URGENCY_WEIGHT[request.urgency] * (WAIT_BASE_DAYS + waited)


ACUTE_PRICE_SCALE = 1.0
"""The price of one expected acute arrival, in acute base priorities (URGENCY_WEIGHT["acute"] x
WAIT_BASE_DAYS). Tuned on the simulation (bench/simulate.py, docs/decisions.md, "Past the deadline"):
with the demand read from the history and waiting held at the deadline, 1.5 kept units empty that
less urgent households would have used in time; 0.75 placed fewer acute households in time."""


def acute_price(request: Request, acute_demand: float) -> int:
    """What a less urgent household pays, in priority points, for a unit that expected acute
    arrivals need (Unit.acute_demand, matching.lookahead): the acute priority it would take away.
    The pair's priority is the request's less this price; a pair priced at or above the request's
    priority is no candidate (the household takes a unit in lower demand, or waits while its
    priority grows and the demand falls)."""
    if request.urgency == "acute" or acute_demand <= 0:
        return 0
    return round(ACUTE_PRICE_SCALE * URGENCY_WEIGHT["acute"] * WAIT_BASE_DAYS * min(1.0, acute_demand))


def cost_points(daily_rate: int) -> int:
    return max(0, RATE_CAP_SEK - daily_rate) // COST_UNIT_SEK


# ---------------------------------------------------------------- fit parts


@dataclass(frozen=True)
class FitPart:
    name: str  # a FitParts field
    max_points: int
    key: Callable[[Unit], Hashable]
    points: Callable[[Request, Hashable], int]


def _region(r: Request, county: str) -> int:
    return 3 if county in r.preferred_counties else 0


def _distance(r: Request, m) -> int:
    if r.near is None or r.max_distance_km is None:
        return 0
    return 3 if distance_km(r.near.lat, r.near.lon, m.lat, m.lon) <= r.max_distance_km else 0


def _language(r: Request, spoken: frozenset[str]) -> int:
    needed = set(r.household.needs.languages) - {"sv"}
    if not needed:
        return 0
    covered = len(needed & spoken)
    return 3 if covered == len(needed) else (1 if covered else 0)


def _size_fit(r: Request, beds_shared: tuple[int, bool]) -> int:
    beds, shared = beds_shared
    if shared:  # beds left over stay usable by other households
        return 4
    return 4 - min(4, max(0, beds - r.household.size))


FIT_PARTS: tuple[FitPart, ...] = (
    FitPart("preferred_region", 3, lambda u: u.municipality.county_code, _region),
    FitPart("within_distance", 3, lambda u: u.municipality, _distance),
    FitPart("language", 3, lambda u: u.languages, _language),
    FitPart(
        "honour_competence",
        3,
        lambda u: "honour_competence" in u.features,
        lambda r, has: 3 if has and r.household.needs.honour_related else 0,
    ),
    FitPart(
        "lgbtq_competence",
        2,
        lambda u: "lgbtq_competence" in u.features,
        lambda r, has: 2 if has and r.household.needs.lgbtq else 0,
    ),
    FitPart(
        "within_budget",
        2,
        lambda u: u.daily_rate,
        lambda r, rate: 2 if r.max_daily_rate is not None and rate <= r.max_daily_rate else 0,
    ),
    FitPart("size_fit", 4, lambda u: (u.beds, u.shared), _size_fit),
)
FIT_MAX = sum(p.max_points for p in FIT_PARTS)


def fit_parts(request: Request, unit: Unit) -> FitParts:
    return FitParts(**{p.name: p.points(request, p.key(unit)) for p in FIT_PARTS})


# ---------------------------------------------------------------- weights


@dataclass(frozen=True)
class Weights:
    priority: int
    fit: int
    cost: int = 1

    @classmethod
    def for_batch(cls, n_requests: int) -> Weights:
        n = max(1, n_requests)
        w_fit = n * COST_MAX + 1
        return cls(priority=n * (FIT_MAX * w_fit + COST_MAX) + 1, fit=w_fit)

    def total(self, prio: int, fit: int, cost: int) -> int:
        return prio * self.priority + fit * self.fit + cost * self.cost

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.priority, self.fit, self.cost)


def score(request: Request, unit: Unit, today: dt.date, weights: Weights) -> Score:
    """The explained score of placing this request in this unit (rules are not checked here)."""
    fit = fit_parts(request, unit)
    prio = priority(request, today) - acute_price(request, unit.acute_demand)
    cost = cost_points(unit.daily_rate)
    return Score(
        priority=prio,
        fit=fit,
        cost_points=cost,
        daily_rate=unit.daily_rate,
        total=weights.total(prio, fit.total, cost),
    )
