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
) -> FlowSolution:
    """Max-weight assignment of requests to units under unit and shelter capacities.

    unit_shelter[u] is the index of u's shelter in shelter_caps, or -1 if the
    shelter has no daily intake limit.
    """
    if len(cands) == 0:
        return FlowSolution(0, np.zeros(0, dtype=np.int64))
    units, unit_local = np.unique(cands.unit, return_inverse=True)
    shelters, shelter_local = np.unique(unit_shelter[units], return_inverse=True)
    limited = shelters >= 0
    n_u, n_s = units.size, shelters.size
    source, sink = 0, 1
    req_node = 2
    unit_node = req_node + n_requests
    shelter_node = unit_node + n_u

    flow = min_cost_flow.SimpleMinCostFlow()
    r = np.arange(n_requests, dtype=np.int64)
    ones_r = np.ones(n_requests, dtype=np.int64)
    zeros_r = np.zeros(n_requests, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(np.full(n_requests, source), req_node + r, ones_r, zeros_r)
    flow.add_arcs_with_capacity_and_unit_cost(req_node + r, np.full(n_requests, sink), ones_r, zeros_r)
    first_pair_arc = 2 * n_requests
    flow.add_arcs_with_capacity_and_unit_cost(
        req_node + cands.req.astype(np.int64),
        unit_node + unit_local.astype(np.int64),
        np.ones(len(cands), dtype=np.int64),
        -cands.weight,
    )
    u_limited = limited[shelter_local]
    heads = np.where(u_limited, shelter_node + shelter_local, sink)
    flow.add_arcs_with_capacity_and_unit_cost(
        unit_node + np.arange(n_u, dtype=np.int64), heads, unit_caps[units], np.zeros(n_u, dtype=np.int64)
    )
    lim_idx = np.flatnonzero(limited)
    if lim_idx.size:
        flow.add_arcs_with_capacity_and_unit_cost(
            shelter_node + lim_idx,
            np.full(lim_idx.size, sink),
            shelter_caps[shelters[lim_idx]].astype(np.int64),
            np.zeros(lim_idx.size, dtype=np.int64),
        )
    flow.set_node_supply(source, n_requests)
    flow.set_node_supply(sink, -n_requests)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RelaxationError(f"min-cost flow failed: {status}")
    pair_flow = flow.flows(np.arange(first_pair_arc, first_pair_arc + len(cands)))
    chosen = np.flatnonzero(pair_flow > 0)
    return FlowSolution(value=-int(flow.optimal_cost()), chosen=chosen)
