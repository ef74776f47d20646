"""Bed prices from a linear program: the relaxation's flow (relaxation.py) plus one row per shared
unit, sum(household sizes) <= beds, solved by GLOP. Those rows' duals are the best bed prices for
a Lagrangian bound (prices.py); GLOP's floating point can only make them worse, never the bound
invalid, since the bound is the exact integer flow at the prices."""

from __future__ import annotations

import numpy as np
from ortools.linear_solver.python.model_builder_helper import ModelBuilderHelper, ModelSolverHelper, SolveStatus

from .capacity import Capacity
from .relaxation import FIRST_REQUEST, SINK, SOURCE, Network, _reachable_static_arcs


def bed_prices(net: Network, req: np.ndarray, unit: np.ndarray, entry: np.ndarray, pair_cost: np.ndarray,
               static_cost: np.ndarray, cap: Capacity, time_limit: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Per unit, its beds row's price (>= 0, in cost units) in the LP optimum over these pairs with
    the given arc costs, and per pair its flow there; None when GLOP finds no optimum in time."""
    if time_limit <= 0:
        return None
    s_idx = _reachable_static_arcs(net, entry)
    tails = np.concatenate([net.tails[s_idx], FIRST_REQUEST + req.astype(np.int64)])
    heads = np.concatenate([net.heads[s_idx], entry.astype(np.int64)])
    upper = np.concatenate([net.caps[s_idx], np.ones(req.size, dtype=np.int64)]).astype(np.float64)
    lower = np.where(tails == SOURCE, 1.0, 0.0)  # every request's unit of flow leaves the source
    cost = np.concatenate([static_cost[s_idx], pair_cost]).astype(np.float64)
    model = ModelBuilderHelper()
    columns = model.add_var_array_with_bounds(lower, upper, np.zeros(lower.size, dtype=bool), "")
    model.set_objective_coefficients(columns.tolist(), cost.tolist())
    nodes = np.unique(np.concatenate([tails, heads]))
    nodes = nodes[(nodes != SOURCE) & (nodes != SINK)]
    row_of = np.full(net.n_nodes, -1, dtype=np.int64)
    row_of[nodes] = np.arange(nodes.size)
    on_shared = np.flatnonzero(cap.shared[unit])
    bed_units, bed_row = np.unique(unit[on_shared], return_inverse=True)
    for lo, hi in zip([0.0] * nodes.size + [-np.inf] * bed_units.size,
                      [0.0] * nodes.size + cap.beds[bed_units].astype(np.float64).tolist()):
        row = model.add_linear_constraint()
        model.set_constraint_lower_bound(row, lo)
        model.set_constraint_upper_bound(row, hi)
    arcs = np.arange(tails.size)
    into, out_of = row_of[heads], row_of[tails]
    terms = (  # (row, column, coefficient): flow in - flow out = 0 per node, then the beds rows
        np.concatenate([into[into >= 0], out_of[out_of >= 0], nodes.size + bed_row]),
        np.concatenate([arcs[into >= 0], arcs[out_of >= 0], s_idx.size + on_shared]),
        np.concatenate([np.ones(int((into >= 0).sum())), -np.ones(int((out_of >= 0).sum())),
                        cap.size[req[on_shared]].astype(np.float64)]),
    )
    for r, c, v in zip(*(t.tolist() for t in terms)):
        model.safe_add_term_to_constraint(r, c, v)
    solver = ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(time_limit)
    solver.solve(model)
    if solver.status() != SolveStatus.OPTIMAL:
        return None
    prices = np.zeros(cap.beds.size)
    # a <= row of a minimisation has a dual <= 0: the price is its negation
    prices[bed_units] = np.maximum(0.0, -solver.dual_values()[nodes.size:nodes.size + bed_units.size])
    return prices, solver.variable_values()[s_idx.size:]
