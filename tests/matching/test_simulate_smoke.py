"""bench/simulate.py in miniature: it runs in seconds, and no policy beats the hindsight optimum."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SIMULATE = Path(__file__).resolve().parents[2] / "bench" / "simulate.py"


def test_simulation_smoke_run_is_consistent():
    spec = importlib.util.spec_from_file_location("simulate", SIMULATE)
    simulate = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("simulate", simulate)  # its dataclasses look their module up
    spec.loader.exec_module(simulate)
    report = simulate.main(["--smoke"])
    (run,) = report["runs"]
    hindsight = run["hindsight"]
    assert hindsight["status"] == "OPTIMAL"
    for name in simulate.POLICIES:
        figures = run[name]
        # the hindsight optimum is an upper bound for every policy over time
        assert 0 <= figures["weighted"] <= hindsight["weighted"], name
        assert figures["acute_late"] + figures["acute_never"] <= run["acute"]
        assert figures["mean_wait_days"] <= figures["max_wait_days"]
    assert set(report["summary"]["0.85"]["targets"]) == {
        "share_at_least_0.95", "acute_never_at_most_half_of_no_lookahead", "avoidable_acute_misses_at_most_half",
        "mean_wait_within_1.5x_of_no_lookahead", "never_below_greedy"}
    # every acute household without any chance has one of the three reasons
    assert sum(run["acute_without_any_chance_why"].values()) == hindsight["acute_without_any_chance"]
    assert report["machine"]["cores"] >= 1


def test_the_simulated_service_knows_only_the_requests_that_came():
    spec = importlib.util.spec_from_file_location("simulate", SIMULATE)
    simulate = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("simulate", simulate)
    spec.loader.exec_module(simulate)
    places = simulate.load_municipalities(SIMULATE.parents[1] / "sql" / "data" / "municipalities.csv")
    world = simulate.make_world(simulate.Settings(seed=1, occupancy=0.85, households=60, units=30, days=10), places)
    run = simulate.Run(world)
    # day 0: the weeks before only, those of the last HISTORY_DAYS (the window ends today)
    before = sum(a.request.urgency == "acute" and a.day > -simulate.HISTORY_DAYS for a in world.history)
    assert before and simulate.demand(run).per_day == before / simulate.HISTORY_DAYS
    for arrival in world.arrivals[:20]:
        run.arrive(arrival)
    came = sum(a.request.urgency == "acute" for a in world.arrivals[:20])
    assert came and simulate.demand(run).per_day == (before + came) / simulate.HISTORY_DAYS
