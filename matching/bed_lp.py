"""Bed prices from a linear program: the chained flow (relaxation.py) plus a beds row per shared
unit, solved by GLOP. The beds rows' duals are the best bed prices there are: relaxing those rows
with prices over a flow polytope (integral) gives at best this LP's value (Lagrangian duality), and
the LP finds them in one solve where subgradient steps need many flows.

Cuts: where a flow fills a shared unit over its beds (households of 4, 1, 1, 1, 1 and 1 in 6 beds:
the chained flow allows one of 4 or more and six of 1 or more), those households can only be
placed so many at a time (5 of them, the most that fit: the smallest first). That row holds for
every solution, and keeps the LP from placing the same households with fractions (the one of 4 at
a quarter beside the five); its dual is one more price, per household it counts.

solver.py takes the prices to a min-cost flow: every bound is the exact integer flow at the
(rounded) prices, so GLOP's floating point can cost quality, never validity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python.model_builder_helper import ModelBuilderHelper, ModelSolverHelper, SolveStatus

from .relaxation import FIRST_REQUEST, SINK, SOURCE, Network, reachable_static_arcs


@dataclass(frozen=True)
class Cut:
    """At most `most` of the pairs `members` (positions among the LP's pairs, all into one unit)."""

    members: np.ndarray
    most: int


@dataclass(frozen=True)
class BedLP:
    prices: np.ndarray  # per unit, its beds row's price (>= 0, in cost units)
    cuts: tuple[Cut, ...]
    cut_prices: np.ndarray  # per cut, its row's price (>= 0, in cost units)
    pair_flow: np.ndarray  # per pair, its flow in the LP optimum (mostly 0 or 1)
    objective: float  # the optimal arc costs' sum

    def pair_cut_prices(self, K: int) -> tuple[np.ndarray, int]:
        """Per LP pair, the sum of its cuts' prices, and the cuts' share of the bound (sum of price
        times most): both multiplied by K (the flow's cost units per LP cost unit) and rounded."""
        per_pair = np.zeros(self.pair_flow.size, dtype=np.int64)
        constant = 0
        for cut, price in zip(self.cuts, self.cut_prices.tolist()):
            scaled = int(round(price * K))
            per_pair[cut.members] += scaled
            constant += scaled * cut.most
        return per_pair, constant


def solve(
    net: Network, req: np.ndarray, entry: np.ndarray, pair_cost: np.ndarray, unit: np.ndarray,
    size: np.ndarray, beds: np.ndarray, shared: np.ndarray, *, static_cost: np.ndarray | None = None,
    time_limit: float = 10.0, seed_flow: np.ndarray | None = None,
) -> BedLP | None:
    """The LP optimum of: every request sends one unit of flow (a pair arc to a unit's entry, or its
    arc to the sink), `net`'s capacities, arc costs `pair_cost` and `static_cost` (0 when None),
    sum(size) <= beds over each shared unit's pairs, and the cuts (module docstring) that
    `seed_flow` (a flow per pair, such as the chained flow's own) breaks. None when GLOP finds no
    optimum within `time_limit` seconds (none when it is not positive)."""
    s_idx = reachable_static_arcs(net, entry)
    tails = np.concatenate([net.tails[s_idx], FIRST_REQUEST + req.astype(np.int64)])
    heads = np.concatenate([net.heads[s_idx], entry.astype(np.int64)])
    columns = (
        np.where(tails == SOURCE, 1, 0),  # every request's unit of flow leaves the source
        np.concatenate([net.caps[s_idx], np.ones(req.size, dtype=np.int64)]),
        np.concatenate([np.zeros(s_idx.size) if static_cost is None else static_cost[s_idx], pair_cost]),
    )
    rows = _rows(net.n_nodes, tails, heads, s_idx.size, unit, size, beds, shared)
    cuts = [] if seed_flow is None else _violated_cuts(seed_flow, unit, size, beds, shared)
    optimum = _glop(columns, _with_cuts(rows, cuts, s_idx.size), time_limit)
    if optimum is None:
        return None
    duals, x, objective = optimum
    duals = np.maximum(0.0, -duals)  # a <= row of a minimisation has a dual <= 0: the price left out
    n_rows = rows[4].size
    bed_units = np.unique(unit[shared[unit]])
    prices = np.zeros(beds.size)
    prices[bed_units] = duals[n_rows - bed_units.size:n_rows]
    return BedLP(prices, tuple(cuts), duals[n_rows:], x[s_idx.size:], objective)


def _glop(columns, rows, time_limit: float):
    """GLOP's optimum of min cost * x over lower <= x <= upper and the rows, as (duals, x, objective),
    or None. Built through OR-Tools' model helper: its vector calls took 13 ms for 4,800 columns
    and 1,900 rows where adding them to an MPModelProto one by one took 30 ms."""
    if time_limit <= 0:
        return None
    lower, upper, cost = columns
    row_of, col, coef, row_lower, row_upper = rows
    model = ModelBuilderHelper()
    variables = model.add_var_array_with_bounds(lower.astype(np.float64), upper.astype(np.float64),
                                                np.zeros(lower.size, dtype=bool), "")
    model.set_objective_coefficients(variables.tolist(), cost.astype(np.float64).tolist())
    for lo, hi in zip(row_lower.tolist(), row_upper.tolist()):
        row = model.add_linear_constraint()
        model.set_constraint_lower_bound(row, lo)
        model.set_constraint_upper_bound(row, hi)
    add_term = model.safe_add_term_to_constraint
    for r, c, v in zip(row_of.tolist(), col.tolist(), coef.tolist()):
        add_term(r, c, v)
    solver = ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(time_limit)
    solver.solve(model)
    if solver.status() != SolveStatus.OPTIMAL:
        return None
    return solver.dual_values(), solver.variable_values(), solver.objective_value()


def most_that_fit(sizes: np.ndarray, beds: int) -> int:
    """How many of these households fit into `beds` together at most (the smallest first)."""
    return int((np.cumsum(np.sort(sizes)) <= beds).sum())


def _violated_cuts(flow: np.ndarray, unit, size, beds, shared) -> list[Cut]:
    """Per shared unit the flow fills over its beds: the households it puts there, at most as many
    as fit, when the flow has more of them than that."""
    used = np.zeros(beds.size)
    np.add.at(used, unit, size * flow)
    cuts = []
    for u in np.flatnonzero(shared & (used > beds + 1e-6)).tolist():
        members = np.flatnonzero((unit == u) & (flow > 1e-6))
        most = most_that_fit(size[members], int(beds[u]))
        if flow[members].sum() > most + 1e-6:
            cuts.append(Cut(members, most))
    return cuts


def _with_cuts(rows, cuts: list[Cut], n_static: int):
    """`rows` (from `_rows`) with one more row per cut after them: sum of its members <= most."""
    if not cuts:
        return rows
    row_of, col, coef, row_lower, row_upper = rows
    first = row_upper.size
    row_of = np.concatenate([row_of] + [np.full(cut.members.size, first + i) for i, cut in enumerate(cuts)])
    col = np.concatenate([col] + [n_static + cut.members for cut in cuts])
    coef = np.concatenate([coef, np.ones(sum(cut.members.size for cut in cuts))])
    order = np.argsort(row_of, kind="stable")
    return (row_of[order], col[order], coef[order], np.concatenate([row_lower, np.full(len(cuts), -np.inf)]),
            np.concatenate([row_upper, [float(cut.most) for cut in cuts]]))


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
