"""Batch mode: every waiting request at once, the lexicographic optimum for the whole country.

    Data         candidates.py: only (request, unit) pairs that pass every hard rule, with weights
    Relaxation   relaxation.py: min-cost flow over all pairs; an upper bound, and the
                 proven optimum whenever no shared unit ends up over its beds
    Components   independent parts (connected through shared candidates or a shelter's
                 intake limit); only parts where the relaxation broke a side rule go on
    Model        CP-SAT per such part: x[r, u] per candidate pair, m[r] = request placed
    Constraints  one unit per request; beds per unit; daily intake per shelter
    Objective    sum of Score.total (scoring.py), with m[r] carrying the priority level
    Solve        hinted with the repaired relaxation (or the previous solution); stops as
                 soon as it reaches the relaxation bound; under the time limit returns the
                 best solution found and its gap to the bound

Usage:
    result = solve(problem, time_limit=10.0)                      # or
    solver = BatchSolver(problem); result = solver.solve(10.0, previous=last_result)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .candidates import Candidates, UnitIndex, all_candidates
from .relaxation import solve_relaxation, unit_household_caps
from .rules import RuleContext, explain_exclusions
from .scoring import Weights, priority, score
from .types import Match, Problem, Result, Unmatched


@dataclass
class _Part:
    """One independent part of the problem: its candidate pairs and relaxation."""

    pairs: np.ndarray  # indices into the candidate arrays
    flow_pairs: np.ndarray  # the relaxation's chosen pairs within it
    flow_value: int
    over_full: bool  # the relaxation breaks a shared unit's beds here


class BatchSolver:
    """Matches all requests of a Problem; see the module docstring."""

    def __init__(
        self,
        problem: Problem,
        *,
        index: UnitIndex | None = None,
        max_candidates_per_request: int | None = None,
    ):
        self.problem = problem
        self.ctx = RuleContext.of(problem)
        self.index = index or UnitIndex(problem.units, self.ctx)
        self.weights = Weights.for_batch(len(problem.requests))
        self.pruned_to = max_candidates_per_request
        units = self.index.units
        self.beds = np.array([u.beds for u in units], dtype=np.int64)
        self.shared = np.array([u.shared for u in units], dtype=bool)
        self.sizes = np.array([r.household.size for r in problem.requests], dtype=np.int64)
        limited = sorted({s for s in self.ctx.intake_remaining})
        shelter_pos = {s: i for i, s in enumerate(limited)}
        self.unit_shelter = np.array([shelter_pos.get(u.shelter_id, -1) for u in units], dtype=np.int64)
        self.shelter_caps = np.array([self.ctx.intake_remaining[s] for s in limited], dtype=np.int64)
        self.cands = self._candidates()

    # ------------------------------------------------------------ data

    def _candidates(self) -> Candidates:
        cands = all_candidates(self.problem.requests, self.index, self.weights, self.problem.today)
        k = self.pruned_to
        if k is None or len(cands) == 0:
            return cands
        # keep each request's k best pairs (ties: lower unit index first)
        order = np.lexsort((cands.unit, -cands.weight, cands.req))
        req_sorted = cands.req[order]
        starts = np.searchsorted(req_sorted, req_sorted, side="left")
        keep = order[np.arange(order.size) - starts < k]
        keep.sort()
        return Candidates(cands.req[keep], cands.unit[keep], cands.weight[keep])

    def _parts(self, chosen: np.ndarray) -> list[_Part]:
        c = self.cands
        n_r, n_u = len(self.problem.requests), len(self.index)
        # nodes: requests, units, limited shelters; edges: pairs and unit-shelter links
        a = [c.req.astype(np.int64)]
        b = [n_r + c.unit.astype(np.int64)]
        units = np.unique(c.unit)
        lim = units[self.unit_shelter[units] >= 0]
        a.append(n_r + lim.astype(np.int64))
        b.append(n_r + n_u + self.unit_shelter[lim])
        label = _components(np.concatenate(a), np.concatenate(b), n_r + n_u + self.shelter_caps.size)
        pair_label = label[c.req]
        used = np.zeros(n_u, dtype=np.int64)
        np.add.at(used, c.unit[chosen], self.sizes[c.req[chosen]])
        bad_units = np.flatnonzero(self.shared & (used > self.beds))
        bad_labels = set(label[n_r + bad_units].tolist())
        order = np.argsort(pair_label, kind="stable")
        bounds = np.flatnonzero(np.diff(pair_label[order])) + 1
        chosen_label = pair_label[chosen]
        parts = []
        for pairs in np.split(order, bounds):
            if pairs.size == 0:
                continue
            lbl = pair_label[pairs[0]]
            in_part = chosen[chosen_label == lbl]
            parts.append(
                _Part(pairs, in_part, int(c.weight[in_part].sum()), bool(lbl in bad_labels))
            )
        return parts

    # ------------------------------------------------------------ model

    def _add_constraints(self, model: cp_model.CpModel, pairs: np.ndarray):
        c = self.cands
        x = {int(p): model.new_bool_var(f"x{p}") for p in pairs}
        by_req: dict[int, list[int]] = {}
        by_unit: dict[int, list[int]] = {}
        for p in pairs.tolist():
            by_req.setdefault(int(c.req[p]), []).append(p)
            by_unit.setdefault(int(c.unit[p]), []).append(p)
        m = {}
        for r, ps in by_req.items():
            m[r] = model.new_bool_var(f"m{r}")
            model.add(sum(x[p] for p in ps) == m[r])
        by_shelter: dict[int, list[int]] = {}
        for u, ps in by_unit.items():
            if self.shared[u]:
                if sum(self.sizes[c.req[p]] for p in ps) > self.beds[u]:
                    model.add(sum(int(self.sizes[c.req[p]]) * x[p] for p in ps) <= int(self.beds[u]))
            else:
                model.add_at_most_one(x[p] for p in ps)
            s = int(self.unit_shelter[u])
            if s >= 0:
                by_shelter.setdefault(s, []).extend(ps)
        for s, ps in by_shelter.items():
            if len({int(c.req[p]) for p in ps}) > self.shelter_caps[s]:
                model.add(sum(x[p] for p in ps) <= int(self.shelter_caps[s]))
        return x, m

    def _add_objective(self, model: cp_model.CpModel, x, m):
        # Score.total = priority * w_priority + (fit * w_fit + cost): the priority level sits on m[r]
        # so that no linear expression sums a huge coefficient once per candidate pair.
        c, w = self.cands, self.weights
        level1 = {r: self._priority(r) * w.priority for r in m}
        model.maximize(
            sum(level1[r] * m[r] for r in m)
            + sum(int(c.weight[p] - level1[int(c.req[p])]) * var for p, var in x.items())
        )

    def _priority(self, r: int) -> int:
        return priority(self.problem.requests[r], self.problem.today)

    # ------------------------------------------------------------ solve

    def solve(
        self,
        time_limit: float = 10.0,
        *,
        workers: int | None = None,
        seed: int = 0,
        previous: Result | None = None,
    ) -> Result:
        start = time.perf_counter()
        c = self.cands
        relaxation = solve_relaxation(
            c,
            len(self.problem.requests),
            unit_household_caps(c, len(self.index), self.beds, self.shared, self.sizes),
            self.unit_shelter,
            self.shelter_caps,
        )
        parts = self._parts(relaxation.chosen)
        chosen: list[np.ndarray] = []
        objective = bound = 0
        proven = True
        to_model = [p for p in parts if p.over_full]
        model_pairs = sum(p.pairs.size for p in to_model)
        for part in parts:
            if not part.over_full:
                chosen.append(part.flow_pairs)
                objective += part.flow_value
                bound += part.flow_value
                continue
            remaining = max(0.1, time_limit - (time.perf_counter() - start))
            share = remaining * part.pairs.size / max(1, model_pairs)
            model_pairs -= part.pairs.size
            got, obj, part_bound, optimal = self._solve_part(part, share, workers, seed, previous)
            chosen.append(got)
            objective += obj
            bound += part_bound
            proven &= optimal
        picked = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        matches = self._matches(picked)
        status = "optimal" if proven else "feasible"
        proof = "" if not proven else ("cp_sat" if to_model else "relaxation")
        return Result(
            status=status,
            matches=matches,
            unmatched=self._unmatched(picked),
            objective=objective,
            bound=bound,
            gap=(bound - objective) / max(1, bound),
            proof=proof,
            components=len(parts),
            wall_time_s=time.perf_counter() - start,
            weights=self.weights.as_tuple(),
            candidates_pruned_to=self.pruned_to,
        )

    def _solve_part(self, part: _Part, time_limit: float, workers, seed, previous):
        model = cp_model.CpModel()
        x, m = self._add_constraints(model, part.pairs)
        self._add_objective(model, x, m)
        hint = self._hint(part, previous)
        for p, var in x.items():
            model.add_hint(var, p in hint)
        hinted = {int(self.cands.req[p]) for p in hint}
        for r, var in m.items():
            model.add_hint(var, r in hinted)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        solver.parameters.num_workers = workers or os.cpu_count() or 1
        solver.parameters.random_seed = seed
        stop = _StopAtBound(part.flow_value)
        status = solver.solve(model, stop)
        hint_value = int(self.cands.weight[list(hint)].sum()) if hint else 0
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.objective_value < hint_value:
            got = np.array(sorted(hint), dtype=np.int64)
            value = hint_value
        else:
            got = np.array([p for p, var in x.items() if solver.value(var)], dtype=np.int64)
            value = int(self.cands.weight[got].sum())
        part_bound = part.flow_value
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            part_bound = min(part_bound, int(np.floor(solver.best_objective_bound + 1e-6)))
        part_bound = max(part_bound, value)
        return got, value, part_bound, status == cp_model.OPTIMAL or value >= part.flow_value

    def _hint(self, part: _Part, previous: Result | None) -> set[int]:
        """The better of: the relaxation with over-full units repaired, and the previous solution."""
        c = self.cands
        by_weight = part.pairs[np.argsort(-c.weight[part.pairs], kind="stable")]
        flow_first = np.concatenate([part.flow_pairs[np.argsort(-c.weight[part.flow_pairs], kind="stable")],
                                     by_weight])
        options = [self._greedy(flow_first)]
        if previous is not None:
            pos = {(int(c.req[p]), int(c.unit[p])): int(p) for p in part.pairs}
            req_pos = {r.id: i for i, r in enumerate(self.problem.requests)}
            prev = [
                pos[key]
                for match in previous.matches
                if (key := (req_pos.get(match.request_id, -1), self.index.position.get(match.unit_id, -1))) in pos
            ]
            options.append(self._greedy(np.concatenate([np.array(prev, dtype=np.int64), by_weight])))
        return max(options, key=lambda s: int(c.weight[list(s)].sum()) if s else 0)

    def _greedy(self, pairs: np.ndarray) -> set[int]:
        """Take pairs in the given order whenever every side rule still allows it."""
        c = self.cands
        placed: set[int] = set()
        beds_left: dict[int, int] = {}
        taken: set[int] = set()
        intake = self.shelter_caps.copy()
        out: set[int] = set()
        for p in pairs.tolist():
            r, u = int(c.req[p]), int(c.unit[p])
            if r in placed:
                continue
            size = int(self.sizes[r])
            s = int(self.unit_shelter[u])
            if s >= 0 and intake[s] <= 0:
                continue
            if self.shared[u]:
                if beds_left.get(u, int(self.beds[u])) < size:
                    continue
                beds_left[u] = beds_left.get(u, int(self.beds[u])) - size
            elif u in taken:
                continue
            taken.add(u)
            if s >= 0:
                intake[s] -= 1
            placed.add(r)
            out.add(p)
        return out

    # ------------------------------------------------------------ explain

    def _matches(self, picked: np.ndarray) -> tuple[Match, ...]:
        c, req, units = self.cands, self.problem.requests, self.index.units
        out = []
        for p in sorted(picked.tolist(), key=lambda p: (int(c.req[p]))):
            r, u = req[int(c.req[p])], units[int(c.unit[p])]
            out.append(Match(r.id, u.id, u.shelter_id, score(r, u, self.problem.today, self.weights)))
        return tuple(out)

    def _unmatched(self, picked: np.ndarray) -> tuple[Unmatched, ...]:
        c = self.cands
        n_u = len(self.index)
        beds_used = np.zeros(n_u, dtype=np.int64)
        np.add.at(beds_used, c.unit[picked], self.sizes[c.req[picked]])
        intake_used = np.zeros(self.shelter_caps.size, dtype=np.int64)
        lim = self.unit_shelter[c.unit[picked]]
        np.add.at(intake_used, lim[lim >= 0], 1)
        shelter_full = np.append(intake_used >= self.shelter_caps, False)  # index -1 -> never full
        placed = set(c.req[picked].tolist())
        out = []
        for i, request in enumerate(self.problem.requests):
            if i in placed:
                continue
            fitting = self.index.fitting(request)
            free_beds = self.beds[fitting] - beds_used[fitting]
            unavailable = (
                np.where(self.shared[fitting], free_beds < self.sizes[i], beds_used[fitting] > 0)
                | shelter_full[self.unit_shelter[fitting]]
            )
            excluded = self.index.exclusions(request)
            taken = int(unavailable.sum())
            if fitting.size == 0:
                text = "No unit fits: " + explain_exclusions(excluded) + "."
            else:
                text = (
                    f"{fitting.size:,} units fit, {taken:,} of them went to other requests or their "
                    f"shelter reached today's intake limit; excluded: {explain_exclusions(excluded)}."
                )
            out.append(Unmatched(request.id, excluded, int(fitting.size), taken, text))
        return tuple(out)


class _StopAtBound(cp_model.CpSolverSolutionCallback):
    """Stop as soon as a solution reaches the relaxation bound: it is then optimal."""

    def __init__(self, bound: int):
        super().__init__()
        self.bound = bound

    def on_solution_callback(self) -> None:
        if self.objective_value >= self.bound:
            self.stop_search()


def _components(a: np.ndarray, b: np.ndarray, n_nodes: int) -> np.ndarray:
    """Connected-component label (smallest node id) of every node, by label propagation."""
    label = np.arange(n_nodes, dtype=np.int64)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def solve(
    problem: Problem,
    time_limit: float = 10.0,
    *,
    workers: int | None = None,
    seed: int = 0,
    previous: Result | None = None,
    max_candidates_per_request: int | None = None,
) -> Result:
    """Batch-match every request of the problem (see BatchSolver)."""
    solver = BatchSolver(problem, max_candidates_per_request=max_candidates_per_request)
    return solver.solve(time_limit, workers=workers, seed=seed, previous=previous)
