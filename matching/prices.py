"""Bed prices, the bound they give, and reduced-cost fixing (matching/README.md, "The batch", 4-5).

For bed prices lam[u] >= 0 every solution weighs at most flow(w - lam size) + sum lam[u] beds[u]: the
flow keeps every other rule. The prices are the beds rows' duals of an LP (GLOP), scaled to integers;
the bound is the exact integer flow at them, so it holds whatever the LP's rounding.
"""

import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python.model_builder_helper import ModelBuilderHelper, ModelSolverHelper, SolveStatus

from . import relaxation as rx
from .candidates import Candidates
from .capacity import Capacity


@dataclass(frozen=True)
class PricedBound:
    bound: int
    scaled: int  # K * (the bound before rounding down)
    K: int
    pairs: np.ndarray  # the pairs it covers
    reduced_cost: np.ndarray  # per pair, in 1/K: a solution using it weighs at most (scaled - rc) / K
    rounded: np.ndarray  # the LP's optimum rounded: each request's pair with the most flow


def kept_pairs(rel: rx.Relaxation, best: np.ndarray, lower: int, priced: PricedBound | None = None) -> np.ndarray:
    """The pairs that may be in a solution weighing more than `lower` (by the relaxation's reduced
    costs, or the bed prices' when given), and `best`'s (so that it stays a solution)."""
    if priced is None:
        keep = rel.reduced_cost < rel.value - lower
    else:
        keep = np.zeros(rel.reduced_cost.size, dtype=bool)
        keep[priced.pairs[priced.reduced_cost <= priced.scaled - priced.K * (lower + 1)]] = True
    keep[best] = True
    return np.flatnonzero(keep)


def priced_bound(c: Candidates, cap: Capacity, net: rx.Network, entry: np.ndarray, rel: rx.Relaxation,
                 kept: np.ndarray, lower: int, deadline: float, max_k: int) -> PricedBound | None:
    """The bound at the LP's bed prices over the pairs `kept` (the optimum lies among them, or weighs
    at most `lower`), or None when there is no time or the LP fails. The LP covers the last flow's
    pairs among them, at their reduced costs clipped at the gap (a costlier arc cannot be in a better
    solution)."""
    gap, p = rel.value - lower + 1, rel.potential
    work = np.intersect1d(rel.active, kept, assume_unique=True)
    pair_cost = np.clip(p[rx.FIRST_REQUEST + c.req[work]] - p[entry[work]] - c.weight[work], -gap, gap)
    static_cost = np.clip(p[net.tails] - p[net.heads], -gap, gap)
    lp = _bed_lp(net, c.req[work], c.unit[work], entry[work], pair_cost, static_cost, cap,
                 deadline - time.perf_counter())
    if lp is None or not lp[0].any():
        return None
    prices, flow = lp
    # the largest K up to max_k for which K * weight * nodes stays well inside the flow's int64
    K = int(max(1, min(max_k, 2**60 // max(1, int(np.abs(c.weight[kept]).max()) * (net.n_nodes + 1) * 4))))
    lk = np.round(prices * K).astype(np.int64)
    req = c.req[kept]
    priced = rx.solve_relaxation(net, req, entry[kept], c.weight[kept] * K - lk[c.unit[kept]] * cap.size[req],
                                 np.isin(kept, work, assume_unique=True), deadline=deadline)
    scaled = priced.value + int((lk * cap.beds).sum())
    order = np.lexsort((-flow, c.req[work]))  # the LP rounded: each request's pair with the most flow
    top = order[np.r_[True, c.req[work][order][1:] != c.req[work][order][:-1]]]
    return PricedBound(scaled // K, scaled, K, kept, priced.reduced_cost, work[top[flow[top] > 1e-6]])


def _bed_lp(net: rx.Network, req: np.ndarray, unit: np.ndarray, entry: np.ndarray, pair_cost: np.ndarray,
            static_cost: np.ndarray, cap: Capacity, time_limit: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Per unit, its beds row's price (>= 0, in cost units) in the LP optimum over these pairs at
    these arc costs, and per pair its flow there; None when GLOP finds no optimum in time."""
    if time_limit <= 0:
        return None
    tails, heads, upper = net.with_pairs(req, entry)
    lower = np.where(tails == rx.SOURCE, 1.0, 0.0)  # every request's unit of flow leaves the source
    model = ModelBuilderHelper()
    columns = model.add_var_array_with_bounds(lower, upper.astype(np.float64), np.zeros(lower.size, dtype=bool), "")
    model.set_objective_coefficients(columns.tolist(), np.concatenate([static_cost, pair_cost]).tolist())
    n_nodes = net.n_nodes - 2  # a row per node but the source and the sink (in = out), then the beds rows
    on_shared = np.flatnonzero(cap.shared[unit])
    bed_units, bed_row = np.unique(unit[on_shared], return_inverse=True)
    for row, hi in enumerate([0.0] * n_nodes + cap.beds[bed_units].astype(np.float64).tolist()):
        model.add_linear_constraint()
        model.set_constraint_lower_bound(row, 0.0 if row < n_nodes else -np.inf)
        model.set_constraint_upper_bound(row, hi)
    arcs, into, out_of = np.arange(tails.size), heads - 2, tails - 2
    rows = np.concatenate([into[into >= 0], out_of[out_of >= 0], n_nodes + bed_row])
    cols = np.concatenate([arcs[into >= 0], arcs[out_of >= 0], net.tails.size + on_shared])
    coefficients = np.concatenate([np.ones(int((into >= 0).sum())), -np.ones(int((out_of >= 0).sum())),
                                   cap.size[req[on_shared]]]).astype(np.float64)
    for r, col, v in zip(rows.tolist(), cols.tolist(), coefficients.tolist()):
        model.safe_add_term_to_constraint(r, col, v)
    solver = ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(time_limit)
    solver.solve(model)
    if solver.status() != SolveStatus.OPTIMAL:
        return None
    prices = np.zeros(cap.beds.size)  # a <= row of a minimisation has a dual <= 0: the price is its negation
    prices[bed_units] = np.maximum(0.0, -solver.dual_values()[n_nodes:n_nodes + bed_units.size])
    return prices, solver.variable_values()[net.tails.size:]
