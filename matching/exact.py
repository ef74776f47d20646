"""Exact completion for batches too large for CP-SAT: a MIP over the pairs that reduced-cost
fixing keeps, with the units nobody competes for folded into one private slot per request.

    Fixing    only pairs that may be in a solution better than the best one (the caller's
              reduced costs under the bed prices: millions of them at 5,000 x 50,000, most
              within a few cost points of each request's best unit)
    Folding   a contested set C of units: those of the best solution and the vacant units that
              several requests would each take next. Every other unit is folded into one private
              slot per request, worth its best kept pair into such a unit. A relaxation: any
              solution maps onto the folded model with at least its weight (where several
              requests claim one folded unit, each gets its own slot)
    Model     MIP (HiGHS, part of OR-Tools): x per kept pair into C, unless its request's slot is
              worth at least as much (the slot, which binds nothing, then dominates it); s per
              slot; one per request; one household per unshared unit and beds per shared unit of
              C; intake per limited shelter; the priority level fixed at the best solution's (the
              caller has proven it); maximise fit and cost (scoring.py's lower levels)
    Realise   give the requests on slots distinct folded units worth their slot, under beds and
              intake (a second, small MIP). When all get one, the model's solution is a solution
              of the batch, and as the optimum of a relaxation it is the optimum. Otherwise the
              units they could not share join C and the model is solved again

Measured at 5,000 x 50,000, seed 42 (bench/matching_bench.py): see matching/README.md.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt
from ortools.math_opt.solvers import highs_pb2

from .arrays import groups

NO_SLOT = np.iinfo(np.int64).min
_DEBUG = bool(os.environ.get("MATCHING_DEBUG"))


@dataclass(frozen=True)
class Batch:
    """The solver's arrays: candidate pairs (grouped by request) and the side rules."""

    req: np.ndarray
    unit: np.ndarray
    weight: np.ndarray
    sizes: np.ndarray  # per request
    priority: np.ndarray  # per request, scoring.priority
    w_priority: int
    beds: np.ndarray  # per unit
    shared: np.ndarray
    unit_shelter: np.ndarray  # per unit, its limited shelter's position or -1
    shelter_caps: np.ndarray  # per limited shelter, today's intake left


@dataclass(frozen=True)
class Completion:
    pairs: np.ndarray  # the best solution found (the given one when nothing better)
    value: int
    proven: bool  # no solution within the kept pairs weighs more
    rounds: int  # folded models solved
    contested: int  # units in C at the end
    model_pairs: int  # pairs in the last folded model


CROWD_ROUNDS = 2
"""Rounds of "vacant units that several requests would each take next" joining C before the first
model. Measured at 5,000 x 50,000, seed 42, against the C that 14 rounds of realising reached from the
best solution's units alone (8,633 units): 2 rounds give 9,649 units, 7,676 of those 8,633."""


def complete(batch: Batch, kept: np.ndarray, best: np.ndarray, deadline: float, *, seed: int = 0,
             max_rounds: int = 50, crowd_rounds: int = CROWD_ROUNDS) -> Completion:
    """The optimum over the pairs `kept` (sorted indices; every solution better than `best` uses
    only these) when the rounds finish before `deadline`, else the best solution found. The
    caller has proven `best`'s priority level optimal (a better solution differs in fit and cost
    only): the model holds it."""
    value = int(batch.weight[best].sum())
    n_u = batch.beds.size
    contested = np.zeros(n_u, dtype=bool)
    contested[batch.unit[best]] = True
    for _ in range(crowd_rounds):
        contested |= _crowded(batch, kept, contested)
    target = int(batch.priority[batch.req[best]].sum())
    in_best = np.zeros(batch.sizes.size, dtype=bool)
    in_best[batch.req[best]] = True
    placed_all = bool(in_best[batch.req[kept]].all())
    rounds, model_pairs = 0, 0
    while rounds < max_rounds and time.perf_counter() < deadline:
        rounds += 1
        slot = _slots(batch, kept, contested)
        pairs = kept[contested[batch.unit[kept]] & (batch.weight[kept] > slot[batch.req[kept]])]
        slotted = np.flatnonzero(slot != NO_SLOT)
        model_pairs = pairs.size
        got = _solve_folded(batch, pairs, slotted, slot, target, placed_all, deadline, seed)
        if got is None:
            break
        chosen, on_slot, optimal = got
        placed, unmet = _realise(batch, kept, contested, slot, chosen, on_slot, deadline, seed)
        if unmet is None:
            break
        if unmet.size == 0:
            solution = np.sort(np.concatenate([chosen, placed]))
            found = int(batch.weight[solution].sum())
            if found > value:
                best, value = solution, found
            return Completion(best, value, optimal, rounds, int(contested.sum()), model_pairs)
        contested |= _disputed(batch, _claims(batch, kept, contested, slot, on_slot), unmet,
                               intake_left(batch, chosen))
        if _DEBUG:
            print(f"exact: round {rounds}, {pairs.size:,} pairs, {on_slot.size} on slots, {unmet.size} unmet, "
                  f"{int(contested.sum()):,} contested units", flush=True)
    return Completion(best, value, False, rounds, int(contested.sum()), model_pairs)


def best_assignment(batch: Batch, pairs: np.ndarray, deadline: float, *, seed: int = 0,
                    all_placeable: bool = False, level: int | None = None) -> np.ndarray | None:
    """The optimum over `pairs` alone (indices into the batch's arrays): each request on at most one
    of them, under the batch's beds, intake and one household per unshared unit; lexicographic as
    scoring.py (the priority level by a MIP of its own, `most_priority`, then fit and cost with that
    level held). The first MIP is skipped when the caller gives the level to hold (`level`: the
    result is the optimum among solutions of that level), or knows a solution that places every
    request of `pairs` (`all_placeable`: then every optimum does). Cut short by `deadline`: the best
    solution HiGHS found at the level it holds; None when it found none."""
    target = 0 if level is None else level
    if not all_placeable and level is None:
        most = most_priority(batch, pairs, deadline, seed=seed)
        if most is None:
            return None
        target = int(batch.priority[batch.req[most]].sum())
    no_slots = np.zeros(0, dtype=np.int64)
    got = _solve_folded(batch, pairs, no_slots, no_slots, target, all_placeable, deadline, seed)
    return None if got is None else got[0]


def most_priority(batch: Batch, pairs: np.ndarray, deadline: float, *, seed: int = 0) -> np.ndarray | None:
    """A solution over `pairs` of the highest priority level (scoring.py's first level: the
    households placed, weighted by urgency and waiting time), its fit and cost left to chance. Cut
    short by `deadline`: the best HiGHS found, or None."""
    return _best_of(batch, pairs, batch.priority[batch.req[pairs]], batch.shelter_caps, deadline, seed)


def _best_of(batch: Batch, pairs: np.ndarray, value: np.ndarray, caps: np.ndarray, deadline: float,
             seed: int) -> np.ndarray | None:
    """The pairs of most total `value` (one per pair) with each request on at most one, under the
    batch's beds and one household per unshared unit and the intake `caps`; None when HiGHS finds
    nothing in time."""
    req = batch.req[pairs]
    rows = _Rows()
    rows.per_group(req, np.ones(pairs.size), 1.0)
    _side_rows(rows, batch, req, batch.unit[pairs], caps)
    x = _mip(pairs.size, value.astype(np.float64), rows, deadline, seed)
    return None if x is None else pairs[x[0] > 0.5]


def _slots(batch: Batch, kept: np.ndarray, contested: np.ndarray) -> np.ndarray:
    """Per request, its private slot's weight: its best kept pair into a unit outside C (NO_SLOT if none)."""
    folded = kept[~contested[batch.unit[kept]]]
    slot = np.full(batch.sizes.size, NO_SLOT, dtype=np.int64)
    np.maximum.at(slot, batch.req[folded], batch.weight[folded])
    return slot


def _crowded(batch: Batch, kept: np.ndarray, contested: np.ndarray) -> np.ndarray:
    """The units outside C that are the best folded unit (the slot's) of at least two requests."""
    slot = _slots(batch, kept, contested)
    folded = kept[~contested[batch.unit[kept]]]
    best_of = folded[batch.weight[folded] == slot[batch.req[folded]]]
    return np.bincount(batch.unit[best_of], minlength=batch.beds.size) >= 2


def _solve_folded(batch: Batch, pairs: np.ndarray, slotted: np.ndarray, slot: np.ndarray, target: int,
                  placed_all: bool, deadline: float, seed: int):
    """The folded model's optimum (module docstring): (pairs chosen, requests on their slot, proven
    optimal), or None when HiGHS finds no solution in time. `placed_all`: the best solution places
    every request with a kept pair, so every better one does too (it has the same priority level)."""
    req = batch.req[pairs]
    n_x = pairs.size
    owner = np.concatenate([req, slotted])
    rest = np.concatenate([batch.weight[pairs], slot[slotted]]) - batch.priority[owner] * batch.w_priority
    rows = _Rows()
    if placed_all:
        # every request with a pair is placed in each better solution: one row = 1 each, and the
        # objective relative to each request's best option (small numbers for HiGHS)
        for _, at in groups(owner):
            rows.add(at, np.ones(at.size), 1.0, 1.0)
        top = np.full(batch.sizes.size, NO_SLOT, dtype=np.int64)
        np.maximum.at(top, owner, rest)
        rest = rest - top[owner]
    else:
        rows.per_group(owner, np.ones(owner.size), 1.0)  # one unit (or slot) per request
        rows.add(np.arange(owner.size), batch.priority[owner].astype(np.float64), float(target), float(target))
    _side_rows(rows, batch, req, batch.unit[pairs], batch.shelter_caps)
    x = _mip(owner.size, rest.astype(np.float64), rows, deadline, seed)
    if x is None:
        return None
    values, optimal = x
    on = values > 0.5
    return pairs[on[:n_x]], slotted[on[n_x:]], optimal


def _claims(batch: Batch, kept, contested, slot, on_slot) -> np.ndarray:
    """The kept pairs of the requests `on_slot` into folded units worth their slot."""
    is_on = np.zeros(batch.sizes.size, dtype=bool)
    is_on[on_slot] = True
    r = batch.req[kept]
    return kept[~contested[batch.unit[kept]] & is_on[r] & (batch.weight[kept] == slot[r])]


def _disputed(batch: Batch, claims: np.ndarray, unmet: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """The folded units to contest next: those the unmet requests claim, and every claimed unit of
    a resource the claims ask too much of (an unshared unit two requests claim, a shared unit
    whose claimants need more beds than it has, a limited shelter claimed by more requests than
    its intake left `caps`). Measured at 5,000 x 50,000, seed 42: 9 rounds and 1,228 s to the
    proof; contesting only the unmet requests' claims took 14 rounds and 2,269 s."""
    units, req = batch.unit[claims], batch.req[claims]
    n_u = batch.beds.size
    claimants = np.bincount(units, minlength=n_u)
    beds_asked = np.bincount(units, weights=batch.sizes[req], minlength=n_u)
    disputed = np.where(batch.shared, beds_asked > batch.beds, claimants >= 2)
    shelter = batch.unit_shelter[units]
    lim = shelter >= 0
    pairs = np.unique(np.stack([shelter[lim], req[lim]]), axis=1)  # (shelter, request), once each
    asked = np.bincount(pairs[0], minlength=caps.size)
    disputed[units[lim][asked[shelter[lim]] > caps[shelter[lim]]]] = True
    disputed[units[np.isin(req, unmet)]] = True
    return disputed


def _realise(batch: Batch, kept, contested, slot, chosen, on_slot, deadline, seed):
    """Folded units for the requests on slots, each worth its slot: (pairs given, requests left
    without one), or (None, None) when HiGHS finds nothing in time."""
    if on_slot.size == 0:
        return np.zeros(0, dtype=np.int64), on_slot
    options = _claims(batch, kept, contested, slot, on_slot)
    given = _best_of(batch, options, np.ones(options.size), intake_left(batch, chosen), deadline, seed)
    if given is None:
        return None, None
    return given, np.setdiff1d(on_slot, batch.req[given])


def beds_left(batch: Batch, chosen: np.ndarray) -> np.ndarray:
    """Per unit, its beds left beside the pairs `chosen`."""
    beds = batch.beds.copy()
    np.subtract.at(beds, batch.unit[chosen], batch.sizes[batch.req[chosen]])
    return beds


def intake_left(batch: Batch, chosen: np.ndarray) -> np.ndarray:
    """Per limited shelter, today's intake left beside the pairs `chosen`."""
    caps = batch.shelter_caps.copy()
    shelter = batch.unit_shelter[batch.unit[chosen]]
    np.subtract.at(caps, shelter[shelter >= 0], 1)
    return caps


def _side_rows(rows: _Rows, batch: Batch, req: np.ndarray, unit: np.ndarray, caps: np.ndarray) -> None:
    """One household per unshared unit, beds per shared unit, intake per limited shelter, for the
    columns 0..n-1 (pairs of these requests and units); rows that cannot bind are left out."""
    size = batch.sizes[req].astype(np.float64)
    shared = batch.shared[unit]
    rows.per_group(unit[~shared], np.ones(int((~shared).sum())), 1.0, columns=np.flatnonzero(~shared))
    on = np.flatnonzero(shared)
    rows.per_group(unit[on], size[on], batch.beds[unit[on]].astype(np.float64), columns=on)
    shelter = batch.unit_shelter[unit]
    lim = np.flatnonzero(shelter >= 0)
    rows.per_group(shelter[lim], np.ones(lim.size), caps[shelter[lim]].astype(np.float64), columns=lim)


class _Rows:
    """A MIP's rows as (row, column, coefficient) triples and bounds."""

    def __init__(self):
        self.row, self.col, self.coef, self.lower, self.upper = [], [], [], [], []

    def add(self, columns: np.ndarray, coefs: np.ndarray, lower: float, upper: float) -> None:
        self.row.append(np.full(columns.size, len(self.lower)))
        self.col.append(columns)
        self.coef.append(coefs)
        self.lower.append(lower)
        self.upper.append(upper)

    def per_group(self, keys: np.ndarray, coefs: np.ndarray, upper, *, columns: np.ndarray | None = None) -> None:
        """sum(coef) <= upper over the columns of each key (upper: a number or one per column; the
        first column's counts), skipping groups whose coefficients cannot exceed it."""
        columns = np.arange(keys.size) if columns is None else columns
        upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), keys.shape)
        for _, at in groups(keys):
            if coefs[at].sum() > upper[at[0]]:
                self.add(columns[at], coefs[at], -np.inf, float(upper[at[0]]))


def _mip(n: int, objective: np.ndarray, rows: _Rows, deadline: float, seed: int):
    """HiGHS's maximum of objective @ x over binary x and the rows: (x, proven optimal), or None.
    Through MathOpt's model, filled from arrays at once: on a neighbourhood of 76,917 columns at
    5,000 x 50,000, 6.0 s where OR-Tools' model builder took 7.3 s for the same HiGHS run (5.5 s
    of it in HiGHS itself). No solution hint (measured there: no faster with one)."""
    if n == 0:
        return np.zeros(0), True
    if deadline - time.perf_counter() <= 0:
        return None
    model = model_pb2.ModelProto()
    model.variables.ids.extend(range(n))
    model.variables.lower_bounds.extend(np.zeros(n).tolist())
    model.variables.upper_bounds.extend(np.ones(n).tolist())
    model.variables.integers.extend([True] * n)
    model.objective.maximize = True
    on = np.flatnonzero(objective)
    model.objective.linear_coefficients.ids.extend(on.tolist())
    model.objective.linear_coefficients.values.extend(objective[on].tolist())
    model.linear_constraints.ids.extend(range(len(rows.lower)))
    model.linear_constraints.lower_bounds.extend(rows.lower)
    model.linear_constraints.upper_bounds.extend(rows.upper)
    if rows.row:
        row, col, coef = np.concatenate(rows.row), np.concatenate(rows.col), np.concatenate(rows.coef)
        order = np.lexsort((col, row))  # MathOpt wants the matrix sorted by row, then column
        matrix = model.linear_constraint_matrix
        matrix.row_ids.extend(row[order].tolist())
        matrix.column_ids.extend(col[order].tolist())
        matrix.coefficients.extend(coef[order].tolist())
    opt = mathopt.Model.from_model_proto(model)
    # the objective is integral: an absolute gap below 1 proves the optimum; the default
    # relative gap (1e-4 of ~5e10 at 5,000 requests) would not
    highs = highs_pb2.HighsOptionsProto()
    highs.double_options["mip_rel_gap"] = 0.0
    highs.double_options["mip_abs_gap"] = 0.5
    left = deadline - time.perf_counter()  # after building the model
    if left <= 0:
        return None
    params = mathopt.SolveParameters(time_limit=timedelta(seconds=left), random_seed=seed, highs=highs)
    result = mathopt.solve(opt, mathopt.SolverType.HIGHS, params=params)
    if not result.has_primal_feasible_solution():
        return None
    optimal = result.termination.reason == mathopt.TerminationReason.OPTIMAL
    return np.array(result.variable_values(list(opt.variables()))), optimal
