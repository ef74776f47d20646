"""The look-ahead: units that expected acute arrivals need are kept from less urgent households
until their deadline, by fast-track and the batch alike."""

from __future__ import annotations

import datetime as dt

import msgspec

from matching.fast_track import FastTrack
from matching.lookahead import AcuteDemand, expected_demand, priced
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


def test_a_planned_household_goes_elsewhere_and_an_acute_one_gets_the_kept_unit():
    units, demand = _world()
    units = priced(units, demand, TODAY)
    planned = request("planned", urgency="planned", waiting_since=TODAY)
    got = FastTrack(units, today=TODAY).top(planned)
    # without the look-ahead it would take the cheaper accessible unit
    assert [r.unit_id for r in got.ranked] == ["plain"] and got.excluded == {"kept_for_acute": 1}
    assert "kept for expected acute arrivals" in got.explanation
    acute = request("acute", urgency="acute")
    assert [r.unit_id for r in FastTrack(units, today=TODAY).top(acute).ranked] == ["accessible", "plain"]
    result = solve(problem([planned], units), 5.0)
    assert [(m.request_id, m.unit_id) for m in result.matches] == [("planned", "plain")]


def test_a_less_urgent_household_is_kept_off_on_its_deadline_day_too_until_the_demand_falls():
    units, demand = _world()
    kept = [u for u in priced(units, demand, TODAY) if u.id == "accessible"]
    # placing a planned household in time is worth 1, the unit's expected acute demand 4 x 1
    for waited in (0, 7, 14, 20):
        planned = request("planned", urgency="planned", waiting_since=TODAY - dt.timedelta(days=waited))
        assert not solve(problem([planned], kept), 5.0).matches, waited
    planned = request("planned", urgency="planned", waiting_since=TODAY - dt.timedelta(days=14))
    days = request("days", urgency="days", waiting_since=TODAY - dt.timedelta(days=7))
    for acute_demand, placed in ((0.25, {"planned", "days"}), (0.5, {"days"}), (0.55, set())):
        unit = msgspec.structs.replace(kept[0], acute_demand=acute_demand)
        for r in (planned, days):
            assert bool(solve(problem([r], [unit]), 5.0).matches) is (r.id in placed), (acute_demand, r.id)
