"""The priced relaxation: starting from a few pairs per request and adding every pair with a
negative reduced cost reaches the same optimum as one flow over all pairs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import relaxation as rx
from matching.generate import generate_problem
from matching.solver import BatchSolver
from matching_factories import TODAY, synthetic_municipalities

MUNICIPALITIES = synthetic_municipalities(30, seed=1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 30), st.integers(1, 80), st.integers(0, 10_000), st.integers(1, 4))
def test_pricing_from_top_k_reaches_the_full_flow_optimum(n_r, n_u, seed, k):
    p = generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY)
    s = BatchSolver(p)
    c = s.cands
    net = rx.build_network(c.req, c.unit, n_r, s.beds, s.shared, s.sizes, s.unit_shelter, s.shelter_caps)
    entry = net.entry(c.unit, s.sizes[c.req], s.shared)
    full = rx.solve_flow(net, c.req, entry, c.weight, potentials=False)
    priced = rx.solve_relaxation(net, c.req, entry, c.weight, rx.top_k_mask(c.req, c.weight, n_r, k))
    assert priced.value == full.value
    assert int(c.weight[priced.chosen].sum()) == full.value
    assert (priced.reduced_cost >= 0).all() and (priced.reduced_cost[priced.chosen] == 0).all()
    # cut short after its first round (deadline already past): still an upper bound, with reduced
    # costs that bound every pair the same way
    cut = rx.solve_relaxation(net, c.req, entry, c.weight, rx.top_k_mask(c.req, c.weight, n_r, k), deadline=0.0)
    assert cut.value >= full.value and (cut.reduced_cost >= 0).all()
    assert cut.converged or int(c.weight[cut.chosen].sum()) == cut.flow_value <= full.value
    # reduced-cost bound: forcing any pair in costs at least its reduced cost
    if len(c):
        q = int(np.argmax(priced.reduced_cost))
        keep = np.ones(len(c), dtype=bool)
        keep[(c.req == c.req[q]) & (np.arange(len(c)) != q)] = False  # request q's only option is q
        forced = rx.solve_flow(net, c.req[keep], entry[keep], c.weight[keep] + np.where(
            np.flatnonzero(keep) == q, 10**15, 0), potentials=False)
        # with pair q forced (huge bonus), the rest weighs at most value - rc[q]
        assert forced.value - 10**15 <= priced.value - priced.reduced_cost[q] or forced.value < 10**15


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 30), st.integers(1, 80), st.integers(0, 10_000), st.integers(1, 50))
def test_passes_in_chunks_give_what_one_pass_gives(n_r, n_u, seed, chunk):
    """Pricing and entry keys go over the pairs in chunks (262,144 at a time in the batch, so the
    other tests' instances fit in one): any chunk size gives the reduced costs
    -weight + p[request] - p[entry], the pairs outside the flow's set with reduced cost <= 0, and
    the same entry keys as one piece."""
    p = generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY)
    s = BatchSolver(p)
    c = s.cands
    sizes = s.sizes[c.req]
    one_piece = rx.pair_keys(c.unit, sizes, s.shared, chunk=10**9)
    assert np.array_equal(rx.pair_keys(c.unit, sizes, s.shared, chunk=chunk), one_piece)
    net = rx.build_network(c.req, c.unit, n_r, s.beds, s.shared, s.sizes, s.unit_shelter, s.shelter_caps)
    entry = net.entry(c.unit, sizes, s.shared)
    active = rx.top_k_mask(c.req, c.weight, n_r, 1)
    pot = rx.solve_flow(net, c.req[active], entry[active], c.weight[active]).potential
    chunked, whole = np.empty(len(c), dtype=np.int64), np.empty(len(c), dtype=np.int64)
    near_chunked = rx.price(pot, n_r, c.req, entry, c.weight, active, out=chunked, chunk=chunk)
    near_whole = rx.price(pot, n_r, c.req, entry, c.weight, active, out=whole, chunk=10**9)
    expected = -c.weight + pot[rx.FIRST_REQUEST + c.req] - pot[entry]
    assert np.array_equal(chunked, expected) and np.array_equal(whole, expected)
    assert np.array_equal(near_chunked, np.flatnonzero((expected <= 0) & ~active))
    assert np.array_equal(near_whole, near_chunked)


def test_a_pair_whose_entry_the_network_lacks_is_an_error_not_a_stray_arc():
    """The network built for one unit's pairs, asked for the entry of a pair into another unit
    (few keys: binary search; over 100,000: the lookup table): an error each time, where it used
    to become an arc into whatever node the lookup gave."""
    import pytest

    req, unit = np.array([0]), np.array([0])
    sizes, beds, shared = np.array([1]), np.array([1, 1]), np.array([False, False])
    net = rx.build_network(req, unit, 1, beds, shared, sizes, np.array([-1, -1]), np.zeros(0, dtype=np.int64))
    assert net.entry(unit, sizes, shared).tolist() == [net.first_entry]
    for n in (1, 100_001):
        with pytest.raises(rx.RelaxationError):
            net.entry(np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64), shared)


def test_a_flow_on_clipped_reduced_costs_is_kept_only_when_the_true_costs_prove_it():
    """Requests A and B, unshared units 1 and 2; A-1 weighs 1,000, A-2 1, B-1 998 (B fits unit 1
    only). The optimum places A alone in unit 1 (1,000 against 999 for both placed). On costs
    clipped to +-1 around zero potentials every pair costs the same, so the solver places both:
    the true costs' potentials do not settle, and the flow is refused (None), where it used to
    be returned. Near the optimum's own potentials the clipped flow is the optimum."""
    req, unit, weight = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1_000, 1, 998])
    sizes, beds, shared = np.array([1, 1]), np.array([1, 1]), np.array([False, False])
    net = rx.build_network(req, unit, 2, beds, shared, sizes, np.array([-1, -1]), np.zeros(0, dtype=np.int64))
    entry = net.entry(unit, sizes[req], shared)
    cold = rx.solve_flow(net, req, entry, weight)
    assert cold.value == 1_000 and cold.chosen.tolist() == [0]
    assert rx.solve_flow(net, req, entry, weight, near=(np.zeros(net.n_nodes, dtype=np.int64), 1)) is None
    # the check runs even when the caller asks for no potentials
    assert rx.solve_flow(net, req, entry, weight, potentials=False,
                         near=(np.zeros(net.n_nodes, dtype=np.int64), 1)) is None
    near = rx.solve_flow(net, req, entry, weight, near=(cold.potential, rx.NEAR_MIN_CLIP))
    assert near.value == 1_000 and near.chosen.tolist() == [0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 30), st.integers(1, 80), st.integers(0, 10_000), st.integers(1, 50))
def test_a_flow_near_a_smaller_flows_potentials_is_the_optimum_or_refused(n_r, n_u, seed, clip):
    """Each request's best pair first, then every pair on reduced costs under that flow's
    potentials clipped to +-clip: the optimum over every pair (the full flow's value, potentials
    that price every pair at >= 0) or None, never a worse flow."""
    p = generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY)
    s = BatchSolver(p)
    c = s.cands
    net = rx.build_network(c.req, c.unit, n_r, s.beds, s.shared, s.sizes, s.unit_shelter, s.shelter_caps)
    entry = net.entry(c.unit, s.sizes[c.req], s.shared)
    full = rx.solve_flow(net, c.req, entry, c.weight)
    first = rx.top_k_mask(c.req, c.weight, n_r, 1)
    pot = rx.solve_flow(net, c.req[first], entry[first], c.weight[first]).potential
    near = rx.solve_flow(net, c.req, entry, c.weight, near=(pot, clip))
    if near is not None:
        assert near.value == full.value == int(c.weight[near.chosen].sum())
        rc = np.empty(len(c), dtype=np.int64)
        rx.price(near.potential, n_r, c.req, entry, c.weight, np.zeros(len(c), dtype=bool), out=rc)
        assert (rc[np.setdiff1d(np.arange(len(c)), near.chosen)] >= 0).all()
