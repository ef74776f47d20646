"""The LP's bed prices (bed_lp.py): the chained flow plus every shared unit's beds row (and cuts). Its
value lies between the integer optimum and the chained flow's; no bed prices give a lower Lagrangian
bound, and its own prices give its value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from matching import bed_lp
from matching import relaxation as rx
from matching.generate import generate_problem
from matching.solver import BatchSolver
from matching_factories import TODAY, synthetic_municipalities

MUNICIPALITIES = synthetic_municipalities(30, seed=1)


def test_three_beds_for_households_of_two_one_and_one():
    """One shared unit with 3 beds; households of 2, 1 and 1 people worth 10, 6 and 6. The chained
    flow places all three (22: at most one household of 2 or more, at most three of 1 or more); the
    LP fills the beds with the two singles and half the pair (17, a bed price of 5); the integer
    optimum is 16."""
    req, unit = np.array([0, 1, 2]), np.array([0, 0, 0])
    sizes, beds, shared = np.array([2, 1, 1]), np.array([3]), np.array([True])
    net = rx.build_network(req, unit, 3, beds, shared, sizes, np.array([-1]), np.zeros(0, dtype=np.int64))
    entry = net.entry(unit, sizes, shared)
    weight = np.array([10, 6, 6])
    assert rx.solve_flow(net, req, entry, weight, potentials=False).value == 22
    lp = bed_lp.solve(net, req, entry, -weight, unit, sizes, beds, shared)
    assert lp.objective == pytest.approx(-17)
    assert lp.prices == pytest.approx([5])
    assert lp.pair_flow == pytest.approx([0.5, 1, 1])
    at_price = rx.solve_flow(net, req, entry, weight - 5 * sizes, potentials=False).value + 5 * 3
    assert at_price == 17
    # the cut the chained flow breaks: at most 2 of the three fit together; with that row the LP
    # reaches the integer optimum, and so does the flow at its prices
    cut = bed_lp.solve(net, req, entry, -weight, unit, sizes, beds, shared, seed_flow=np.ones(3))
    assert [(c.members.tolist(), c.most) for c in cut.cuts] == [([0, 1, 2], 2)]
    assert cut.objective == pytest.approx(-16)
    per_pair, share = cut.pair_cut_prices(1)
    lam = int(round(cut.prices[0]))
    assert rx.solve_flow(net, req, entry, weight - lam * sizes - per_pair, potentials=False).value \
        + lam * 3 + share == 16


def _instance(n_r, n_u, seed, price_seed):
    """A generated instance's solver, network, entry nodes and random pair weights 0-40."""
    s = BatchSolver(generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY))
    c = s.cands
    weight = np.random.default_rng(price_seed).integers(0, 41, size=len(c))
    net = rx.build_network(c.req, c.unit, n_r, s.beds, s.shared, s.sizes, s.unit_shelter, s.shelter_caps)
    return s, net, net.entry(c.unit, s.sizes[c.req], s.shared), weight


def _chained_flow(net, c, entry, weight) -> np.ndarray:
    """The chained flow's optimum as a flow per pair (0 or 1)."""
    flow = np.zeros(len(c))
    flow[rx.solve_flow(net, c.req, entry, weight, potentials=False).chosen] = 1
    return flow


def _lagrangian_bound(net, c, entry, sizes, s, weight, prices, K):
    """The flow bound at the given bed prices, rounded to 1/K (exact integers: valid for any prices)."""
    lk = np.round(prices * K).astype(np.int64)
    flow = rx.solve_flow(net, c.req, entry, weight * K - lk[c.unit] * sizes, potentials=False)
    return (flow.value + int((lk * s.beds).sum())) / K


def _integer_optimum(s: BatchSolver, weight: np.ndarray) -> int:
    model = cp_model.CpModel()
    x, _ = s._add_constraints(model, np.arange(len(s.cands)))
    model.maximize(cp_model.LinearExpr.weighted_sum(list(x.values()), weight.tolist()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return int(round(solver.objective_value))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 25), st.integers(2, 40), st.integers(0, 10_000), st.integers(0, 2**31))
def test_no_bed_prices_beat_the_lp_and_its_own_give_its_value(n_r, n_u, seed, price_seed):
    """Generated instances with random pair weights 0-40 (small, so GLOP's value is exact to far
    below a point): integer optimum <= LP value <= chained flow; the flow bound at random bed
    prices is never below the LP value (weak duality), and at the LP's own prices (to 1/1024) it
    is the LP value."""
    s, net, entry, weight = _instance(n_r, n_u, seed, price_seed)
    c, sizes = s.cands, s.sizes[s.cands.req]
    if len(c) == 0:
        return
    rng = np.random.default_rng(price_seed + 1)
    lp = bed_lp.solve(net, c.req, entry, -weight, c.unit, sizes, s.beds, s.shared)
    value = -lp.objective
    optimum = _integer_optimum(s, weight)
    assert optimum <= value + 1e-6
    assert value <= rx.solve_flow(net, c.req, entry, weight, potentials=False).value + 1e-6
    assert (lp.prices >= 0).all() and (lp.prices[~s.shared] == 0).all()
    K = 1024
    random_prices = np.where(s.shared, rng.uniform(0, 20, size=s.beds.size), 0.0)
    assert _lagrangian_bound(net, c, entry, sizes, s, weight, random_prices, K) >= value - 1e-6
    assert _lagrangian_bound(net, c, entry, sizes, s, weight, lp.prices, K) == pytest.approx(value, abs=0.5)
    # with the cuts the chained flow breaks: still at or above the integer optimum, never above the
    # LP without them, and the flow at all its prices (cuts' included) bounds the optimum too
    cut = bed_lp.solve(net, c.req, entry, -weight, c.unit, sizes, s.beds, s.shared,
                       seed_flow=_chained_flow(net, c, entry, weight))
    assert optimum <= -cut.objective + 1e-6 <= value + 2e-6
    for one in cut.cuts:
        assert bed_lp.most_that_fit(sizes[one.members], int(s.beds[c.unit[one.members[0]]])) == one.most
        assert (c.unit[one.members] == c.unit[one.members[0]]).all()
    per_pair, share = cut.pair_cut_prices(K)
    lk = np.round(cut.prices * K).astype(np.int64)
    flow = rx.solve_flow(net, c.req, entry, weight * K - lk[c.unit] * sizes - per_pair, potentials=False)
    assert (flow.value + int((lk * s.beds).sum()) + share) / K >= optimum


def test_every_request_sends_its_unit_of_flow_as_in_the_flow_solver():
    """With clipped costs (as the batch passes them) a request's arc to the sink can cost more than
    its pair: one request, one unit, the sink arc costing 3 and the pair 2. The LP, like the min-cost
    flow with its supply, must route the request somewhere (cost 2), not drop it (cost 0)."""
    req, unit = np.array([0]), np.array([0])
    sizes, beds, shared = np.array([1]), np.array([1]), np.array([False])
    net = rx.build_network(req, unit, 1, beds, shared, sizes, np.array([-1]), np.zeros(0, dtype=np.int64))
    entry = net.entry(unit, sizes, shared)
    static_cost = np.where((net.tails == rx.FIRST_REQUEST) & (net.heads == rx.SINK), 3, 0)
    lp = bed_lp.solve(net, req, entry, np.array([2]), unit, sizes, beds, shared, static_cost=static_cost)
    flow = rx.solve_flow(net, req, entry, np.array([-2]), potentials=False, static_cost=static_cost)
    assert lp.objective == pytest.approx(2) == -flow.value
    assert lp.pair_flow == pytest.approx([1])


def test_cuts_lower_the_lp_and_the_bound_at_its_prices_where_it_splits_households():
    """A generated instance (20 requests, 39 units, seed 10, weights seed 2) where the chained flow
    overfills shared units: the cuts it breaks lower the LP's value (467.25 -> 446), not below the
    integer optimum, and the flow at its prices, the cuts' included, gives a lower bound than at the
    LP's prices without cuts."""
    s, net, entry, weight = _instance(20, 39, 10, 2)
    c, sizes = s.cands, s.sizes[s.cands.req]
    plain = bed_lp.solve(net, c.req, entry, -weight, c.unit, sizes, s.beds, s.shared)
    cut = bed_lp.solve(net, c.req, entry, -weight, c.unit, sizes, s.beds, s.shared,
                       seed_flow=_chained_flow(net, c, entry, weight))
    assert len(cut.cuts) >= 1
    assert _integer_optimum(s, weight) <= -cut.objective + 1e-6 < -plain.objective - 10
    K = 1024
    lk = np.round(cut.prices * K).astype(np.int64)
    per_pair, share = cut.pair_cut_prices(K)
    with_cuts = rx.solve_flow(net, c.req, entry, weight * K - lk[c.unit] * sizes - per_pair, potentials=False)
    assert (with_cuts.value + int((lk * s.beds).sum()) + share) / K == pytest.approx(-cut.objective, abs=0.5)
    assert (with_cuts.value + int((lk * s.beds).sum()) + share) / K < \
        _lagrangian_bound(net, c, entry, sizes, s, weight, plain.prices, K) - 10
