"""The objective: three lexicographic levels folded into one integer per match.

Level 1, priority (per pair): the request's priority (`priority`: URGENCY_WEIGHT[urgency] *
(WAIT_BASE_DAYS + days waited up to the deadline), the last days before the deadline raised and the
first weeks after it lowered), less the unit's price (acute_price: the priority that expected more
urgent arrivals would lose, and a smaller share of its own class's); a pair whose price reaches the
request's priority is not offered.
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


LAST_DAYS = 3
"""A "days" or planned household in its last LAST_DAYS days before its deadline ranks above every other
"days" or planned household (LAST_DAYS_BASE + days waited), below every acute one."""
LAST_DAYS_BASE = max(URGENCY_WEIGHT[u] * (WAIT_BASE_DAYS + DEADLINE_DAYS[u]) for u in ("days", "planned")) + 1
GIVE_WAY_DAYS = 21
"""Past its deadline a "days" or planned household gives way to every household still in time (its
urgency weight x GIVE_WAY_BASE_DAYS, below a fresh planned one) for GIVE_WAY_DAYS days, then holds its
deadline day's priority again: placing it first would no longer save its deadline, and would cost the
deadline of one who can still make it; the bound keeps anyone from waiting behind others without end."""
GIVE_WAY_BASE_DAYS = 10


def last_give_way_day(urgency: str, waiting_since: dt.date, today: dt.date) -> dt.date | None:
    """The last day of the give-way (GIVE_WAY_DAYS) a request is in today, or None when it is not in one."""
    deadline = DEADLINE_DAYS[urgency]
    if urgency != "acute" and deadline < (today - waiting_since).days <= deadline + GIVE_WAY_DAYS:
        return waiting_since + dt.timedelta(days=deadline + GIVE_WAY_DAYS)
    return None


def priority(request: Request, today: dt.date) -> int:
    """Urgency first; within an urgency, the longer waited first, up to the deadline (rules.DEADLINE_DAYS).
    A "days" or planned household on its last days before the deadline goes before the others (LAST_DAYS)
    and one just past it after every household still in time (GIVE_WAY_DAYS); an acute household, and
    every household after the give-way, keeps the priority of its deadline day: never below a fresher
    request of its urgency (bench/simulate.py, docs/decisions.md)."""
    urgency, deadline = request.urgency, DEADLINE_DAYS[request.urgency]
    waited = max(0, (today - request.waiting_since).days)
    if urgency != "acute" and deadline - LAST_DAYS < waited <= deadline:
        return LAST_DAYS_BASE + waited
    if last_give_way_day(urgency, request.waiting_since, today):
        return URGENCY_WEIGHT[urgency] * GIVE_WAY_BASE_DAYS
    return URGENCY_WEIGHT[urgency] * (WAIT_BASE_DAYS + min(waited, deadline))


ACUTE_PRICE_SCALE = 1.0
"""The price of one expected acute arrival, in acute base priorities (URGENCY_WEIGHT["acute"] x
WAIT_BASE_DAYS). Tuned on the simulation (bench/simulate.py, docs/decisions.md, "Past the deadline"):
with the demand read from the history and waiting held at the deadline, 1.5 kept units empty that
less urgent households would have used in time; 0.75 placed fewer acute households in time."""


DAYS_PRICE_SCALE = 0.75
"""The price a planned household pays per expected "days" arrival, in "days" base priorities
(URGENCY_WEIGHT["days"] x WAIT_BASE_DAYS). Tuned on the simulation (docs/decisions.md, "A look-ahead
over every class"): 0.25 gained nothing, 0.5 and 1 less than 0.75 at 85% occupancy."""
OWN_CLASS_PRICE_SCALE = {"acute": 0.5, "days": 0.25, "planned": 0.0}
"""What a household pays per expected arrival of its own urgency, in its own base priorities: less than
its priority, so it never keeps a unit from the household (the own class's demand includes it), but
among the units it fits it takes the one fewer others of its class will need. 0.5 for acute stays a
pure ordering (an acute priority is at least 120, so no acute pair is ever dropped by it)."""


def acute_price(request: Request, acute_demand: float, days_demand: float = 0.0) -> int:
    """What a household pays, in priority points, for a unit that expected more urgent arrivals need
    (Unit.acute_demand, Unit.days_demand, matching.lookahead): the priority it would take away from
    them, acute arrivals for "days" and planned households, "days" arrivals (at DAYS_PRICE_SCALE) for
    planned ones; plus OWN_CLASS_PRICE_SCALE of its own class's demand. The pair's priority is the
    request's less this price; a pair priced at or above the request's priority is no candidate (the
    household takes a unit in lower demand, or waits while its priority grows and the demand falls).
    The price never depends on how long the request has waited: an overdue request pays what a fresh
    one pays, so it never ranks below a fresher one of its urgency (scoring.priority)."""
    urgency = request.urgency
    own = {"acute": acute_demand, "days": days_demand, "planned": 0.0}[urgency]
    price = OWN_CLASS_PRICE_SCALE[urgency] * URGENCY_WEIGHT[urgency] * min(1.0, own)
    if urgency != "acute":
        price += ACUTE_PRICE_SCALE * URGENCY_WEIGHT["acute"] * min(1.0, acute_demand)
    if urgency == "planned":
        price += DAYS_PRICE_SCALE * URGENCY_WEIGHT["days"] * min(1.0, days_demand)
    return round(price * WAIT_BASE_DAYS)


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
    prio = priority(request, today) - acute_price(request, unit.acute_demand, unit.days_demand)
    cost = cost_points(unit.daily_rate)
    return Score(
        priority=prio,
        fit=fit,
        cost_points=cost,
        daily_rate=unit.daily_rate,
        total=weights.total(prio, fit.total, cost),
    )
