"""Bed prices from one linear program: the chained flow (relaxation.py) plus a beds row per shared
unit, solved by GLOP. The beds rows' duals are the best bed prices there are: relaxing those rows
with prices over a flow polytope (integral) gives at best this LP's value (Lagrangian duality), and
the LP finds them in one solve where subgradient steps need many flows.

The prices only start the bed-price steps in solver.py: every bound is still the exact integer
flow at the (rounded) prices, so GLOP's floating point can cost quality, never validity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import linear_solver_pb2 as lp_proto
from ortools.linear_solver.python.model_builder_helper import ModelSolverHelper

from .relaxation import FIRST_REQUEST, SINK, SOURCE, Network, reachable_static_arcs


@dataclass(frozen=True)
class BedLP:
    prices: np.ndarray  # per unit, its beds row's price (>= 0, in cost units)
    pair_flow: np.ndarray  # per pair, its flow in the LP optimum (mostly 0 or 1)
    objective: float  # the optimal arc costs' sum


def solve(
    net: Network, req: np.ndarray, entry: np.ndarray, pair_cost: np.ndarray, unit: np.ndarray,
    size: np.ndarray, beds: np.ndarray, shared: np.ndarray, *, static_cost: np.ndarray | None = None,
    time_limit: float = 10.0,
) -> BedLP | None:
    """The LP optimum of: every request sends one unit of flow (a pair arc to a unit's entry, or its
    arc to the sink), `net`'s capacities, arc costs `pair_cost` and `static_cost` (0 when None), and
    sum(size) <= beds over each shared unit's pairs. None when GLOP finds no optimum within
    `time_limit` seconds."""
    s_idx = reachable_static_arcs(net, entry)
    tails = np.concatenate([net.tails[s_idx], FIRST_REQUEST + req.astype(np.int64)])
    heads = np.concatenate([net.heads[s_idx], entry.astype(np.int64)])
    upper = np.concatenate([net.caps[s_idx], np.ones(req.size, dtype=np.int64)])
    lower = np.where(tails == SOURCE, 1, 0)  # every request's unit of flow leaves the source
    cost = np.concatenate([np.zeros(s_idx.size) if static_cost is None else static_cost[s_idx], pair_cost])
    rows, cols, coef, row_lower, row_upper = _rows(net.n_nodes, tails, heads, s_idx.size, unit, size, beds, shared)
    model = lp_proto.MPModelProto()
    for lo, hi, c in zip(lower.tolist(), upper.tolist(), cost.tolist()):
        model.variable.add(lower_bound=lo, upper_bound=hi, objective_coefficient=c)
    cuts = np.searchsorted(rows, np.arange(row_upper.size + 1)).tolist()
    cols, coef = cols.tolist(), coef.tolist()
    for i, (lo, hi) in enumerate(zip(row_lower.tolist(), row_upper.tolist())):
        model.constraint.add(lower_bound=lo, upper_bound=hi, var_index=cols[cuts[i]:cuts[i + 1]],
                             coefficient=coef[cuts[i]:cuts[i + 1]])
    request = lp_proto.MPModelRequest(model=model, solver_type=lp_proto.MPModelRequest.GLOP_LINEAR_PROGRAMMING,
                                      solver_time_limit_seconds=max(0.0, time_limit))
    response = lp_proto.MPSolutionResponse.FromString(
        ModelSolverHelper("glop").solve_serialized_request(request.SerializeToString()))
    if response.status != lp_proto.MPSOLVER_OPTIMAL:
        return None
    prices = np.zeros(beds.size)
    bed_units = np.unique(unit[shared[unit]])
    # a <= row of a minimisation has a dual <= 0: the price the flow's costs leave out
    prices[bed_units] = np.maximum(0.0, -np.array(response.dual_value)[row_upper.size - bed_units.size:])
    return BedLP(prices, np.array(response.variable_value)[s_idx.size:], response.objective_value)


def _rows(n_nodes, tails, heads, n_static, unit, size, beds, shared):
    """The LP's rows as (row, column, coefficient) triples sorted by row, and each row's bounds: first
    flow conservation (in - out = 0) at every node with an arc except source and sink, then
    sum(size) <= beds per shared unit with a pair (in ascending unit order)."""
    nodes = np.unique(np.concatenate([tails, heads]))
    nodes = nodes[(nodes != SOURCE) & (nodes != SINK)]
    row_of = np.full(n_nodes, -1, dtype=np.int64)
    row_of[nodes] = np.arange(nodes.size)
    arcs = np.arange(tails.size)
    into, out_of = row_of[heads], row_of[tails]
    on_shared = np.flatnonzero(shared[unit])
    bed_units, bed_local = np.unique(unit[on_shared], return_inverse=True)
    rows = np.concatenate([into[into >= 0], out_of[out_of >= 0], nodes.size + bed_local])
    cols = np.concatenate([arcs[into >= 0], arcs[out_of >= 0], n_static + on_shared])
    coef = np.concatenate([np.ones(int((into >= 0).sum())), -np.ones(int((out_of >= 0).sum())),
                           size[on_shared].astype(np.float64)])
    order = np.argsort(rows, kind="stable")
    row_lower = np.concatenate([np.zeros(nodes.size), np.full(bed_units.size, -np.inf)])
    row_upper = np.concatenate([np.zeros(nodes.size), beds[bed_units].astype(np.float64)])
    return rows[order], cols[order], coef[order], row_lower, row_upper
