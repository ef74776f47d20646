"""The look-ahead: a less urgent household pays a price for a unit that expected acute arrivals need,
in fast-track and the batch alike (scoring.acute_price)."""

from __future__ import annotations

import datetime as dt

import msgspec

from matching.fast_track import FastTrack
from matching.lookahead import HISTORY_DAYS, MIN_HISTORY, PROFILES, AcuteDemand, expected_demand, from_history, priced
from matching.solver import solve
from matching_factories import TODAY, problem, request, unit, woman
from matching.types import Needs


def _world():
    # the acute households to expect need a wheelchair; one unit has it, one does not
    units = [unit("accessible", features=frozenset({"wheelchair"}), daily_rate=1000), unit("plain", daily_rate=3000)]
    acute = request("profile", woman(needs=Needs(wheelchair=True)), urgency="acute")
    return units, AcuteDemand((acute,), per_day=0.5, horizon_days=14)


def test_demand_falls_on_the_units_the_acute_profiles_fit():
    units, demand = _world()
    load = expected_demand(units, demand, TODAY)
    assert load[0] == 7.0 and load[1] == 0.0  # 0.5 a day over 14 days, all on the one accessible unit
    assert [u.acute_demand for u in priced(units, demand, TODAY)] == [1.0, 0.0]
    assert priced(units, None, TODAY) == units
    # a "days" model alone is written in too: its price does not wait for an acute history
    days_only = priced(units, None, TODAY, demand)
    assert [(u.acute_demand, u.days_demand) for u in days_only] == [(0.0, 1.0), (0.0, 0.0)]


def test_a_planned_household_goes_elsewhere_and_an_acute_one_gets_the_kept_unit():
    units, demand = _world()
    units = priced(units, demand, TODAY)
    planned = request("planned", urgency="planned", waiting_since=TODAY)
    got = FastTrack(units, today=TODAY).top(planned)
    # without the look-ahead it would take the cheaper accessible unit
    assert [r.unit_id for r in got.ranked] == ["plain"] and got.excluded == {"kept_for_acute": 1}
    assert "kept for expected acute arrivals" in got.explanation
    # an acute household is never kept from a unit, but one that fits both takes the one no expected
    # acute arrival needs, and one that needs the wheelchair gets the kept unit
    acute = request("acute", urgency="acute")
    assert [r.unit_id for r in FastTrack(units, today=TODAY).top(acute).ranked] == ["plain", "accessible"]
    wheelchair = request("wheelchair", woman(needs=Needs(wheelchair=True)), urgency="acute")
    assert [r.unit_id for r in FastTrack(units, today=TODAY).top(wheelchair).ranked] == ["accessible"]
    result = solve(problem([planned], units), 5.0)
    assert [(m.request_id, m.unit_id) for m in result.matches] == [("planned", "plain")]


def test_the_price_grows_with_the_demand_and_waiting_outgrows_it():
    units, demand = _world()
    kept = [u for u in priced(units, demand, TODAY) if u.id == "accessible"]
    # a whole expected acute arrival costs an acute base priority (120): no less urgent household pays it
    for waited in (0, 7, 14, 30):
        planned = request("planned", urgency="planned", waiting_since=TODAY - dt.timedelta(days=waited))
        assert not solve(problem([planned], kept), 5.0).matches, waited
    # priorities: planned 30 + days waited, days 2 x (30 + days waited), the days counted up to the
    # deadline (14 and 7 days); 75 + days waited in the last three days before it, 20 ("days") in the
    # three weeks after it, then 2 x (30 + 7) again; price round(120 x demand)
    cases = (("planned", 0, 0.2, True), ("planned", 0, 0.25, False), ("planned", 7, 0.3, True),
             ("planned", 14, 0.7, True), ("planned", 14, 0.75, False), ("days", 7, 0.65, True),
             ("days", 7, 0.7, False), ("days", 10, 0.15, True), ("days", 10, 0.2, False),
             ("days", 30, 0.6, True), ("days", 30, 0.65, False), ("acute", 0, 1.0, True))
    for urgency, waited, acute_demand, placed in cases:
        unit = msgspec.structs.replace(kept[0], acute_demand=acute_demand)
        r = request(urgency, urgency=urgency, waiting_since=TODAY - dt.timedelta(days=waited))
        assert bool(solve(problem([r], [unit]), 5.0).matches) is placed, (urgency, waited, acute_demand)
        assert bool(FastTrack([unit], today=TODAY).top(r).ranked) is placed, (urgency, waited, acute_demand)


def test_fast_track_and_the_batch_pay_the_same_price_before_fit_and_cost():
    # the accessible unit is cheaper (the lowest level), but in some acute demand (the highest)
    units, _ = _world()
    units = [msgspec.structs.replace(units[0], acute_demand=0.1), units[1]]
    planned = request("planned", urgency="planned", waiting_since=TODAY)
    got = FastTrack(units, today=TODAY).top(planned)
    assert [r.unit_id for r in got.ranked] == ["plain", "accessible"]
    assert [r.score.priority for r in got.ranked] == [30, 30 - 12]
    result = solve(problem([planned], units), 5.0)
    assert [(m.unit_id, m.score.priority) for m in result.matches] == [("plain", 30)]


def test_why_no_match_counts_the_units_kept_for_acute_arrivals():
    units, demand = _world()
    accessible = [u for u in priced(units, demand, TODAY) if u.id == "accessible"]
    planned = request("planned", urgency="planned", waiting_since=TODAY)
    result = solve(problem([planned], accessible), 5.0)
    (why,) = result.unmatched
    assert why.fitting_units == 0 and why.excluded == {"kept_for_acute": 1}
    assert "kept for expected acute arrivals" in why.explanation


def test_the_demand_model_comes_from_the_history_alone():
    generated = (request("generated", urgency="acute"),)
    assert from_history(0, (), generated) is None  # no acute request came: nothing is kept
    # a thin history: its rate, the generated mix
    thin = from_history(MIN_HISTORY - 1, (), generated)
    assert thin.profiles == generated and thin.per_day == (MIN_HISTORY - 1) / HISTORY_DAYS
    # enough history: its own mix, at most PROFILES of it
    recent = tuple(request(f"seen{i}", urgency="acute") for i in range(PROFILES + 5))
    full = from_history(len(recent), recent, generated, horizon_days=3.0)
    assert full.profiles == recent[:PROFILES] and full.per_day == len(recent) / HISTORY_DAYS
    assert full.horizon_days == 3.0


def test_a_planned_household_pays_for_the_days_arrivals_a_days_household_only_steers_by_them():
    # "days" demand: a planned household pays 0.75 x 60 x demand and is kept from a unit whose price
    # reaches its priority; a "days" household pays a quarter of its own base priority and is never kept
    busy = unit("busy", daily_rate=1000, days_demand=1.0)
    quiet = unit("quiet", daily_rate=3000)
    planned = request("planned", urgency="planned", waiting_since=TODAY)
    got = FastTrack([busy, quiet], today=TODAY).top(planned)
    assert [r.unit_id for r in got.ranked] == ["quiet"] and got.excluded == {"kept_for_acute": 1}
    assert not solve(problem([planned], [busy]), 5.0).matches
    days = request("days", urgency="days", waiting_since=TODAY)
    got = FastTrack([busy, quiet], today=TODAY).top(days)
    assert [(r.unit_id, r.score.priority) for r in got.ranked] == [("quiet", 60), ("busy", 60 - 15)]
    assert [m.unit_id for m in solve(problem([days], [busy]), 5.0).matches] == ["busy"]
