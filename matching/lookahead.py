"""Looking ahead: which free units the acute arrivals of the coming days will need.

A less urgent household that takes a unit an acute household would have needed costs that acute
household its placement (Ahani et al., Operations Research 2024, price such places by sampled
futures). Here the future is a sample of acute requests (the service's recent acute requests, or
generated ones until there is history) and an arrival rate: each expected arrival needs one of the
free units that fit it, each as likely, so a unit's expected acute demand over the look-ahead is

    sum over profiles p it fits of  per_day * horizon_days / len(profiles) / (free units fitting p)

`priced` writes that figure into each unit (Unit.acute_demand), and the same figure over the "days"
requests (Unit.days_demand). A household that takes the unit pays the priority it would take away
from more urgent arrivals (scoring.acute_price, on the objective's first level, in
UnitIndex.pair_weights): "days" and planned households the acute priority, planned households also
0.75 of the "days" priority. It goes to a unit in lower demand when one is as good, and is not offered
a unit whose price reaches its own priority, so it waits until its priority grows or the demand falls
(units free up, or the arrivals take the kept ones). Every household also pays a small share of its
own class's demand (acute 0.5, "days" 0.25 of its base priority), never enough to keep a unit from
it: among the units it fits it takes the one fewer others of its class will need. Fast-track and the
batch score pairs with the same pair_weights, so they share the one mechanism. Tried and not kept
(docs/decisions.md): counting the units expected to free within the horizon as supply (lowers every
price; more acute misses), a lower price on a request's last day, leaving non-acute arrivals to the
day's batch instead of fast-track.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
import numpy as np

from .candidates import UnitIndex
from .rules import RuleContext
from .types import Request, Unit


HORIZON_DAYS = 7.0
"""How far ahead acute demand is counted: 7 days gave the simulation the most acute placements for
the least loss of others (docs/decisions.md), under the hard rule this price replaced and kept with it."""


class AcuteDemand(msgspec.Struct, frozen=True):
    profiles: tuple[Request, ...]
    """Acute requests standing for the mix of acute households to expect."""
    per_day: float
    """Acute arrivals expected per day."""
    horizon_days: float = HORIZON_DAYS
    """How far ahead places are kept: about the time until another fitting unit frees."""


HISTORY_DAYS = 28
"""The acute arrival rate is the acute requests of the last HISTORY_DAYS, per day."""
MIN_HISTORY = 20
"""Fewer acute requests than this in the window: their mix is too thin, the generated mix stands in."""
PROFILES = 200
"""At most this many recent acute requests stand for the mix."""


def from_history(seen: int, recent: Sequence[Request], generated: Sequence[Request],
                 horizon_days: float = HORIZON_DAYS) -> AcuteDemand | None:
    """The acute arrivals to expect, from the service's own history only: `seen` acute requests came in
    the last HISTORY_DAYS; `recent` are (up to PROFILES of) them, their mix once there are MIN_HISTORY,
    else the `generated` mix. None: no acute request came, nothing is kept. The service
    (skyddat_boende/matchmaking/adapter.py) and the simulation (bench/simulate.py) both use it, and
    the same rule over the "days" requests gives the "days" demand (`priced(..., days=...)`)."""
    if not seen:
        return None
    profiles = tuple(recent[:PROFILES]) if seen >= MIN_HISTORY else tuple(generated)
    return AcuteDemand(profiles, per_day=seen / HISTORY_DAYS, horizon_days=horizon_days)


def expected_demand(units: Sequence[Unit], demand: AcuteDemand, today: dt.date) -> np.ndarray:
    """Per unit, the acute arrivals expected to need it within the horizon (see the module doc)."""
    load = np.zeros(len(units))
    if not demand.profiles or not units:
        return load
    index = UnitIndex(units, RuleContext(today=today))
    share = demand.per_day * demand.horizon_days / len(demand.profiles)
    for profile in demand.profiles:
        acute = msgspec.structs.replace(profile, urgency="acute", waiting_since=today, latest_start=None,
                                        tried_unit_ids=frozenset(), excluded_shelter_ids=frozenset())
        idx = index.fitting(acute)
        if idx.size:
            load[idx] += share / idx.size
    return load


def priced(units: Sequence[Unit], demand: AcuteDemand | None, today: dt.date,
           days: AcuteDemand | None = None) -> list[Unit]:
    """The units with their expected acute demand written in, and their expected "days" demand from
    `days` (the same model over the "days" requests), each rounded to 1/20 so that the prices take few
    values; a demand without a model stays 0."""
    out = list(units)
    if demand is not None:
        out = [msgspec.structs.replace(u, acute_demand=_rounded(x))
               for u, x in zip(out, expected_demand(out, demand, today))]
    if days is not None:
        out = [msgspec.structs.replace(u, days_demand=_rounded(x)) for u, x in zip(out, expected_demand(out, days, today))]
    return out


def _rounded(load: float) -> float:
    return round(min(1.0, load) * 20) / 20
