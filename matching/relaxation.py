"""The assignment relaxation, solved exactly with OR-Tools' min-cost-flow.

Network (costs are negated weights, so the min-cost flow is the max-weight assignment):

    source -> request        capacity 1
    request -> sink          capacity 1, cost 0        (the request stays unmatched)
    request -> unit          capacity 1, cost -weight  (one arc per candidate pair)
    unit -> shelter          capacity: 1, or for a shared unit beds // smallest candidate household
    shelter -> sink          capacity: the shelter's remaining daily intake
    unit -> sink             (instead of unit -> shelter, when the shelter has no intake limit)

It keeps every hard rule except one: in a shared unit it counts households instead
of adding up their beds. So its optimum is an upper bound on the true optimum, and
it *is* the true optimum when no shared unit is over-full (checked by the solver).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from .candidates import Candidates


@dataclass(frozen=True)
class FlowSolution:
    value: int
    """Total weight of the relaxation optimum (an upper bound)."""
    chosen: np.ndarray
    """Indices into the candidate arrays of the pairs with flow."""
    reduced_cost: np.ndarray
    """Per candidate pair: a lower bound on how much the optimum drops if the pair is used
    (0 for pairs in the relaxation's solution). Any solution using pair p weighs at most
    value - reduced_cost[p]: the basis of reduced-cost fixing in solver.py."""


class RelaxationError(RuntimeError):
    pass


def unit_household_caps(
    cands: Candidates, n_units: int, beds: np.ndarray, shared: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """How many households each unit can hold at most (relaxing beds to a count)."""
    smallest = np.full(n_units, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, cands.unit, sizes[cands.req])
    caps = np.ones(n_units, dtype=np.int64)
    has = shared & (smallest < np.iinfo(np.int64).max)
    caps[has] = beds[has] // smallest[has]
    return caps


def solve_relaxation(
    cands: Candidates,
    n_requests: int,
    unit_caps: np.ndarray,
    unit_shelter: np.ndarray,
    shelter_caps: np.ndarray,
    *,
    reduced_costs: bool = True,
) -> FlowSolution:
    """Max-weight assignment of requests to units under unit and shelter capacities.

    unit_shelter[u] is the index of u's shelter in shelter_caps, or -1 if the
    shelter has no daily intake limit.
    """
    if len(cands) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return FlowSolution(0, empty, empty)
    units, unit_local = np.unique(cands.unit, return_inverse=True)
    shelters, shelter_local = np.unique(unit_shelter[units], return_inverse=True)
    limited = shelters >= 0
    n_u = units.size
    source, sink = 0, 1
    req_node = 2
    unit_node = req_node + n_requests
    shelter_node = unit_node + n_u
    n_nodes = shelter_node + shelters.size

    r = np.arange(n_requests, dtype=np.int64)
    u = np.arange(n_u, dtype=np.int64)
    lim_idx = np.flatnonzero(limited)
    n_pairs = len(cands)
    tails = np.concatenate([
        np.full(n_requests, source), req_node + r,
        req_node + cands.req.astype(np.int64),
        unit_node + u, shelter_node + lim_idx,
    ])
    heads = np.concatenate([
        req_node + r, np.full(n_requests, sink),
        unit_node + unit_local.astype(np.int64),
        np.where(limited[shelter_local], shelter_node + shelter_local, sink),
        np.full(lim_idx.size, sink),
    ])
    caps = np.concatenate([
        np.ones(2 * n_requests + n_pairs, dtype=np.int64),
        unit_caps[units].astype(np.int64),
        shelter_caps[shelters[lim_idx]].astype(np.int64),
    ])
    costs = np.zeros(tails.size, dtype=np.int64)
    first_pair = 2 * n_requests
    costs[first_pair:first_pair + n_pairs] = -cands.weight

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(source, n_requests)
    flow.set_node_supply(sink, -n_requests)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RelaxationError(f"min-cost flow failed: {status}")
    flows = flow.flows(np.arange(tails.size))
    pair_flow = flows[first_pair:first_pair + n_pairs]
    if not reduced_costs:
        return FlowSolution(-int(flow.optimal_cost()), np.flatnonzero(pair_flow > 0), np.zeros(0, dtype=np.int64))
    potential = _potentials(n_nodes, tails, heads, costs, caps, flows)
    pair_tails = tails[first_pair:first_pair + n_pairs]
    pair_heads = heads[first_pair:first_pair + n_pairs]
    rc = costs[first_pair:first_pair + n_pairs] + potential[pair_tails] - potential[pair_heads]
    # a used pair costs nothing to keep; an unused one at least its reduced cost to force in
    rc = np.where(pair_flow > 0, 0, np.maximum(rc, 0))
    return FlowSolution(value=-int(flow.optimal_cost()), chosen=np.flatnonzero(pair_flow > 0), reduced_cost=rc)


def _potentials(n_nodes, tails, heads, costs, caps, flows) -> np.ndarray:
    """Node potentials proving the flow optimal: shortest distances in the residual graph
    from a virtual root (Bellman-Ford, vectorised). Every residual arc then has
    cost + p[tail] - p[head] >= 0."""
    fwd = flows < caps
    bwd = flows > 0
    t = np.concatenate([tails[fwd], heads[bwd]])
    h = np.concatenate([heads[fwd], tails[bwd]])
    c = np.concatenate([costs[fwd], -costs[bwd]])
    order = np.argsort(h, kind="stable")
    t, h, c = t[order], h[order], c[order]
    targets, starts = np.unique(h, return_index=True)
    d = np.zeros(n_nodes, dtype=np.int64)
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(d[t] + c, starts)
        improved = best < d[targets]
        if not improved.any():
            return d
        d[targets[improved]] = best[improved]
    raise RelaxationError("negative cycle: the flow is not optimal")
