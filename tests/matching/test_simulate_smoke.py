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
    assert report["machine"]["cores"] >= 1
