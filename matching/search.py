"""The exact search: CP-SAT over the pairs reduced-cost fixing keeps (matching/README.md, "The
batch", step 6). x[p] per pair, m[r] = request r placed = the sum of its x; the capacity rows come
from Capacity. Two objective levels, priority then fit and cost, rather than one sum: the weights
that fold them into one integer (scoring.py) weaken CP-SAT's linear relaxation.
"""

import time

import numpy as np
from ortools.sat.python import cp_model, cp_model_helper

from .candidates import Candidates
from .capacity import Capacity


def search(c: Candidates, cap: Capacity, priority: np.ndarray, w_priority: int, pairs: np.ndarray,
           hint: np.ndarray, bound: int, deadline: float, workers: int, seed: int) -> tuple[np.ndarray, int]:
    """The best solution over `pairs` (containing `hint`, a solution) that CP-SAT finds before the
    deadline, and a bound on every solution over them (at most `bound`, one known already)."""
    pairs, best = undominated(c, cap, pairs, hint)
    model = cp_model.CpModel()
    x, m = _variables(model, c, cap, pairs)
    reqs = np.unique(c.req[pairs])
    # a pair's priority is its request's less the unit's acute price (scoring.py); every pair's weight
    # is its priority times w_priority plus less than w_priority, so divmod splits a sum into levels
    pair_priority = c.weight[pairs] // w_priority
    price = priority[c.req[pairs]] - pair_priority
    priced = np.flatnonzero(price)
    levels = ((np.r_[m, x[priced]], np.r_[priority[reqs], -price[priced]]),
              (x, c.weight[pairs] - pair_priority * w_priority))
    tops, fixed = divmod(bound, w_priority), 0
    for k, (variables, coefficients) in enumerate(levels):
        top, scale = tops[k], (w_priority, 1)[k]
        if divmod(int(c.weight[best].sum()), w_priority)[k] < top:
            hinted = np.r_[np.isin(pairs, best), np.isin(reqs, c.req[best])]
            values, proven = _solve(model, variables, coefficients, np.r_[x, m], hinted, top, deadline, workers, seed)
            found = pairs[values[x] > 0]
            best, top = best if c.weight[found].sum() <= c.weight[best].sum() else found, min(top, proven)
        reached = divmod(int(c.weight[best].sum()), w_priority)[k]
        if reached < top:  # not proven: every lower level may still be at its most
            return best, min(bound, fixed + top * scale + scale - 1)
        if k == 0:
            _row(model, variables, coefficients.tolist(), reached, reached)
        fixed += reached * scale
        # below the bound's priority, the rest may be anything short of one priority point
        tops = (tops[0], tops[1] if reached == tops[0] else w_priority - 1)
    return best, int(c.weight[best].sum())


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
        keep = (best[req] < 0) | (weight > weight[best[req]]) | (best[req] == np.arange(pairs.size))
        if keep.all():
            return pairs, hint
        hint = np.where(np.isin(hint, pairs[~keep]), pairs[best[c.req[hint]]], hint)
        pairs = pairs[keep]


def _variables(model: cp_model.CpModel, c: Candidates, cap: Capacity, pairs: np.ndarray):
    """The indices of x per pair (in `pairs` order) and of m per request (ascending), with every
    capacity row; written into the model's proto at once (through Python objects the largest models
    take seconds)."""
    req, unit = c.req[pairs], c.unit[pairs]
    size, reqs = cap.size[req], np.unique(req)
    boolean = cp_model_helper.IntegerVariableProto()
    boolean.domain.extend([0, 1])
    model.proto.variables.extend([boolean] * (pairs.size + reqs.size))
    x, m = np.arange(pairs.size), pairs.size + np.arange(reqs.size)
    for i, (_, at) in enumerate(_groups(req)):
        _row(model, np.r_[x[at], m[i]], [1] * at.size + [-1], 0, 0)
    for u, at in _groups(unit):
        if cap.shared[u] and int(size[at].sum()) > cap.beds[u]:
            _row(model, x[at], size[at].tolist(), 0, int(cap.beds[u]))
        elif not cap.shared[u] and at.size > 1:
            model.proto.constraints.add().at_most_one.literals.extend(x[at].tolist())
    for s, at in _groups(cap.shelter[unit]):
        if s >= 0 and np.unique(req[at]).size > cap.intake[s]:
            _row(model, x[at], [1] * at.size, 0, int(max(cap.intake[s], 0)))
    return x, m


def _row(model: cp_model.CpModel, variables: np.ndarray, coefficients: list[int], lower: int, upper: int) -> None:
    linear = model.proto.constraints.add().linear
    linear.vars.extend(variables.tolist())
    linear.coeffs.extend(coefficients)
    linear.domain.extend([lower, upper])


def _solve(model, variables, coefficients, hinted_vars, hint, stop_at: int, deadline: float, workers: int,
           seed: int) -> tuple[np.ndarray, int]:
    """The values of the best solution CP-SAT finds at this level (all 0 if none), and its bound."""
    model.clear_objective()  # maximise, written as CpModel.maximize writes it; at once, for speed
    model.proto.objective.vars.extend(variables.tolist())
    model.proto.objective.coeffs.extend((-coefficients).tolist())
    model.proto.objective.scaling_factor = -1
    model.clear_hints()  # filled at once: one add_hint call per variable is slow
    model.proto.solution_hint.vars.extend(hinted_vars.tolist())
    model.proto.solution_hint.values.extend(hint.astype(int).tolist())
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds, p.num_workers, p.random_seed = max(0.01, deadline - time.perf_counter()), workers, seed
    p.linearization_level = 2  # closes gaps on the shared beds that level 1 leaves open
    # a light presolve (one pass; no overlap search, probing or symmetry): the full one costs more than
    # it saves on these models
    p.max_presolve_iterations, p.find_big_linear_overlap, p.cp_model_probing_level, p.symmetry_level = 1, False, 0, 0
    p.hint_conflict_limit = 0  # the hint is a complete solution: searching near it first only delays the proof
    if solver.solve(model, _StopAt(stop_at)) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.zeros(hint.size, dtype=np.int64), stop_at
    return np.array(solver.response_proto.solution), int(np.floor(solver.best_objective_bound + 1e-6))


def _groups(keys: np.ndarray):
    """(key, positions with that key) for each distinct key, in ascending key order."""
    order = np.argsort(keys, kind="stable")
    for at in np.split(order, np.flatnonzero(np.diff(keys[order])) + 1) if order.size else []:
        yield int(keys[at[0]]), at


class _StopAt(cp_model.CpSolverSolutionCallback):
    """Stop as soon as a solution reaches the level's bound: it is then optimal."""

    def __init__(self, bound: int):
        super().__init__()
        self.bound = bound

    def on_solution_callback(self) -> None:
        if self.objective_value >= self.bound:
            self.stop_search()
