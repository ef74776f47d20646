"""The assignment relaxation: a max-weight flow (OR-Tools min-cost flow) by column generation, its
node potentials pricing every pair (matching/README.md, "The batch", step 2).

    source -> request -> entry(unit, size) -> ... -> shelter (or sink) -> sink;  request -> sink
"""

import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from .capacity import Capacity

SOURCE, SINK, FIRST_REQUEST = 0, 1, 2


@dataclass(frozen=True)
class Network:
    """The fixed part of the flow network: request, entry and shelter nodes and their arcs."""

    n_requests: int
    n_nodes: int
    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray

    def with_pairs(self, req: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tails, heads and capacities of the fixed arcs, then one arc per pair (request -> its entry)."""
        return (np.concatenate([self.tails, FIRST_REQUEST + req]), np.concatenate([self.heads, entry]),
                np.concatenate([self.caps, np.ones(req.size, dtype=np.int64)]))


def build_network(req: np.ndarray, unit: np.ndarray, n_requests: int, cap: Capacity) -> tuple[Network, np.ndarray]:
    """The network for these pairs under `cap`, and each pair's entry node. A shared unit with B beds
    has an entry per household size s among its pairs, chained from the largest down, the arc leaving
    size s with capacity B // s: a relaxation of its beds, every other rule exact."""
    keys, entry = np.unique(unit.astype(np.int64) * 64 + np.where(cap.shared[unit], cap.size[req], 0),
                            return_inverse=True)  # household sizes are < 64
    e_unit, e_size = keys // 64, keys % 64
    first_entry = FIRST_REQUEST + n_requests
    first_shelter = first_entry + keys.size
    shelters, shelter_local = np.unique(cap.shelter[e_unit], return_inverse=True)
    limited = shelters >= 0
    e = np.arange(keys.size, dtype=np.int64)
    # keys ascend by size within a unit: size s's node flows into the next smaller size's node
    to_shelter = np.where(limited[shelter_local], first_shelter + shelter_local, SINK)
    e_heads = np.where(np.r_[False, e_unit[1:] == e_unit[:-1]], first_entry + e - 1, to_shelter)
    e_caps = np.where(cap.shared[e_unit], cap.beds[e_unit] // np.maximum(e_size, 1), 1)
    lim, r = np.flatnonzero(limited), np.arange(n_requests, dtype=np.int64)
    tails = np.concatenate([np.full(n_requests, SOURCE), FIRST_REQUEST + r, first_entry + e, first_shelter + lim])
    heads = np.concatenate([FIRST_REQUEST + r, np.full(n_requests, SINK), e_heads, np.full(lim.size, SINK)])
    caps = np.concatenate([np.ones(2 * n_requests, dtype=np.int64), e_caps, np.maximum(cap.intake[shelters[lim]], 0)])
    net = Network(n_requests, int(first_shelter + shelters.size), *(a.astype(np.int64) for a in (tails, heads, caps)))
    return net, first_entry + entry.reshape(-1)


def solve_flow(net: Network, req: np.ndarray, entry: np.ndarray, weight: np.ndarray):
    """The max-weight flow over these pair arcs: its value, the pairs with flow, node potentials."""
    n_static = net.tails.size
    tails, heads, caps = net.with_pairs(req, entry)
    costs = np.concatenate([np.zeros(n_static, dtype=np.int64), -weight.astype(np.int64)])
    # each request sends one unit, so taking its best pair's cost off all its arcs shifts every flow
    # by one constant: the solver sees small numbers, the losses against the best pair
    offset = np.zeros(net.n_nodes, dtype=np.int64)
    np.minimum.at(offset, tails[n_static:], costs[n_static:])
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs - offset[tails])
    solver.set_node_supply(SOURCE, net.n_requests)
    solver.set_node_supply(SINK, -net.n_requests)
    if (status := solver.solve()) != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    flows = solver.flows(np.arange(tails.size))
    potential = _potentials(net.n_nodes, tails, heads, costs, caps, flows)
    return -int(costs @ flows), np.flatnonzero(flows[n_static:] > 0), potential


def _potentials(n_nodes, tails, heads, costs, caps, flows) -> np.ndarray:
    """-(shortest distance to a virtual target) in the residual graph (Bellman-Ford): every residual
    arc's reduced cost >= 0, each node as low as that allows, so pairs outside the flow price tightly."""
    fwd, bwd = flows < caps, flows > 0
    t = np.concatenate([tails[fwd], heads[bwd]])
    order = np.argsort(t, kind="stable")
    t, h = t[order], np.concatenate([heads[fwd], tails[bwd]])[order]
    c = np.concatenate([costs[fwd], -costs[bwd]])[order]
    sources, starts = np.unique(t, return_index=True)
    d = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(c + d[h], starts)
        improved = best < d[sources]
        if not improved.any():
            return -d
        d[sources[improved]] = best[improved]
    raise RuntimeError("negative cycle: the flow is not optimal")


@dataclass(frozen=True)
class Relaxation:
    value: int  # an upper bound on every solution (the optimum over every pair when converged)
    chosen: np.ndarray  # the pairs with flow
    reduced_cost: np.ndarray  # per pair: a solution using it weighs at most value - reduced_cost
    active: np.ndarray  # the pairs that had an arc in the last flow
    potential: np.ndarray  # the last flow's node potentials


def solve_relaxation(net: Network, req: np.ndarray, entry: np.ndarray, weight: np.ndarray, start: np.ndarray,
                     *, per_round: int = 8, deadline: float | None = None) -> Relaxation:
    """The flow over every pair (grouped by request) by column generation from the pairs in `start`
    (a mask). Stopped by `deadline` (perf_counter) before another round, its value is still a bound."""
    active = start.copy()
    while True:
        t0 = time.perf_counter()
        idx = np.flatnonzero(active)
        value, chosen, p = solve_flow(net, req[idx], entry[idx], weight[idx])
        rc, chosen = p[FIRST_REQUEST + req] - p[entry] - weight, idx[chosen]
        out = np.flatnonzero((rc <= 0) & ~active)  # ties join too: they are the flow's alternatives
        if not (rc[out] < 0).any():
            rc = np.maximum(rc, 0)
            rc[chosen] = 0
            return Relaxation(value, chosen, rc, idx, p)
        now = time.perf_counter()
        if deadline is not None and now + (now - t0) > deadline:
            # raise each request's potential by its most negative reduced cost: a feasible dual,
            # worth at most that much more (each request sends one unit)
            low = np.zeros(net.n_requests, dtype=np.int64)
            np.minimum.at(low, req[out], rc[out])
            return Relaxation(value - int(low.sum()), chosen, np.maximum(rc - low[req], 0), idx, p)
        active[_most_negative(req, rc, out, per_round)] = True


def _most_negative(req: np.ndarray, rc: np.ndarray, out: np.ndarray, k: int) -> np.ndarray:
    """Of the pairs `out` (ascending, so grouped by request), each request's k of least `rc`."""
    groups = np.split(out, np.flatnonzero(np.diff(req[out])) + 1) if out.size else []
    return np.concatenate([at if at.size <= k else at[np.argpartition(rc[at], k - 1)[:k]] for at in groups] or [out])


def top_k_mask(req: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Each request's k heaviest pairs."""
    mask = np.zeros(req.size, dtype=bool)
    mask[_most_negative(req, -weight, np.arange(req.size), k)] = True
    return mask
