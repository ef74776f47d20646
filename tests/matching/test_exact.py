"""The exact completion (matching/exact.py): the folded MIP, realising its slots, and the batch's
MIP path measured against CP-SAT's proven optimum on the same instances."""

from __future__ import annotations

import time

import numpy as np
import pytest

from matching import exact
from matching.solver import BatchSolver
from matching.types import Child, Needs
from matching.validator import validate
from matching_factories import TODAY, as_placement, pairs_of, problem, request, unit, woman


def complete(solver: BatchSolver, best: dict[str, str], **kw) -> exact.Completion:
    every = np.arange(len(solver.cands))  # every pair kept: no reduced-cost fixing
    return exact.complete(solver._exact_batch(), every, pairs_of(solver, best), time.perf_counter() + 20, **kw)


def test_two_requests_claiming_one_folded_unit_get_it_in_a_second_round():
    # "best" leaves the cheap vacant unit v empty; both requests would take it. Folded, each gets
    # v's worth as its own slot (a relaxation that places both there); realising gives v to one
    # only, so v joins the contested units and the second model is the real optimum
    p = problem([request("r1"), request("r2")],
                [unit("u1", daily_rate=4000), unit("u2", daily_rate=4500), unit("v", daily_rate=1000)])
    solver = BatchSolver(p)
    done = complete(solver, {"r1": "u1", "r2": "u2"}, crowd_rounds=0)
    got = as_placement(solver, done.pairs)
    assert done.proven and done.rounds == 2
    assert sorted(got.values()) == ["u1", "v"]  # one takes v, the other the better of the rest
    assert validate(p, got.items()) == []
    assert done.value == solver.solve(10, workers=1).objective


def test_crowded_units_join_before_the_first_model():
    p = problem([request("r1"), request("r2")],
                [unit("u1", daily_rate=4000), unit("u2", daily_rate=4500), unit("v", daily_rate=1000)])
    solver = BatchSolver(p)
    done = complete(solver, {"r1": "u1", "r2": "u2"})
    assert done.proven and done.rounds == 1  # v is the best folded unit of two requests: contested at once
    assert done.value == solver.solve(10, workers=1).objective


def test_intake_limit_binds_folded_units_when_realising():
    # two vacant units of one shelter that takes one more household today, each the best of one
    # request: folded, both requests get a slot there; realising counts the intake and places one.
    # Both units are then contested (the shelter was asked too much of), not only the unmet one's
    units = [unit("u1", daily_rate=4000), unit("u2", daily_rate=4500),
             unit("v1", shelter_id="s", daily_rate=1000, daily_intake_limit=1, languages=frozenset({"ar"})),
             unit("v2", shelter_id="s", daily_rate=1000, daily_intake_limit=1, languages=frozenset({"fa"}))]
    p = problem([request("r1", household=woman(needs=Needs(languages=("ar",)))),
                 request("r2", household=woman(needs=Needs(languages=("fa",))))], units)
    solver = BatchSolver(p)
    done = complete(solver, {"r1": "u1", "r2": "u2"}, crowd_rounds=0)
    got = as_placement(solver, done.pairs)
    assert done.proven and validate(p, got.items()) == []
    assert sum(u in ("v1", "v2") for u in got.values()) == 1
    assert done.rounds == 2 and done.contested == 4
    assert done.value == solver.solve(10, workers=1).objective


def test_a_request_left_out_may_take_the_place_of_one_of_equal_priority():
    # one unit, two requests of the same priority; best places r1, but r2 fits it better (staff
    # speak her language). Not every request with a pair is placed in best, so the model keeps
    # the priority level with a row instead of one placement per request
    arabic = woman(needs=Needs(languages=("ar",)))
    p = problem([request("r1"), request("r2", household=arabic)], [unit("u1", languages=frozenset({"ar"}))])
    solver = BatchSolver(p)
    done = complete(solver, {"r1": "u1"})
    assert done.proven and as_placement(solver, done.pairs) == {"r2": "u1"}


def test_shared_unit_beds_hold_in_the_model():
    family = woman(children=(Child(5, "female"),))
    reqs = [request("r1", household=family), request("r2"), request("r3")]
    units = [unit("sh", beds=3, shared=True, daily_rate=1000), unit("a", daily_rate=5000), unit("b", daily_rate=5000),
             unit("c", daily_rate=5000)]
    p = problem(reqs, units)
    solver = BatchSolver(p)
    done = complete(solver, {"r1": "a", "r2": "b", "r3": "c"})
    got = as_placement(solver, done.pairs)
    assert validate(p, got.items()) == []  # the family of 2 and one single at most in the 3 beds
    assert list(got.values()).count("sh") == 2
    assert done.proven and done.value == solver.solve(10, workers=1).objective


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(150, 1500, 7), (150, 1500, 9), (300, 3000, 1), (300, 3000, 6)])
def test_the_batch_mip_path_reaches_cp_sat_s_optimum(generated, shape):
    # the same instance twice: CP-SAT as the batch uses it, and with CP-SAT's pair limit at 0 so
    # that the kept pairs go to the exact completion instead (instances where the earlier phases
    # leave the optimum open, so CP-SAT or the MIP has to find it)
    n_requests, n_units, seed = shape
    p = generated(n_requests, n_units, seed=seed)
    reference = BatchSolver(p).solve(20, workers=1, seed=0)
    assert reference.status == "optimal"
    solver = BatchSolver(p)
    solver.MAX_CP_SAT_PAIRS = 0
    solver.MIP_SECONDS_PER_PAIR = 0.0
    result = solver.solve(60, workers=1, seed=0)
    assert validate(p, result.matches) == []
    assert result.objective == reference.objective
    assert reference.proof == "cp_sat" and solver.stats["mip_rounds"] >= 1
    assert solver.stats["polish_flows"] >= 1  # the slot flows ran first: the fallback if it is cut short
    assert result.status == "optimal" and result.proof in ("mip", "lagrangian")


def test_best_assignment_holds_the_priority_level_first():
    # one unit, an acute request and a planned one whose staff language fits better: the acute one
    # is placed (priority first). Told that everyone is placeable, the MIP must place both, and
    # with room for both it does
    arabic = woman(needs=Needs(languages=("ar",)))
    p = problem([request("acute", urgency="acute", latest_start=None), request("planned", household=arabic)],
                [unit("u1", languages=frozenset({"ar"}))])
    solver = BatchSolver(p)
    every = np.arange(len(solver.cands))
    got = exact.best_assignment(solver._exact_batch(), every, time.perf_counter() + 20)
    assert as_placement(solver, got) == {"acute": "u1"}
    p2 = problem(p.requests, [unit("u1", languages=frozenset({"ar"})), unit("u2")])
    solver2 = BatchSolver(p2)
    every2 = np.arange(len(solver2.cands))
    both = exact.best_assignment(solver2._exact_batch(), every2, time.perf_counter() + 20, all_placeable=True)
    assert as_placement(solver2, both) == {"acute": "u2", "planned": "u1"}


@pytest.mark.parametrize("seed", [3, 11])
def test_best_assignment_is_the_exact_optimum(generated, seed):
    # over every pair of a small generated instance (the priority level by its own MIP first), the
    # value is CP-SAT's lexicographic optimum and the assignment passes the validator
    from test_solver import _exact_optimum

    p = generated(30, 200, seed=seed)
    solver = BatchSolver(p)
    every = np.arange(len(solver.cands))
    got = exact.best_assignment(solver._exact_batch(), every, time.perf_counter() + 30)
    assert validate(p, as_placement(solver, got).items()) == []
    assert int(solver.cands.weight[got].sum()) == _exact_optimum(solver)
