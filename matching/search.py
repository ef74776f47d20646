"""The exact search: CP-SAT over the pairs reduced-cost fixing keeps.

    x[p] per pair, m[r] = request r placed = sum of its x
    one unit per request; per unshared unit at most one household; per shared unit sizes within its
    beds; per limited shelter at most its intake left today (all from Capacity)
    objective in two levels: the pairs' priority first (the requests' on m less the units' acute
    prices on x), then fit and cost on x

Before the model is built, the pairs a request's best pair at an uncontested unit dominates are
dropped (`undominated`): the same optimum over fewer variables, which CP-SAT's presolve would
otherwise find itself, more slowly.

Two levels rather than one sum: the weights that fold the levels into one integer (scoring.py) are
large enough to weaken CP-SAT's linear relaxation. The search stops as soon as a level reaches the
bound known for it: the solution is then optimal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model, cp_model_helper

from .candidates import Candidates
from .capacity import Capacity


@dataclass(frozen=True)
class Found:
    pairs: np.ndarray
    bound: int  # no solution over the pairs weighs more


def search(c: Candidates, cap: Capacity, priority: np.ndarray, w_priority: int, pairs: np.ndarray,
           hint: np.ndarray, bound: int, deadline: float, workers: int, seed: int) -> Found:
    """The best solution over `pairs` (containing `hint`, a solution) that CP-SAT finds before the
    deadline, under `bound` (a bound on the optimum over these pairs)."""
    pairs, hint = undominated(c, cap, pairs, hint)
    model = cp_model.CpModel()
    x, m = _variables(model, c, cap, pairs)
    reqs = np.unique(c.req[pairs])
    # a pair's priority is its request's less the unit's acute price: the first level is written as
    # the requests' priorities on m less the prices on the priced pairs' x
    pair_priority = c.weight[pairs] // w_priority
    price = priority[c.req[pairs]] - pair_priority
    priced = np.flatnonzero(price)
    levels = ((np.r_[m, x[priced]], np.r_[priority[reqs], -price[priced]]),
              (x, c.weight[pairs] - pair_priority * w_priority))
    best, tops, fixed = hint, divmod(bound, w_priority), 0

    def reached(k: int) -> int:  # the best solution's level k: its priority, or the rest of its weight
        prio = int((c.weight[best] // w_priority).sum())
        return (prio, int(c.weight[best].sum()) - prio * w_priority)[k]

    for k, (variables, coefficients) in enumerate(levels):
        top = tops[k]
        if reached(k) < top:
            hinted = np.r_[np.isin(pairs, best), np.isin(reqs, c.req[best])]
            solver, status = _solve(model, variables, coefficients, np.r_[x, m], hinted, top, deadline, workers, seed)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found = pairs[np.array(solver.response_proto.solution)[x] > 0]
                best = found if c.weight[found].sum() > c.weight[best].sum() else best
                top = min(top, int(np.floor(solver.best_objective_bound + 1e-6)))
        scale = (w_priority, 1)[k]
        if reached(k) < top:  # not proven: every lower level may still be at its most
            return Found(best, min(bound, fixed + top * scale + scale - 1))
        if k == 0:
            _row(model, variables, coefficients.tolist(), reached(0), reached(0))
        fixed += reached(k) * scale
        # below the bound's priority, the rest may be anything short of one priority point
        tops = (tops[0], tops[1] if reached(0) == tops[0] else w_priority - 1)
    return Found(best, int(c.weight[best].sum()))


def undominated(c: Candidates, cap: Capacity, pairs: np.ndarray, hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pairs` without those a request's best pair at an uncontested unit (one that could take every
    pair left at it, in a shelter that could too) weighs at least as much as, and `hint` with such
    requests moved to that pair. Moving a request there never breaks a limit and never loses weight,
    so the optimum over the pairs left is the optimum over `pairs`; dropping pairs frees more units,
    hence the rounds."""
    while True:
        req, weight = c.req[pairs], c.weight[pairs]
        free = np.flatnonzero(cap.uncontested(req, c.unit[pairs]))
        free = free[np.lexsort((free, -weight[free], req[free]))]  # per request its heaviest first
        first = free[np.r_[True, req[free][1:] != req[free][:-1]]] if free.size else free
        best = np.full(cap.size.size, -1, dtype=np.int64)  # per request, its best free pair's position
        best[req[first]] = first
        has = best[req] >= 0
        keep = ~has | (weight > weight[best[req]]) | (best[req] == np.arange(pairs.size))
        if keep.all():
            break
        moved = np.isin(hint, pairs[~keep])
        hint = np.where(moved, pairs[best[c.req[hint]]], hint)
        pairs = pairs[keep]
    return pairs, hint


def _variables(model: cp_model.CpModel, c: Candidates, cap: Capacity, pairs: np.ndarray):
    """The indices of x per pair (in `pairs` order) and of m per request (ascending), with every
    capacity row; all written into the model's proto at once (through Python objects the largest
    models take seconds)."""
    req, unit = c.req[pairs], c.unit[pairs]
    size = cap.size[req]
    reqs = np.unique(req)
    boolean = cp_model_helper.IntegerVariableProto()
    boolean.domain.extend([0, 1])
    model.proto.variables.extend([boolean] * (pairs.size + reqs.size))
    x, m = np.arange(pairs.size), pairs.size + np.arange(reqs.size)
    for i, (_, at) in enumerate(groups(req)):
        _row(model, np.r_[x[at], m[i]], [1] * at.size + [-1], 0, 0)
    for u, at in groups(unit):
        if cap.shared[u] and int(size[at].sum()) > cap.beds[u]:
            _row(model, x[at], size[at].tolist(), 0, int(cap.beds[u]))
        elif not cap.shared[u] and at.size > 1:
            model.proto.constraints.add().at_most_one.literals.extend(x[at].tolist())
    for s, at in groups(cap.shelter[unit]):
        if s >= 0 and np.unique(req[at]).size > cap.intake[s]:
            _row(model, x[at], [1] * at.size, 0, int(max(cap.intake[s], 0)))
    return x, m


def _row(model: cp_model.CpModel, variables: np.ndarray, coefficients: list[int], lower: int, upper: int) -> None:
    linear = model.proto.constraints.add().linear
    linear.vars.extend(variables.tolist())
    linear.coeffs.extend(coefficients)
    linear.domain.extend([lower, upper])


def _solve(model, variables, coefficients, hinted_vars, hint, stop_at: int, deadline: float, workers: int,
           seed: int):
    model.clear_objective()  # maximise, written as CpModel.maximize writes it; at once, for speed
    objective = model.proto.objective
    objective.vars.extend(variables.tolist())
    objective.coeffs.extend((-coefficients).tolist())
    objective.scaling_factor = -1
    model.clear_hints()
    hinted = model.proto.solution_hint  # filled at once: one add_hint call per pair is slow
    hinted.vars.extend(hinted_vars.tolist())
    hinted.values.extend(hint.astype(int).tolist())
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, deadline - time.perf_counter())
    p.num_workers = workers
    p.random_seed = seed
    p.linearization_level = 2  # closes gaps on the shared beds that level 1 leaves open
    # one presolve pass: the full presolve costs more than it saves on these models
    p.max_presolve_iterations = 1
    p.find_big_linear_overlap = False
    p.cp_model_probing_level = 0
    p.symmetry_level = 0
    # the hint is a complete solution: searching near it first (by default) only delays the proof
    p.hint_conflict_limit = 0
    return solver, solver.solve(model, _StopAt(stop_at))


def groups(keys: np.ndarray):
    """(key, positions with that key) for each distinct key, in ascending key order."""
    order = np.argsort(keys, kind="stable")
    cuts = np.flatnonzero(np.diff(keys[order])) + 1
    for at in np.split(order, cuts) if order.size else []:
        yield int(keys[at[0]]), at


class _StopAt(cp_model.CpSolverSolutionCallback):
    """Stop as soon as a solution reaches the level's bound: it is then optimal."""

    def __init__(self, bound: int):
        super().__init__()
        self.bound = bound

    def on_solution_callback(self) -> None:
        if self.objective_value >= self.bound:
            self.stop_search()
