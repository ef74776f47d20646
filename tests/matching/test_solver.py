"""Batch mode on hand-made instances: side rules, objective levels, determinism, hints, limits."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.solver import BatchSolver, solve
from matching.types import Adult, Child, Household, Needs, Offer
from matching.validator import validate
from matching_factories import GOTEBORG, TODAY, problem, request, unit, woman


def placed(result):
    return {m.request_id: m.unit_id for m in result.matches}


def run(p, **kw):
    result = solve(p, time_limit=10, workers=1, seed=0, **kw)
    assert validate(p, result.matches) == []
    return result


def test_two_households_share_a_shared_unit_up_to_its_beds():
    p = problem([request("r1"), request("r2"), request("r3")], [unit("u1", beds=2, shared=True)])
    result = run(p)
    assert len(result.matches) == 2 and result.status == "optimal"


def test_unshared_unit_takes_one_household():
    p = problem([request("r1"), request("r2")], [unit("u1", beds=2)])
    assert len(run(p).matches) == 1


def test_shared_beds_add_up_the_household_sizes():
    family = woman(children=(Child(4, "male"), Child(6, "female")))
    reqs = [request("r1", household=family, urgency="acute", latest_start=None), request("r2"), request("r3")]
    p = problem(reqs, [unit("u1", beds=4, shared=True)])
    result = run(p)
    # the acute family (3 beds) goes first; only one of the singles fits beside it
    assert set(placed(result)) in ({"r1", "r2"}, {"r1", "r3"})
    assert result.status == "optimal"


def test_daily_intake_limit_per_shelter():
    units = [unit(f"u{i}", shelter_id="s1", daily_intake_limit=2) for i in range(4)]
    p = problem([request(f"r{i}") for i in range(4)], units, intake_used={"s1": 1})
    assert len(run(p).matches) == 1


def test_held_unit_goes_to_its_offer_only():
    p = problem([request("r1")], [unit("u1")], open_offers=(Offer("r9", "u1"),))
    result = run(p)
    assert result.matches == ()
    assert result.unmatched[0].excluded == {"held_by_open_offer": 1}


def test_acute_wins_the_last_place_over_planned():
    reqs = [request("r1", urgency="planned", waiting_since=TODAY - dt.timedelta(days=20)),
            request("r2", urgency="acute", latest_start=None)]
    assert placed(run(problem(reqs, [unit("u1")]))) == {"r2": "u1"}


def test_waiting_time_breaks_a_tie_in_urgency():
    reqs = [request("r1", waiting_since=TODAY - dt.timedelta(days=2)),
            request("r2", waiting_since=TODAY - dt.timedelta(days=9))]
    assert placed(run(problem(reqs, [unit("u1")]))) == {"r2": "u1"}


def test_more_placements_beat_better_fit():
    # r1 fits both units, r2 only the big one: both must be placed
    family = woman(children=(Child(4, "male"),) * 3)
    reqs = [request("r1"), request("r2", household=family)]
    units = [unit("big", beds=6), unit("small", beds=1)]
    assert placed(run(problem(reqs, units))) == {"r1": "small", "r2": "big"}


def test_one_adult_does_not_take_the_family_flat_when_a_smaller_fits():
    units = [unit("big", beds=6, daily_rate=1500), unit("small", beds=1, daily_rate=4000)]
    result = run(problem([request("r1")], units))
    assert placed(result) == {"r1": "small"}
    assert result.matches[0].score.fit.size_fit == 4


def test_cost_decides_when_everything_else_is_equal():
    units = [unit("dear", daily_rate=3000), unit("cheap", daily_rate=2000)]
    result = run(problem([request("r1")], units))
    assert placed(result) == {"r1": "cheap"}
    assert result.matches[0].score.daily_rate == 2000


def test_preferred_region_beats_cost():
    units = [unit("pref", daily_rate=4000, municipality=GOTEBORG), unit("cheap", daily_rate=1500)]
    result = run(problem([request("r1", preferred_counties=("14",))], units))
    assert placed(result) == {"r1": "pref"}
    assert result.matches[0].score.fit.preferred_region == 3


def test_unmatched_reason_counts_per_rule():
    man = Household((Adult("male", 40),))
    units = [unit("u1"), unit("u2", security_level=4), unit("u3", beds=0)]
    result = run(problem([request("r1", household=man, security_level=3)], units))
    (u,) = result.unmatched
    assert u.excluded == {"target_group": 1, "security_level": 2}
    assert u.fitting_units == 0
    assert "not taking this kind of household" in u.explanation


def test_unmatched_because_fitting_units_were_taken():
    reqs = [request("r1", urgency="acute", latest_start=None), request("r2")]
    result = run(problem(reqs, [unit("u1")]))
    (u,) = result.unmatched
    assert u.request_id == "r2" and u.fitting_units == 1 and u.fitting_units_taken == 1


def test_same_input_and_seed_give_the_same_answer(generated):
    p = generated(12, 40, seed=3)
    a, b = run(p), run(p)
    assert a.matches == b.matches and a.objective == b.objective


def test_warm_start_from_previous_solution_keeps_the_optimum(generated):
    p = generated(12, 40, seed=4)
    first = run(p)
    again = run(p, previous=first)
    assert again.objective == first.objective and again.status == "optimal"


def test_time_limit_returns_a_valid_solution_and_its_gap(generated):
    p = generated(40, 150, seed=5)
    result = BatchSolver(p).solve(0.01, workers=1, seed=0)
    assert validate(p, result.matches) == []
    assert result.bound >= result.objective and 0 <= result.gap
    if result.status == "optimal":
        assert result.gap == 0


def test_relaxation_proves_optimality_without_shared_units():
    units = [unit(f"u{i}", beds=1 + i % 3) for i in range(6)]
    result = run(problem([request(f"r{i}") for i in range(4)], units))
    assert result.status == "optimal" and result.proof == "relaxation" and result.gap == 0


def test_independent_parts_are_solved_separately():
    # r1 can only go north (Göteborg), r2 only to Stockholm: two components
    reqs = [request("r1", excluded_counties=("01",)), request("r2", excluded_counties=("14",))]
    units = [unit("u1"), unit("u2", municipality=GOTEBORG)]
    result = run(problem(reqs, units))
    assert result.components == 2 and placed(result) == {"r1": "u2", "r2": "u1"}


def test_time_capped_solve_returns_within_its_limit_with_an_honest_bound(generated):
    import time

    p = generated(400, 4_000, seed=3)
    results = []
    for limit in (0.0, 0.3, 1.5):
        t = time.perf_counter()
        result = solve(p, time_limit=limit, workers=1, seed=0)
        elapsed = time.perf_counter() - t
        assert elapsed < limit + 1.0, (limit, elapsed)
        assert validate(p, result.matches) == []
        assert result.objective <= result.bound
        results.append(result)
    # every bound holds, even when pricing or the search was cut short
    best = max(r.objective for r in results)
    assert all(r.bound >= best for r in results)
    assert results[-1].objective >= results[0].objective


def test_arrival_greedy_hint_equals_the_plain_rule_based_baseline(generated):
    """The hint partitions each request's best 64 pairs before sorting them all: same choices
    as taking every request's pairs in full weight order (ties: the unit listed first)."""
    import numpy as np

    p = generated(150, 1500, seed=3)
    s = BatchSolver(p)
    c = s.cands
    assert np.bincount(c.req).max() > 64  # the partition path is exercised
    bounds = s._bounds()
    beds, caps = s.beds.copy(), s.shelter_caps.copy()
    taken = np.zeros(len(s.index), dtype=bool)
    plain = set()
    for r in sorted(range(len(p.requests)), key=lambda i: (p.requests[i].waiting_since, i)):
        a, b = int(bounds[r]), int(bounds[r + 1])
        for j in np.argsort(-c.weight[a:b], kind="stable").tolist():
            u, size = int(c.unit[a + j]), int(s.sizes[r])
            sh = int(s.unit_shelter[u])
            if (sh >= 0 and caps[sh] <= 0) or (beds[u] < size if s.shared[u] else taken[u]):
                continue
            taken[u] = True
            beds[u] -= size
            if sh >= 0:
                caps[sh] -= 1
            plain.add(a + j)
            break
    assert s._greedy_arrival() == plain


def test_lagrangian_step_by_column_generation_has_the_full_flow_value(generated):
    import time

    import numpy as np

    from matching import relaxation as rx

    s = BatchSolver(generated(120, 1200, seed=5))
    c = s.cands
    pairs = np.arange(len(c))
    by_columns = s._lagrangian(pairs, 0, time.perf_counter() + 10, max_iter=1)
    net = rx.build_network(c.req, c.unit, len(s.problem.requests), s.beds, s.shared, s.sizes, s.unit_shelter,
                           s.shelter_caps)
    full = rx.solve_flow(net, c.req, net.entry(c.unit, s.sizes[c.req], s.shared), c.weight, potentials=False)
    assert by_columns.bound == full.value  # no prices yet: the chained flow over every pair


def _exact_optimum(s: BatchSolver, pairs=None) -> int:
    """The lexicographic optimum by CP-SAT over every pair (or the given ones), level by level (no
    flow, no Lagrangian)."""
    import numpy as np
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x, m = s._add_constraints(model, np.arange(len(s.cands)) if pairs is None else pairs)
    for level in s._levels(x, m):
        model.clear_objective()
        model.maximize(level)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 0
        solver.parameters.max_time_in_seconds = 60
        assert solver.solve(model) == cp_model.OPTIMAL
        model.add(level == int(round(solver.objective_value)))
    return int(sum(int(s.cands.weight[p]) for p, var in x.items() if solver.value(var)))


def test_lagrangian_bound_from_the_relaxations_potentials_never_cuts_off_the_optimum(generated):
    """The bed-price bound on the relaxation's reduced costs (clipped, re-clipped as better solutions
    appear, with the potentials of the relaxation over every pair, with and without the LP's cuts)
    stays at or above the exact optimum, and its solutions never exceed it, on instances where the
    relaxation overfills shared units."""
    import time

    import numpy as np

    from matching import relaxation as rx

    exercised = 0
    for seed in range(1, 7):
        s = BatchSolver(generated(40, 300, seed=seed))
        c, n = s.cands, len(s.problem.requests)
        net = rx.build_network(c.req, c.unit, n, s.beds, s.shared, s.sizes, s.unit_shelter, s.shelter_caps)
        entry = net.entry(c.unit, s.sizes[c.req], s.shared)
        rel = rx.solve_relaxation(net, c.req, entry, c.weight, rx.top_k_mask(c.req, c.weight, n, 2))
        if s._over_full(rel.chosen).size == 0:
            continue
        exercised += 1
        optimum = _exact_optimum(s)
        hint = s._greedy_arrival()
        lower = int(c.weight[sorted(hint)].sum())
        kept = np.flatnonzero(rel.reduced_cost <= rel.value - lower)
        for reuse, cuts in (((net, entry, rel), False), ((net, entry, rel), True), (None, False)):
            prices = s._lagrangian(kept, lower, time.perf_counter() + 10, upper=rel.value, optimum=reuse, cuts=cuts)
            bound, value = prices.bound, prices.best_value
            assert max(bound, value) >= optimum, (seed, reuse is None, cuts)
            assert value <= optimum
    assert exercised >= 2


def test_pairs_fixed_out_by_the_bed_prices_never_cut_off_the_optimum(generated):
    """Reduced-cost fixing under the best bed prices keeps a solution worth the exact optimum:
    - unclipped costs over every pair, asked for anything better than optimum - 1 (so one point
      too much pruning shows);
    - clipped costs as the batch uses them, asked for anything better than their best solution;
    on instances where the relaxation overfills shared units and the fixing drops pairs."""
    import time

    import numpy as np

    from matching import relaxation as rx

    pruned = 0
    for seed in (1, 2, 9, 10):
        s = BatchSolver(generated(40, 300, seed=seed))
        c, n = s.cands, len(s.problem.requests)
        net = rx.build_network(c.req, c.unit, n, s.beds, s.shared, s.sizes, s.unit_shelter, s.shelter_caps)
        entry = net.entry(c.unit, s.sizes[c.req], s.shared)
        rel = rx.solve_relaxation(net, c.req, entry, c.weight, rx.top_k_mask(c.req, c.weight, n, 2))
        assert s._over_full(rel.chosen).size > 0, seed
        optimum = _exact_optimum(s)
        every = np.arange(len(c))
        unclipped = s._lagrangian(every, 0, time.perf_counter() + 10)
        fixed = unclipped.could_beat(optimum - 1)
        assert _exact_optimum(s, fixed) == optimum, seed
        pruned += fixed.size < every.size
        hint = s._hint(rel.active, rel.chosen, None)  # as the batch starts it
        lower = int(c.weight[hint].sum())
        kept = np.flatnonzero(rel.reduced_cost <= rel.value - lower)
        clipped = s._lagrangian(kept, lower, time.perf_counter() + 10, upper=rel.value, optimum=(net, entry, rel))
        assert clipped.valid_from is not None, seed
        with pytest.raises(ValueError):
            clipped.could_beat(clipped.valid_from - 1)
        best, best_pairs = (clipped.best_value, clipped.best_pairs) if clipped.best_value > lower else (lower, hint)
        still = np.flatnonzero(rel.reduced_cost <= rel.value - best)
        assert _exact_optimum(s, s._fixed_by_prices(still, clipped, best_pairs, best)) == optimum, seed
    assert pruned >= 2


def test_batch_proven_optimum_equals_cp_sat_over_every_pair_on_generated_instances(generated):
    """Generated instances (several with shared units the relaxation overfills): the batch, asked
    for 2 workers, ends proven optimal, at the optimum CP-SAT finds over every pair on its own;
    at least one of them is proven by the CP-SAT search rather than the relaxation or bed prices."""
    proven_by_search = 0
    for seed in range(1, 11):  # seeds 9 and 10 need the search
        p = generated(40, 300, seed=seed)
        result = BatchSolver(p).solve(20, workers=2, seed=0)
        assert validate(p, result.matches) == []
        assert result.status == "optimal"
        assert result.objective == _exact_optimum(BatchSolver(p))
        proven_by_search += result.proof == "cp_sat"
    assert proven_by_search >= 1


def test_unmatched_counts_agree_with_the_rules_whether_or_not_candidates_were_pruned(generated):
    """Scarce places (120 requests, 60 units): every unmatched request's counts are those of the
    rules themselves, from the full candidate pairs and from pairs pruned to 3 per request alike."""
    p = generated(120, 60, seed=3)
    for pruned in (None, 3):
        s = BatchSolver(p, max_candidates_per_request=pruned)
        result = s.solve(10, workers=1, seed=0)
        assert len(result.unmatched) > 0
        by_id = {r.id: r for r in p.requests}
        for u in result.unmatched:
            request = by_id[u.request_id]
            assert u.fitting_units == s.index.fitting(request).size
            assert u.excluded == s.index.exclusions(request)
            assert u.fitting_units + sum(u.excluded.values()) == len(p.units)


def test_bed_prices_on_capped_pairs_keep_a_valid_bound_and_give_the_same_answer_twice(generated):
    """The path for too many pairs (forced here: caps of 0 and 200 pairs, no CP-SAT): a fixed number
    of capped steps, each repaired, then the prices evaluated over every pair. On instances where
    they lower the bound below the relaxation's, it stays at or above the exact optimum; the solution
    passes the validator, and a second run gives the same matches."""
    for seed in (9, 10):
        p = generated(40, 300, seed=seed)
        results = []
        for _ in range(2):
            s = BatchSolver(p)
            s.MAX_LAGRANGE_PAIRS, s.MAX_LAGRANGE_PRICE_PAIRS, s.MAX_CP_SAT_PAIRS = 0, 200, 0
            results.append(s.solve(20, workers=1, seed=0))
            assert "lagrange_priced_rounds" in s.stats, seed
        first, second = results
        assert validate(p, first.matches) == []
        assert s.stats["lagrangian_bound_below_relaxation"] > 0, seed
        optimum = _exact_optimum(BatchSolver(p))
        assert first.objective <= optimum <= first.bound, seed
        assert first.matches == second.matches


def test_placements_reach_the_best_priority_level_where_cp_sat_cannot_run(generated):
    """Scarce places (150 households, 200 units), down the path of batches too large for CP-SAT
    (forced: no pairs for CP-SAT, no exact completion). Without the placements step the batch ends
    at a lower priority level than CP-SAT proves over every pair (households it could have placed
    wait); with it, at that level, and its fit at that level reaches CP-SAT's optimum too, under a
    bound that still holds. Both solutions pass the validator."""
    p = generated(150, 200, seed=5)
    reference = BatchSolver(p).solve(30, workers=1, seed=0)
    assert reference.status == "optimal"
    levels = {}
    for share in (0.0, BatchSolver.PLACEMENT_SHARE):
        s = BatchSolver(p)
        s.MAX_CP_SAT_PAIRS, s.MIP_SECONDS_PER_PAIR, s.PLACEMENT_SHARE = 0, 1e9, share
        result = s.solve(30, workers=1, seed=0)
        assert validate(p, result.matches) == []
        levels[share] = s._split(result.objective)[0]
    assert result.objective == reference.objective <= result.bound  # the run with placements
    best = s._split(reference.objective)[0]
    assert levels[0.0] < best
    assert levels[BatchSolver.PLACEMENT_SHARE] == best
    assert s.stats["placement_pairs"] > 0


def test_after_the_placements_cp_sat_proves_the_optimum_over_the_pairs_left(generated):
    """The same instance: the placements' better solution leaves fewer pairs under the bed prices.
    With CP-SAT's limit between the counts before and after, CP-SAT runs after the placements and
    proves the optimum CP-SAT finds over every pair."""
    p = generated(150, 200, seed=5)
    probe = BatchSolver(p)
    probe.MAX_CP_SAT_PAIRS, probe.MIP_SECONDS_PER_PAIR = 0, 1e9
    probe.solve(30, workers=1, seed=0)
    before = probe.stats["kept_pairs_under_bed_prices"]
    after = probe.stats["kept_pairs_under_bed_prices_after_placements"]
    assert after < before
    s = BatchSolver(p)
    s.MAX_CP_SAT_PAIRS, s.MIP_SECONDS_PER_PAIR = after, 1e9
    result = s.solve(30, workers=1, seed=0)
    assert validate(p, result.matches) == []
    assert "placement_pairs" in s.stats
    assert result.status == "optimal" and result.proof == "cp_sat"
    assert result.objective == BatchSolver(p).solve(30, workers=1, seed=0).objective


@pytest.mark.parametrize(("size", "seed", "without", "short"), [
    ((150, 200), 18, {"POLISH_FLOWS": 0, "POLISH_NEAR_FLOWS": 0, "POLISH_ROUNDS": 0}, 6),  # no polish at all
    ((500, 5000), 7, {"POLISH_NEAR_FLOWS": 0, "POLISH_ROUNDS": 0}, 3),  # slot flows over the ties only
    ((500, 5000), 4, {"POLISH_ROUNDS": 0}, 3),  # slot flows only, no relaxation-induced neighbourhood
])
def test_polish_brings_the_capped_path_to_the_optimum(generated, size, seed, without, short):
    """The path for too many pairs for CP-SAT and the exact completion (forced: caps of 0 and 200
    pairs, no CP-SAT, no completion), on instances where it ends `short` cost points below CP-SAT's
    proven optimum with the polish (`_polish`) cut down to `without`. With all of it (slot flows over
    the pairs at reduced cost 0 under the bed prices and within a point, the relaxation-induced
    neighbourhood) it reaches that optimum, passes the validator and keeps its bound; a second run
    gives the same matches."""
    p = generated(*size, seed=seed)
    reference = BatchSolver(p).solve(30, workers=1, seed=0)
    assert reference.status == "optimal"
    results = []
    for settings in (without, {}, {}):
        s = BatchSolver(p)
        s.MAX_LAGRANGE_PAIRS, s.MAX_LAGRANGE_PRICE_PAIRS, s.MAX_CP_SAT_PAIRS, s.MIP_SECONDS_PER_PAIR = 0, 200, 0, 1e9
        for name, value in settings.items():
            setattr(s, name, value)
        result = s.solve(20, workers=1, seed=0)
        assert validate(p, result.matches) == []
        assert result.objective <= reference.objective <= result.bound
        results.append(result)
    assert s.stats["polish_flows"] >= 2 and s.stats["polish_rins"] >= 1  # the last run: every step ran
    assert results[0].objective == reference.objective - short
    assert results[1].objective == reference.objective
    assert results[2].matches == results[1].matches


def test_fix_and_resolve_moves_the_household_that_loses_least():
    """The relaxation puts an acute mother with a child (2 beds) and a single woman in a wheelchair
    (1 bed) in the same two-bed shared unit: the chained flow allows one household of 2 and two of
    1 there. The mother has a place nearly as good elsewhere (the same, 5 cost points dearer); the
    single woman has no other place with wheelchair access. Fix and re-solve keeps the single woman
    and moves the mother; keeping the heaviest household first (the acute mother) would leave the
    single woman unplaced."""
    mother = woman(children=(Child(4, "female"),))
    single = woman(needs=Needs(wheelchair=True))
    reqs = [request("mother", household=mother, urgency="acute", latest_start=None),
            request("single", household=single)]
    units = [unit("shared", beds=2, shared=True, features=frozenset({"wheelchair"}), daily_rate=2000),
             unit("flat", beds=2, daily_rate=2500)]
    s = BatchSolver(problem(reqs, units))
    net, entry = s._network()
    rel = s._relax(net, entry, float("inf")).relaxation
    c = s.cands
    assert sorted(s.index.units[u].id for u in c.unit[rel.chosen]) == ["shared", "shared"]  # over-full
    repaired = sorted(s._repair(rel.chosen, None))
    got = {s.problem.requests[c.req[q]].id: s.index.units[c.unit[q]].id for q in repaired}
    assert got == {"single": "shared", "mother": "flat"}


def test_neighbourhood_search_keeps_the_fixed_requests_and_with_all_free_reaches_the_optimum(generated):
    """Around the arrival-order greedy solution of an instance the relaxation overfills: nobody free
    gives that solution back; half the requests free keeps the other half's pairs, passes the
    validator and weighs at least as much; everybody free is the exact optimum."""
    import time

    import numpy as np

    p = generated(40, 300, seed=9)
    s = BatchSolver(p)
    c, n = s.cands, len(p.requests)
    start = np.array(sorted(s._greedy_arrival()), dtype=np.int64)
    every = np.arange(len(c))
    deadline = time.perf_counter() + 30
    assert np.array_equal(s._neighbourhood(start, np.zeros(n, dtype=bool), every, deadline), start)
    half = np.arange(n) % 2 == 0
    found = s._neighbourhood(start, half, every, deadline)
    assert validate(p, s._matches(found)) == []
    assert int(c.weight[found].sum()) >= int(c.weight[start].sum())
    assert np.array_equal(found[~half[c.req[found]]], start[~half[c.req[start]]])
    best = s._neighbourhood(start, np.ones(n, dtype=bool), every, deadline)
    assert validate(p, s._matches(best)) == []
    assert int(c.weight[best].sum()) == _exact_optimum(s) > int(c.weight[start].sum())


def test_lp_rounding_takes_each_requests_pair_with_the_most_flow():
    import numpy as np

    from matching.solver import _most_flow

    req = np.array([0, 0, 1, 1, 2, 3, 3])
    flow = np.array([0.3, 0.7, 1.0, 0.0, 0.0, 0.5, 0.5])
    assert _most_flow(req, flow).tolist() == [1, 2, 5]
