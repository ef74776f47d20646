"""Batch mode: every waiting request at once, the lexicographic optimum for the whole country.

    Data         candidates.py: only (request, unit) pairs that pass every hard rule, with weights
    Relaxation   relaxation.py: min-cost flow over all pairs; an upper bound, and the
                 proven optimum whenever no shared unit ends up over its beds
    Bed prices   a Lagrangian bound on the shared units' beds, its prices from one LP (bed_lp.py)
                 whose rounded optimum, improved around the requests the LP splits (a MIP), is often
                 the optimum; flows repaired into feasible solutions also improve the best
                 solution, and reduced costs fix out more pairs (then all kept pairs form one
                 part under its bound)
    Components   otherwise independent parts (connected through shared candidates or a
                 shelter's intake limit) of the pairs reduced-cost fixing keeps; only parts
                 where the relaxation broke a side rule go on
    Model        CP-SAT per such part: x[r, u] per candidate pair, m[r] = request placed
    Constraints  one unit per request; beds per unit; daily intake per shelter
    Objective    two levels: priority on m[r], then fit and cost on x[r, u] (scoring.py)
    Solve        hinted with the best solution (repaired relaxation, greedy, bed-price flows or
                 the previous solution); stops as soon as it reaches the relaxation bound;
                 under the time limit returns the best solution found and its gap to the bound
    Too large    for CP-SAT: placements first where the priority level is open; then the exact
                 completion (exact.py) when the time allows it, else slot flows (slots.py)

Usage:
    result = solve(problem, time_limit=10.0)                      # or
    solver = BatchSolver(problem); result = solver.solve(10.0, previous=last_result)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from ortools.sat.python import cp_model

from .candidates import Candidates, UnitIndex, all_candidates
from . import bed_lp, exact, relaxation as _rx, slots
from .arrays import groups
from .rules import RuleContext, explain_exclusions
from .scoring import Weights, priority, score
from .types import Match, Problem, Result, Unmatched


@dataclass
class _Part:
    """One independent part of the problem: its candidate pairs and relaxation."""

    pairs: np.ndarray  # indices into the candidate arrays
    flow_pairs: np.ndarray  # the relaxation's chosen pairs within it
    flow_value: int  # a bound on the part: the relaxation's value within it, or the bed prices' bound
    over_full: bool  # the relaxation breaks a shared unit's beds here


@dataclass
class _BedPrices:
    """What the Lagrangian bound on shared units' beds found (`BatchSolver._lagrangian`)."""

    bound: int  # no solution within `pairs` weighs more
    best_pairs: np.ndarray  # the best feasible solution it found
    best_value: int
    prices: np.ndarray  # bed price per unit of the best bound, scaled by K
    pairs: np.ndarray | None  # None: every candidate pair
    K: int
    scaled_bound: int | None = None  # K * bound before rounding down, of the best bound's flow
    reduced_cost: np.ndarray | None = None  # per pair, of the best bound's flow (scaled by K)
    valid_from: int | None = None  # clipped costs: the reduced costs hold for solutions this heavy
    lp: bed_lp.BedLP | None = None  # the LP the prices came from, cuts' prices included (costs scaled by its own steps' K)
    lp_pairs: np.ndarray | None = None  # the LP's pairs (indices into the candidate arrays)
    flow_pairs: np.ndarray | None = None  # the pairs of the best bound's flow (indices into the candidate arrays)

    def could_beat(self, value: int) -> np.ndarray:
        """The pairs that may be in a solution weighing more than `value` (all of `pairs` when
        unknown). A solution using pair p weighs at most (scaled_bound - reduced_cost[p]) / K:
        reduced-cost fixing under the bed prices (see `_lagrangian`)."""
        if self.reduced_cost is None:
            return self.pairs
        if self.valid_from is not None and value < self.valid_from:
            raise ValueError("the clipped reduced costs say nothing about solutions this light")
        could = self.reduced_cost <= self.scaled_bound - self.K * (value + 1)
        return np.flatnonzero(could) if self.pairs is None else self.pairs[could]

    def within(self, points: int) -> np.ndarray:
        """The pairs whose reduced cost under the prices is at most `points` (0: those the bound's
        flow could use at no loss; below 0: clipping); the reduced costs must be known."""
        at = np.flatnonzero(self.reduced_cost <= points * self.K)
        return at if self.pairs is None else self.pairs[at]


@dataclass
class _Progress:
    """The best solution so far and the bounds on the optimum, as the phases of `solve` improve them."""

    net: _rx.Network
    entry: np.ndarray  # entry node of every candidate pair
    relaxation: _rx.Relaxation
    best: np.ndarray  # pairs of the best solution
    lower: int  # its weight
    upper: int  # the relaxation's bound
    lag_upper: int  # the bed prices' bound (upper until they lower it)
    prices: _BedPrices | None = None

    @property
    def exact(self) -> bool:
        """The relaxation converged: its reduced costs fix pairs, its per-part values are bounds."""
        return self.relaxation.converged

    def improve(self, pairs: np.ndarray, value: int) -> bool:
        """Take `pairs` (weighing `value`) as the best solution if it is better; whether it was."""
        if value <= self.lower:
            return False
        self.best, self.lower = pairs, value
        return True


@dataclass
class _Outcome:
    picked: np.ndarray
    objective: int
    bound: int
    proven: bool
    proof: str
    components: int


_DEBUG = bool(os.environ.get("MATCHING_DEBUG"))


class BatchSolver:
    """Matches all requests of a Problem; see the module docstring."""

    def __init__(
        self,
        problem: Problem,
        *,
        index: UnitIndex | None = None,
        max_candidates_per_request: int | None = None,
        flow_k: int = 6,
    ):
        self.problem = problem
        self.flow_k = flow_k
        self.stats: dict[str, int] = {}
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

    def _parts(self, pairs: np.ndarray, chosen: np.ndarray) -> list[_Part]:
        """Split the given pairs into independent parts (linked by a shared request, unit
        or limited shelter) and mark the parts where the relaxation overfills a shared unit."""
        c = self.cands
        n_r, n_u = len(self.problem.requests), len(self.index)
        units = np.unique(c.unit[pairs])
        lim = units[self.unit_shelter[units] >= 0]
        a = np.concatenate([c.req[pairs].astype(np.int64), n_r + lim.astype(np.int64)])
        b = np.concatenate([n_r + c.unit[pairs].astype(np.int64), n_r + n_u + self.unit_shelter[lim]])
        label = _components(a, b, n_r + n_u + self.shelter_caps.size)
        pair_label = label[c.req[pairs]]
        bad_labels = set(label[n_r + self._over_full(chosen)].tolist())
        chosen_label = label[c.req[chosen]]
        parts = []
        for lbl, at in groups(pair_label):
            in_part = chosen[chosen_label == lbl]
            parts.append(_Part(pairs[at], in_part, int(c.weight[in_part].sum()), lbl in bad_labels))
        return parts

    def _over_full(self, chosen: np.ndarray) -> np.ndarray:
        """Shared units whose households in `chosen` need more beds than it has."""
        used = np.zeros(len(self.index), dtype=np.int64)
        np.add.at(used, self.cands.unit[chosen], self.sizes[self.cands.req[chosen]])
        return np.flatnonzero(self.shared & (used > self.beds))

    # ------------------------------------------------------------ model

    def _add_constraints(self, model: cp_model.CpModel, pairs: np.ndarray, beds: np.ndarray | None = None,
                         shelter_caps: np.ndarray | None = None):
        """x[p] per pair and m[r] per request (dicts in `pairs` and request order), under the given
        free beds and intake (default: all of them). Built from numpy groups and C++-side sums:
        Python-level expressions took ~0.4 s for 20,000 pairs."""
        c = self.cands
        beds = self.beds if beds is None else beds
        shelter_caps = self.shelter_caps if shelter_caps is None else shelter_caps
        x = dict(zip(pairs.tolist(), [model.new_bool_var("") for _ in range(pairs.size)]))
        x_vars = np.array(list(x.values()), dtype=object)
        req, unit = c.req[pairs], c.unit[pairs]
        size = self.sizes[req]
        m = {}
        for r, at in groups(req):
            m[r] = model.new_bool_var("")
            model.add(cp_model.LinearExpr.sum(x_vars[at].tolist()) == m[r])
        for u, at in groups(unit):
            if not self.shared[u]:
                model.add_at_most_one(x_vars[at].tolist())
            elif int(size[at].sum()) > beds[u]:
                model.add(cp_model.LinearExpr.weighted_sum(x_vars[at].tolist(), size[at].tolist()) <= int(beds[u]))
        shelter = self.unit_shelter[unit]
        for s, at in groups(shelter):
            if s >= 0 and np.unique(req[at]).size > shelter_caps[s]:
                model.add(cp_model.LinearExpr.sum(x_vars[at].tolist()) <= int(shelter_caps[s]))
        return x, m

    def _levels(self, x, m):
        """The objective as two CP-SAT levels (scoring.py): priority on m[r], then fit and cost
        together on x[p] (fit * w_fit + cost: the same lexicographic order, since w_fit exceeds
        every cost sum). Measured in the batch at 300 x 3,000, seeds 1, 2, 5, 7, 9: proven in
        0.6-1.5 s instead of 0.7-1.7 s with fit and cost as separate levels (the equality that
        fixes the fit level weakens CP-SAT's linear relaxation of the last one)."""
        c, w, prio = self.cands, self.weights, self._priorities
        pairs = np.fromiter(x.keys(), dtype=np.int64, count=len(x))
        rest = c.weight[pairs] - prio[c.req[pairs]] * w.priority
        return (
            cp_model.LinearExpr.weighted_sum(list(m.values()), prio[list(m.keys())].tolist()),
            cp_model.LinearExpr.weighted_sum(list(x.values()), rest.tolist()),
        )

    def _add_objective(self, model: cp_model.CpModel, level, fixed: int | None = None):
        """Lexicographic in stages: maximise one level; once known, fix it with `fixed`."""
        model.clear_objective()
        if fixed is not None:
            model.add(level == fixed)
        else:
            model.maximize(level)

    @cached_property
    def _priorities(self) -> np.ndarray:
        """Each request's priority level (scoring.priority)."""
        today = self.problem.today
        return np.array([priority(r, today) for r in self.problem.requests], dtype=np.int64)

    def _split(self, total: int) -> tuple[int, int]:
        """Score.total -> the values of `_levels` (priority, fit * w_fit + cost)."""
        return divmod(total, self.weights.priority)

    # ------------------------------------------------------------ solve

    MAX_CP_SAT_PAIRS = 200_000
    """The search (CP-SAT) runs only when reduced-cost fixing leaves at most this many pairs: building
    the model alone (Python, ~8 us per pair) would eat the time limit. Measured at 1,000 x 10,000
    (175,000-195,000 kept pairs), 20 s limit, seeds 1-3: gaps 3-125 cost points instead of 12-171
    with 60,000; seed 1 proven in 21 s with a 60 s limit. Beyond it the best solution of the earlier
    phases stands: branch and bound on the capped pairs (removed) found nothing in any measured run
    (5,000 x 50,000: 3 runs of 3.4-3.5 s; 2,000 x 20,000: 2 seeds of 2.6-2.8 s, and 21 s before)."""

    def solve(
        self,
        time_limit: float = 10.0,
        *,
        workers: int | None = None,
        seed: int = 0,
        previous: Result | None = None,
    ) -> Result:
        """Every phase is time-capped: returns within about `time_limit` seconds (plus at most one
        flow solve, and one repair in the capped steps) with the best solution found and an honest
        bound."""
        start = time.perf_counter()
        deadline = start + time_limit
        self.timing: dict[str, float] = {}
        net, entry = self._timed("network", self._network)
        # pricing gets at most 70% of the time: the rest is for repairing shared units
        progress = self._timed("relaxation", self._relax, net, entry, start + 0.7 * time_limit)
        self._timed("hint", self._first_solution, progress, previous, deadline)
        self.stats["short_of_relaxation.after_hint"] = progress.upper - progress.lower
        self._timed("lagrangian", self._bed_prices, progress, deadline)
        self.stats["short_of_relaxation.after_lagrangian"] = progress.upper - progress.lower
        self.stats["lagrangian_bound_below_relaxation"] = progress.upper - progress.lag_upper
        outcome = self._timed("search", self._search, progress, deadline, workers, seed)
        self.stats["short_of_relaxation.after_search"] = progress.upper - outcome.objective
        return Result(
            status="optimal" if outcome.proven else "feasible",
            matches=self._matches(outcome.picked),
            unmatched=self._unmatched(outcome.picked),
            objective=outcome.objective,
            bound=outcome.bound,
            gap=(outcome.bound - outcome.objective) / max(1, outcome.bound),
            proof=outcome.proof,
            components=outcome.components,
            wall_time_s=time.perf_counter() - start,
            weights=self.weights.as_tuple(),
            candidates_pruned_to=self.pruned_to,
        )

    def _timed(self, phase: str, run, *args):
        t = time.perf_counter()
        try:
            return run(*args)
        finally:
            self.timing[phase] = time.perf_counter() - t

    def _network(self) -> tuple[_rx.Network, np.ndarray]:
        """The flow network of every candidate pair, and each pair's entry node."""
        c = self.cands
        key = _rx.pair_keys(c.unit, self.sizes[c.req], self.shared)
        net = _rx.build_network(c.req, c.unit, len(self.problem.requests), self.beds, self.shared,
                                self.sizes, self.unit_shelter, self.shelter_caps, key=key)
        return net, net.entry_of_key(key)

    def _relax(self, net: _rx.Network, entry: np.ndarray, pricing_deadline: float) -> _Progress:
        """The priced relaxation over every pair (relaxation.py), from each request's best pairs."""
        c = self.cands
        first = _rx.top_k_mask(c.req, c.weight, len(self.problem.requests), self.flow_k)
        relaxation = _rx.solve_relaxation(net, c.req, entry, c.weight, first, deadline=pricing_deadline)
        self.stats = {"flow_rounds": relaxation.rounds, "flow_pairs": int(relaxation.active.size),
                      "relaxation_converged": int(relaxation.converged)}
        return _Progress(net, entry, relaxation, relaxation.chosen, relaxation.flow_value,
                         relaxation.value, relaxation.value)

    def _first_solution(self, progress: _Progress, previous: Result | None, deadline: float) -> None:
        """The relaxation's own solution when it breaks no side rule, else the best hint."""
        rel = progress.relaxation
        if rel.converged and self._over_full(rel.chosen).size == 0:
            return  # _relax started from it
        hint = self._hint(rel.active, rel.chosen, previous, deadline)
        progress.best, progress.lower = hint, int(self.cands.weight[hint].sum())

    def _bed_prices(self, progress: _Progress, deadline: float) -> None:
        """The Lagrangian bound on shared units' beds (`_lagrangian`) and its repaired flows.
        Reduced-cost fixing first: a solution using pair p weighs at most upper - rc[p], so pairs
        with rc[p] > upper - lower cannot be in any solution better than the best one."""
        rel, upper = progress.relaxation, progress.upper
        if not (progress.exact and progress.lower < upper and time.perf_counter() < deadline):
            return
        may_improve = rel.reduced_cost <= upper - progress.lower
        if np.count_nonzero(may_improve) <= self.MAX_LAGRANGE_PAIRS:
            kept = np.flatnonzero(may_improve)
            # no cuts here: the LP covers only the working pairs, and a flow over every kept pair
            # slips past cuts that count those only (measured at 300 x 3,000, seeds 1-10 and 42: no
            # seed better, the bound on seeds 1 and 4 not lowered at all instead of by 3 and 1)
            prices = self._lagrangian(
                kept, progress.lower, min(deadline, time.perf_counter() + 0.25 * (deadline - time.perf_counter())),
                upper=upper, optimum=(progress.net, progress.entry, rel))
            progress.improve(prices.best_pairs, prices.best_value)
            # the optimum uses only kept pairs, or weighs at most `lower` (reduced-cost fixing)
            progress.lag_upper = max(min(prices.bound, upper), progress.lower)
            progress.prices = prices
            return
        # too many pairs: choose bed prices on the capped pairs, then evaluate them over every pair
        # with the priced relaxation (valid for any prices, converged or not)
        sub = self._kept(rel, upper - progress.lower, cap=self.MAX_LAGRANGE_PRICE_PAIRS)
        capped = self._lagrangian(sub, progress.lower, deadline, max_iter=self.CAPPED_STEPS, upper=upper,
                                  optimum=(progress.net, progress.entry, rel), cuts=True)
        progress.improve(capped.best_pairs, capped.best_value)
        if (capped.prices.any() or capped.lp is not None) and time.perf_counter() < deadline:
            priced = self._priced_bound(capped, sub, progress, deadline)
            progress.lag_upper = max(min(priced.bound, upper), progress.lower)
            if priced.bound < upper:
                progress.prices = priced  # its reduced costs fix pairs for the search

    def _priced_bound(self, capped: _BedPrices, sub: np.ndarray, progress: _Progress, deadline: float) -> _BedPrices:
        """The bound at the capped pairs' bed prices over every pair (the priced relaxation: valid for
        any prices), with every pair's reduced cost under them when the prices came from the LP.
        Those prices are evaluated on every pair's reduced cost clipped as in the steps, so they keep
        1/1024 points (`_scale`): the raw weights fit the flow's cost range only with whole-point
        prices at 5,000 x 50,000, which cost the bound ~60 points there."""
        c, rel, upper = self.cands, progress.relaxation, progress.upper
        start = np.zeros(len(c), dtype=bool)
        start[rel.active] = True
        start[sub] = True
        static_cost, shift, reclip = None, 0, None
        if capped.lp is not None:
            clip_m = upper - (capped.valid_from if capped.valid_from is not None else progress.lower) + 1
            K = self._scale(np.array([clip_m]), progress.net.n_nodes)
            reclip = self._clipper(np.arange(len(c)), progress.net, progress.entry, upper, K,
                                   (progress.net, progress.entry, rel), start)
        if reclip is not None:
            static_cost, pair_cost, shift = reclip(clip_m)
            lk = np.round(capped.lp.prices * (K / capped.K)).astype(np.int64)
            cuts, cut_share = capped.lp.pair_cut_prices(K / capped.K)
            weight = self._charge_beds(np.negative(pair_cost, out=pair_cost), lk)  # pair_cost is not needed after
            weight[capped.lp_pairs] -= cuts
        else:
            K, lk, cut_share = capped.K, capped.prices, 0
            weight = self._charge_beds(c.weight * K, lk)
        priced = _rx.solve_relaxation(
            progress.net, c.req, progress.entry, weight, start,
            deadline=time.perf_counter() + 0.4 * (deadline - time.perf_counter()), static_cost=static_cost)
        self.stats["lagrange_priced_rounds"] = priced.rounds
        scaled = priced.value + shift + int((lk * self.beds).sum()) + cut_share
        valid_from = upper - clip_m + 1 if reclip is not None else None
        return _BedPrices(scaled // K, capped.best_pairs, capped.best_value, lk, None, K, scaled,
                          priced.reduced_cost, valid_from, capped.lp, capped.lp_pairs, priced.chosen)

    def _charge_beds(self, weight: np.ndarray, prices: np.ndarray) -> np.ndarray:
        """Each pair's weight less its beds at its unit's bed price, in place and chunk by chunk:
        whole-array temporaries of 37 million pairs took 2.3 s at 5,000 x 50,000."""
        c = self.cands
        for a in range(0, weight.size, _rx.CHUNK):
            b = a + _rx.CHUNK
            weight[a:b] -= prices[c.unit[a:b]] * self.sizes[c.req[a:b]]
        return weight

    def _search(self, progress: _Progress, deadline: float, workers, seed) -> _Outcome:
        """When the best solution is not yet proven: over the pairs reduced-cost fixing keeps, the
        placements first where they are too many for CP-SAT and the priority level is open; then
        CP-SAT when they are few enough, else the exact completion when the time allows it. The
        outcome under the best bound."""
        best, lower, upper, lag_upper = progress.best, progress.lower, progress.upper, progress.lag_upper
        exact, rel = progress.exact, progress.relaxation

        def meets_bound(value: int) -> bool:
            return value >= lag_upper or (exact and value >= upper)

        kept = None
        if not meets_bound(lower) and time.perf_counter() < deadline and exact:
            kept, single = self._search_pairs(progress)
            if kept.size > self.MAX_CP_SAT_PAIRS and not self._priority_proven(lower, lag_upper):
                self._placements(kept, progress, deadline)
                if progress.lower > lower:
                    best, lower = progress.best, progress.lower
                    kept, single = self._search_pairs(progress, "_after_placements")
        parts: list[_Part] = []
        chosen, objective, bound, proven, used_cp_sat = [best], lower, upper, False, False
        used_mip = False
        if meets_bound(lower):  # the best solution meets a bound: optimal
            parts = self._parts(best, rel.chosen)
            bound, proven = lower, True
        elif kept is not None and kept.size <= self.MAX_CP_SAT_PAIRS:
            parts = ([_Part(kept, rel.chosen[np.isin(rel.chosen, kept)], lag_upper, True)] if single
                     else self._parts(kept, rel.chosen))
            chosen, objective, bound, proven, used_cp_sat = self._solve_parts(parts, best, deadline, workers, seed)
        elif kept is not None and single:
            # the slot flows first (seconds, against minutes for the exact completion): where the
            # completion does not run or is cut short, the batch keeps their solution
            self._polish(progress, deadline)
            chosen, objective = [progress.best], progress.lower
            if self._mip_fits(kept.size, progress.lower, lag_upper, deadline):
                done = self._complete(kept, progress.best, deadline, seed)
                chosen, objective, used_mip = [done.pairs], done.value, True
                if done.proven:
                    bound, proven = done.value, True
        # otherwise too many pairs for CP-SAT and too little time for the exact completion, no time
        # left or pricing cut short: the best solution, under the best bound
        picked = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        if int(self.cands.weight[picked].sum()) < lower:  # never worse than the best solution seen
            picked, objective = best, lower
        bound = min(bound, lag_upper)
        proven = proven or objective >= bound
        proof = "" if not proven else (
            "cp_sat" if used_cp_sat else "mip" if used_mip and bound < lag_upper else "lagrangian" if lag_upper < upper and objective >= lag_upper
            else "relaxation")
        return _Outcome(picked, objective, bound, proven, proof, len(parts))

    def _search_pairs(self, progress: _Progress, stage: str = "") -> tuple[np.ndarray, bool]:
        """The pairs reduced-cost fixing keeps for the search, and whether the bed prices fixed
        them too (then they form one part under the bed-price bound); counted in stats with the
        suffix `stage`."""
        rel, lower = progress.relaxation, progress.lower
        kept = np.flatnonzero(rel.reduced_cost <= progress.upper - lower)
        self.stats["kept_pairs" + stage] = int(kept.size)
        single = progress.prices is not None and progress.prices.reduced_cost is not None
        if single:
            kept = self._fixed_by_prices(kept, progress.prices, progress.best, lower)
            self.stats["kept_pairs_under_bed_prices" + stage] = int(kept.size)
        return kept, single

    POLISH_FLOWS = 3
    POLISH_NEAR_FLOWS = 1
    POLISH_ROUNDS = 3
    """`_polish` solves at most POLISH_FLOWS slot flows over the pairs at reduced cost 0 under the bed
    prices at a time, POLISH_NEAR_FLOWS over those within a point, and at most POLISH_ROUNDS
    relaxation-induced neighbourhoods: counts, so that the same input gives the same answer on a
    slower machine. Measured at 5,000 x 50,000, seed 42 (the optimum is 500,179 short of the
    relaxation), on the fresh install of 2026-12-03 evening: 500,192 short before; over the 181,205
    pairs at reduced cost 0, 500,185 and 500,183 (0.5-0.6 s each; a third flow finds nothing); over
    the 370,604 within a point, 500,182 (0.9-1.2 s; a second flow there finds nothing); the
    neighbourhood, 500,180 (0.4-0.7 s); a flow at reduced cost 0, **500,179**: the optimum; a second
    neighbourhood finds nothing. The order matters: the neighbourhood before the flow within a point
    ends at 500,181-500,182. At 2,000 x 20,000, seeds 1-3: the flows within a point add 1, 1 and 0
    points (0.1-0.2 s each)."""

    def _polish(self, progress: _Progress, deadline: float) -> None:
        """For batches too large for CP-SAT, before the exact completion or instead of it: slot flows
        (slots.py) over the pairs at reduced cost 0 under the bed prices while they improve the best
        solution, one over those within a point, then the relaxation-induced neighbourhood (`_rins`)
        and one flow at reduced cost 0 in turn, while each improves. A slot flow moves
        households along chains of any length, each shared unit split as the best solution splits
        it; the neighbourhood re-splits shared units. Tried and not kept at 5,000 x 50,000, seed 42:
        after the flows, MIP neighbourhoods that free the households of the shared units with room or
        with several households (500,181 in 1.3 s more, then nothing; over the pairs within a point,
        8.9 s), of every shared unit (500,181, 2-4 s), and with those in full limited shelters too
        (500,180, 6-8 s); CP-SAT on the largest of these (73,079 pairs, the solution as hint, 2
        workers, 5 s) found nothing. Re-splitting one shared unit (a slot of 2 into two of 1, two
        slots into one: each of the 2,575 such changes a tie makes possible) and then the slot flow:
        no gain in the ~850 of them tried (0.6 s each)."""
        batch = self._exact_batch()
        self.stats["polish_flows"] = self.stats["polish_rins"] = 0
        ties = progress.prices.within(0)
        self._slot_flows(batch, ties, self.POLISH_FLOWS, progress, deadline)
        self._slot_flows(batch, progress.prices.within(1), self.POLISH_NEAR_FLOWS, progress, deadline)
        for _ in range(self.POLISH_ROUNDS):
            # in turn while each improves: RINS starts from a slot flow's solution, the flow from RINS's,
            # so a step that finds nothing leaves the other nothing new to start from
            if not (self._rins(progress, deadline) and self._slot_flows(batch, ties, 1, progress, deadline)):
                return

    def _slot_flows(self, batch: exact.Batch, pairs: np.ndarray, count: int, progress: _Progress,
                    deadline: float) -> bool:
        """At most `count` slot flows over `pairs`, each from the best solution, while they improve
        it; whether the last one did."""
        for _ in range(count):
            if time.perf_counter() >= deadline:
                return False
            found = slots.best_in_slots(batch, pairs, progress.best)
            self.stats["polish_flows"] += 1
            if not progress.improve(found, int(self.cands.weight[found].sum())):
                return False
        return True

    def _rins(self, progress: _Progress, deadline: float) -> bool:
        """The relaxation-induced neighbourhood (RINS, Danna, Rothberg and Le Pape 2005) of the best
        solution, with the bed-price LP as the relaxation: the requests whose pair in the best
        solution the LP takes whole keep it, the others are free over the pairs the LP uses and those
        of the bound's flow at the LP's prices (`_neighbourhood`: a MIP solved to its optimum).
        Whether it improved the best solution. Measured at 5,000 x 50,000, seed 42, after the slot
        flows: 3,371 free requests over 8,656 pairs, 0.4-0.7 s; the LP's support alone (6,811
        pairs, 0.14 s) ends a point lower, with each free request's 8 best pairs at reduced cost 0
        too (24,787 pairs) 2.8-3 s, every LP column (78,444) 15 s."""
        prices = progress.prices
        if prices.lp is None or prices.flow_pairs is None or time.perf_counter() >= deadline:
            return False
        flow = prices.lp.pair_flow
        whole = prices.lp_pairs[flow > 1 - 1e-6]
        best = progress.best
        free = np.zeros(len(self.problem.requests), dtype=bool)
        free[self.cands.req[best[~np.isin(best, whole)]]] = True
        pairs = np.union1d(prices.lp_pairs[flow > 1e-6], prices.flow_pairs)
        found = self._neighbourhood(best, free, pairs, deadline)
        self.stats["polish_rins"] += 1
        return progress.improve(found, int(self.cands.weight[found].sum()))

    PLACEMENT_PAIRS = 6
    PLACEMENT_SHARE = 0.5
    """`_placements` starts from each request's this many best pairs, and takes at most this share of
    the time left (half for the priority level, half for fit and cost). Measured on scarce instances
    (fewer places than households), seed 1, 60 s limit:
      - 2,000 x 2,000 (371,102 kept pairs): the earlier phases ended 14 priority points below the
        bed prices' bound. 6 pairs each (11,637-11,993 pairs) reach it, 3.8 s in all (3 pairs each:
        6 points short; 6 ranked by the relaxation's reduced costs instead of the bed prices': no
        gain). Then CP-SAT proves the optimum: the batch ends optimal in 28.5-34 s instead of
        feasible in 4.3 s. HiGHS over all 371,102 kept pairs proves the same level in 112 s.
      - 3,000 x 6,000 (2.4 million kept pairs, no bed prices): 88 priority points more (264,114; the
        relaxation's bound is 264,174), 1.8 s for the level (12, 24 and 48 pairs each: the same),
        the batch 36.5 s; with a 20 s limit the same level, no time left for fit, 15.8-17.4 s.
      - 2,000 x 2,000, seed 2: the level was already the best (HiGHS over all 570,693 kept pairs,
        189 s), 28 points below the bound; the placements find nothing and the batch takes
        14.1-20.7 s instead of 3.7 s: the price of looking."""

    def _placements(self, kept: np.ndarray, progress: _Progress, deadline: float) -> None:
        """For batches too large for CP-SAT whose priority level is still open (more households
        placed, or more urgent ones, outweigh any fit): a higher priority level over a few of each
        request's kept pairs (`_highest_level`), then the best fit at it (`_fit_level`); HiGHS
        (exact.py), within PLACEMENT_SHARE of the time left."""
        share = self.PLACEMENT_SHARE * (deadline - time.perf_counter())
        halfway, until = time.perf_counter() + share / 2, time.perf_counter() + share
        batch = self._exact_batch()
        most, among = self._highest_level(batch, kept, progress, halfway)
        if most is not None:
            self.stats["placement_pairs"] = int(among.size)
            self._fit_level(batch, most, among, progress, until)

    def _highest_level(self, batch: exact.Batch, kept: np.ndarray, progress: _Progress, until: float):
        """The highest priority level over each request's k best kept pairs (by reduced cost: the
        bed prices' where they price every pair, else the relaxation's) and the best solution's, k
        from PLACEMENT_PAIRS doubled until the level meets the bound, every kept pair is in, or the
        next MIP (over about twice the pairs: taken as 2.5 times the last one's time) would not end
        by `until`: (solution, the pairs it was chosen from), or (None, None) when none beats the
        best solution's level."""
        c = self.cands
        order = -self._reduced_costs(progress, kept)
        goal, k, step = self._split(progress.lag_upper)[0], self.PLACEMENT_PAIRS, 0.0
        most, among, level = None, None, self._level(progress.best)
        while time.perf_counter() + 2.5 * step < until and level < goal:
            started = time.perf_counter()
            mask = _rx.top_k_mask(c.req[kept], order, len(self.problem.requests), k)
            pairs = np.union1d(kept[mask], progress.best)
            found = exact.most_priority(batch, pairs, until)
            if found is not None and self._level(found) > level:
                most, among, level = found, pairs, self._level(found)  # the fewest pairs: quickest to fit
            if mask.all():
                break
            k, step = 2 * k, time.perf_counter() - started
        return most, among

    def _fit_level(self, batch: exact.Batch, most: np.ndarray, among: np.ndarray, progress: _Progress,
                   until: float) -> None:
        """The best fit and cost at `most`'s priority level within the pairs `among`: first for the
        same households (quick: each is placed once), then over every choice of households at the
        level (HiGHS may find none in time: at 3,000 x 6,000 it did not); `most` itself when neither
        finds anything."""
        c = self.cands
        placed = np.zeros(len(self.problem.requests), dtype=bool)
        placed[c.req[most]] = True
        for subset, known in ((among[placed[c.req[among]]], {"all_placeable": True}),
                              (among, {"level": self._level(most)})):
            found = exact.best_assignment(batch, subset, until, **known)
            if found is not None:
                progress.improve(found, int(c.weight[found].sum()))
        progress.improve(most, int(c.weight[most].sum()))

    def _level(self, pairs: np.ndarray) -> int:
        """The priority level of a solution (its pairs)."""
        return int(self._priorities[self.cands.req[pairs]].sum())

    @staticmethod
    def _reduced_costs(progress: _Progress, pairs: np.ndarray) -> np.ndarray:
        """The `pairs`' reduced costs under the bed prices where those price every pair, else the
        relaxation's (the two are in different units: for ranking within one call only)."""
        prices = progress.prices
        if prices is not None and prices.reduced_cost is not None and prices.pairs is None:
            return prices.reduced_cost[pairs]
        return progress.relaxation.reduced_cost[pairs]

    def _priority_proven(self, lower: int, bound: int) -> bool:
        """Whether a solution of weight `lower` has the best priority level under `bound`."""
        return self._split(bound)[0] == self._split(lower)[0]

    MIP_SECONDS_PER_PAIR = 4e-4
    """The exact completion (exact.py) starts only with at least this much time left per kept pair:
    at 5,000 x 50,000, seed 42, over 4.57 million kept pairs it proved the optimum in 1,228 s (9
    rounds) on 2026-12-02 and in 1,627 s (0.36 ms a pair, 10 rounds) on 2026-12-03; from a solution
    168 points worse, on a contended machine, in 2,496 s (15 rounds). At 2,000 x 20,000, seed 1, in
    67.6 s. A completion that cannot finish would only spend the time the caller gave for nothing
    better."""

    def _mip_fits(self, kept: int, lower: int, bound: int, deadline: float) -> bool:
        """Whether the exact completion may run: the priority level is proven (it holds the MIP's
        priority row; its lower levels are then small numbers) and the time left is enough."""
        return self._priority_proven(lower, bound) and deadline - time.perf_counter() >= self.MIP_SECONDS_PER_PAIR * kept

    def _exact_batch(self) -> exact.Batch:
        c = self.cands
        return exact.Batch(c.req, c.unit, c.weight, self.sizes, self._priorities, self.weights.priority, self.beds,
                           self.shared, self.unit_shelter, self.shelter_caps)

    def _complete(self, kept: np.ndarray, best: np.ndarray, deadline: float, seed: int) -> exact.Completion:
        """The exact completion (exact.py) over the kept pairs."""
        done = exact.complete(self._exact_batch(), kept, best, deadline, seed=seed)
        self.stats.update({"mip_rounds": done.rounds, "mip_contested_units": done.contested,
                           "mip_model_pairs": done.model_pairs})
        return done

    MAX_LAGRANGE_PAIRS = 250_000
    MAX_LAGRANGE_PRICE_PAIRS = 50_000
    """Beyond MAX_LAGRANGE_PAIRS, bed prices are chosen on at most this many pairs (the smallest
    reduced costs, plus the relaxation's flow and the priced pairs within the gap: 145,285 at
    5,000 x 50,000), by the LP with the cuts the relaxation's flow breaks, and then evaluated over
    every pair by the priced relaxation (`_priced_bound`). Measured at 5,000 x 50,000, seed 42: one
    LP over the 112,986 working pairs (0.3 s to build, 3.6 s in GLOP); the bound over every pair
    500,169 below the chained flow (the beds rows alone: 375,112; the 7 subgradient steps from zero
    prices used before: no drop), the best solution 500,200 below it (500,522 before): the optimum
    proven within 31 cost points of the solution instead of 500,522 (a fit point)."""
    CAPPED_STEPS = 7
    """Subgradient steps on the capped pairs when GLOP finds no optimum in time. A step count, not
    a share of the time, so that the same input gives the same answer on a slower machine too
    (measured: with half the time left as its limit, a slower run cut step 6's repair short and
    ended 2 fit points short); the time limit only stops it when it would be exceeded."""
    CLIPPED_K = 16
    REPAIR_EVERY = 3
    """Fix and re-solve every this many subgradient steps over the kept pairs (measured at 300 x
    3,000: the Lagrangian proof in 0.77 s instead of 1.03 s with every 10th)."""

    @staticmethod
    def _scale(weight: np.ndarray, n_nodes: int) -> int:
        """Weight scale for fractional bed prices: min-cost flow needs |cost| * nodes well inside
        int64 (measured: BAD_COST_RANGE beyond)."""
        max_w = max(int(weight.max()), -int(weight.min())) if weight.size else 1  # no |weight| copy of 37 M pairs
        return int(max(1, min(1024, (2**60) // max(1, max_w * (n_nodes + 1) * 4))))

    def _lagrangian(self, pairs: np.ndarray, best_val: int, deadline: float, max_iter: int = 150,
                    upper: int | None = None, optimum: tuple[_rx.Network, np.ndarray, _rx.Relaxation] | None = None,
                    cuts: bool = False):
        """Upper bound on any solution within `pairs`: relax "household sizes add up to at most
        the beds" of every shared unit with a price lam[u] >= 0 per bed. For any lam,
            sum w x = sum (w - lam[u] size) x + sum lam[u] used[u] <= flow(w - lam size) + sum lam[u] beds[u]
        (the chained flow keeps every other rule). lam follows Polyak subgradient steps; weights
        are scaled by K (as large as the flow's int64 cost range allows) so lam can be fractional.
        A flow that fills no shared unit over its beds is feasible: it may improve the best
        solution. `optimum`: (network, entry node per candidate pair, converged relaxation) of the
        relaxation over every pair, whose optimum lies within `pairs`; its potentials then give the
        clipped costs (`_clipper`) without solving the relaxation again. With clipped costs the prices
        come from the LP (`_lp_start`), the best there are, and one step at them gives their exact
        bound and a repaired flow; the subgradient steps only run when GLOP finds no optimum in time.
        `cuts`: the LP gets the cuts (bed_lp.py) that the relaxation's flow in `optimum` breaks, and
        the flows carry their prices too."""
        c = self.cands
        n_r = len(self.problem.requests)
        u = c.unit[pairs].astype(np.int64)
        w = c.weight[pairs]
        sz = self.sizes[c.req[pairs]]
        if optimum is not None:
            net, entry = optimum[0], optimum[1][pairs]
        else:
            net = _rx.build_network(c.req[pairs], u, n_r, self.beds, self.shared, self.sizes,
                                    self.unit_shelter, self.shelter_caps)
            entry = net.entry(u, sz, self.shared)
        clipped = (upper is not None and upper > best_val and w.size > 0
                   and upper - best_val + 1 < int(np.abs(w).max()))
        # clipped costs: bed prices in 1/16 points (measured at 300 x 3,000, seed 42: proof in
        # 0.20 s instead of 0.28 s with 1/1024; seed 6 proven too; the smaller costs solve faster)
        K = min(self.CLIPPED_K, self._scale(w, net.n_nodes)) if clipped else self._scale(w, net.n_nodes)
        req_p = c.req[pairs]
        work = _rx.top_k_mask(req_p, w, n_r, self.flow_k)
        static_cost, shift, pair_cost = None, 0, None
        reclip = self._clipper(pairs, net, entry, upper, K, optimum, work) if clipped else None
        if reclip is not None:
            clip_m = upper - best_val + 1  # measured: 1,000 x that made each flow ~1.3x slower
            static_cost, pair_cost, shift = reclip(clip_m)
        lam = np.zeros(len(self.index))
        best_lk = np.zeros(len(self.index), dtype=np.int64)
        best_scaled, best_rc, valid_from, best_flow = None, None, None, None
        bound = None
        best_pairs = np.zeros(0, dtype=np.int64)
        from_lp, cut_prices, cut_share, lp, lp_pairs = False, np.zeros(pairs.size, dtype=np.int64), 0, None, None
        if pair_cost is not None:
            relaxed = optimum[2].chosen if cuts and optimum is not None else None
            start = self._lp_start(pairs, net, entry, work, pair_cost, static_cost, deadline, relaxed)
            if start is not None:
                from_lp = True
                lp, at, found = start
                lp_pairs = pairs[at]
                lam = lp.prices / K  # the LP ran on the flows' costs, already scaled by K
                cut_prices[at], cut_share = lp.pair_cut_prices(1)
                if int(c.weight[found].sum()) > best_val:
                    best_val, best_pairs = int(c.weight[found].sum()), found
        beds = self.beds.astype(np.float64)
        scale = 1.0  # measured: 0.3 no longer closes the Swedish gap
        last_bound, stall = 2**62, 0
        for it in range(max_iter):
            if time.perf_counter() > deadline:
                break
            lk = np.round(lam * K).astype(np.int64)
            if pair_cost is not None:
                sol = _rx.solve_relaxation(net, req_p, entry, -pair_cost - lk[u] * sz - cut_prices, work,
                                           static_cost=static_cost)
                work[sol.active] = True
            else:
                # column generation: the flow over a small working set, priced over `pairs`
                # (the same optimum; measured at 300 x 3,000: ~10 ms instead of ~65 ms per step)
                sol = _rx.solve_relaxation(net, req_p, entry, w * K - lk[u] * sz, work)
                work[sol.active] = True
            scaled = sol.value + shift + int((lk * self.beds).sum()) + cut_share
            b = scaled // K
            bound = b if bound is None else min(bound, b)
            # clipped costs hold for solutions at least this heavy (read before re-clipping below)
            clipped_from = upper - clip_m + 1 if pair_cost is not None else None
            used = np.zeros(len(self.index), dtype=np.int64)
            np.add.at(used, u[sol.chosen], sz[sol.chosen])
            g = np.where(self.shared, used - beds, 0.0)
            n_over = int((g > 0).sum())
            # nearly feasible flows are always repaired
            repair = n_over <= 3 or it % self.REPAIR_EVERY == 0
            found, val = self._step_solution(pairs[sol.chosen], n_over, repair, deadline)
            if val > best_val:
                best_val, best_pairs = val, found
            restart = False
            if reclip is not None and upper - best_val + 1 < clip_m // 2:
                clip_m = upper - best_val + 1
                static_cost, pair_cost, shift = reclip(clip_m)
                restart = True
            if bound < last_bound:
                last_bound, stall = bound, 0
                best_lk = lk
                if isinstance(sol, _rx.Relaxation):  # priced over every pair: its reduced costs fix pairs
                    best_scaled, best_rc, valid_from, best_flow = scaled, sol.reduced_cost, clipped_from, pairs[sol.chosen]
            else:
                stall += 1
                if stall % 5 == 0:  # Polyak steps overshoot: halve them
                    scale /= 2
                if stall >= 12:  # measured: 8 no longer proves seed 3 at 300 x 3,000
                    break
            if _DEBUG:
                print("lagrangian", it, b, bound, best_val, n_over, scale)
            if from_lp:
                break  # the LP's prices are the best: further steps would only look for solutions
            if restart:
                # the Polyak steps so far aimed at a far worse solution and have shrunk: start again
                # from the best prices. Measured at 300 x 3,000, seeds 1-10: the bound then drops on
                # 9 seeds instead of 3, and the median solve takes ~0.6 s instead of ~1.1 s
                lam = best_lk / K
                scale, stall = 1.0, 0
                continue
            g[(g < 0) & (lam <= 0)] = 0.0
            if bound <= best_val:
                break
            gg = float((g * g).sum())
            if gg == 0:
                break
            lam = np.maximum(0.0, lam + scale * max(1.0, float(b - best_val)) / gg * g)
        self.stats["lagrange_K"] = K
        return _BedPrices(bound if bound is not None else 2**62, np.sort(best_pairs), best_val, best_lk,
                          pairs, K, best_scaled, best_rc, valid_from, lp, lp_pairs, best_flow)

    def _lp_start(self, pairs, net, entry, work, pair_cost, static_cost, deadline, relaxed):
        """The LP (bed_lp.py; with the cuts the flow over the pairs `relaxed` breaks, unless None)
        over the working pairs; their positions within `pairs`; and the LP's optimum made a solution:
        each request's pair with the most flow, repaired by fix and re-solve, then improved around
        the requests the LP splits (`_neighbourhood`). None when GLOP finds no optimum in the time left.
        Measured at 300 x 3,000, seed 42: the LP's bound is the bed prices' final one at once (19
        subgradient steps before), and the solution is the optimum; the phase takes 0.07-0.09 s instead of
        0.27 s. The LP covers the working pairs only (the flow at its prices prices every kept pair):
        over all 17,666 kept pairs GLOP took 0.16 s instead of 0.024 s, for the same value."""
        c = self.cands
        at = np.flatnonzero(work)
        p_at = pairs[at]
        req_at, unit_at = c.req[p_at], c.unit[p_at]
        lp = bed_lp.solve(net, req_at, entry[at], pair_cost[at], unit_at, self.sizes[req_at], self.beds,
                          self.shared, static_cost=static_cost, time_limit=deadline - time.perf_counter(),
                          seed_flow=None if relaxed is None else np.isin(p_at, relaxed).astype(np.float64))
        if lp is None:
            return None
        flow = lp.pair_flow
        rounded = np.array(sorted(self._repair(p_at[_most_flow(req_at, flow)], deadline)), dtype=np.int64)
        # free: the requests the LP splits, and those that hold a unit where a split one has flow
        split = (flow > 1e-6) & (flow < 1 - 1e-6)
        free = np.zeros(len(self.problem.requests), dtype=bool)
        free[req_at[split]] = True
        contested = np.zeros(len(self.index), dtype=bool)
        contested[unit_at[(flow > 1e-6) & free[req_at]]] = True
        free[c.req[rounded][contested[c.unit[rounded]]]] = True
        solution = self._neighbourhood(rounded, free, p_at, deadline)
        return lp, at, solution

    def _neighbourhood(self, solution: np.ndarray, free: np.ndarray, pairs: np.ndarray, deadline: float) -> np.ndarray:
        """The best solution that keeps `solution`'s pairs of every request not `free` (a bool per
        request) and gives the free ones any of their `pairs` with room left beside those: a MIP
        (exact.best_assignment, HiGHS), solved to its optimum. Measured at 5,000 x 50,000, seed 42,
        on the LP's neighbourhood (260-269 free requests, ~1,800 pairs): 0.13-0.18 s, 500,190 and
        500,196 short of the relaxation where CP-SAT under a work limit of 0.05 (its deterministic
        time, chosen for the time the phase can spare) ended 500,194 and 500,402 short."""
        c = self.cands
        fixed = solution[~free[c.req[solution]]]
        beds, caps, taken = self._left_after(fixed)
        loose = pairs[free[c.req[pairs]]]
        loose = np.union1d(loose[self._fits(loose, beds, caps, taken)], solution[free[c.req[solution]]])
        if loose.size == 0 or time.perf_counter() > deadline:
            return solution
        # the free requests' pairs in `solution` fit beside the fixed ones: when it places every
        # free request that has a pair, so does every optimum (the priority level is known)
        placed = np.zeros(len(self.problem.requests), dtype=bool)
        placed[c.req[solution]] = True
        batch = replace(self._exact_batch(), beds=beds, shelter_caps=caps)
        found = exact.best_assignment(batch, loose, deadline, all_placeable=bool(placed[c.req[loose]].all()))
        if found is None:
            return solution
        found = np.union1d(fixed, found)
        return found if int(c.weight[found].sum()) > int(c.weight[solution].sum()) else solution

    def _left_after(self, chosen: np.ndarray):
        """(free beds per unit, intake left per limited shelter, unit taken) once `chosen` is placed."""
        batch = self._exact_batch()
        taken = np.zeros(len(self.index), dtype=bool)
        taken[self.cands.unit[chosen]] = True
        return exact.beds_left(batch, chosen), exact.intake_left(batch, chosen), taken

    def _fits(self, pairs: np.ndarray, beds: np.ndarray, caps: np.ndarray, taken: np.ndarray) -> np.ndarray:
        """Per pair, whether its household fits into what is left (`_left_after`)."""
        c = self.cands
        u = c.unit[pairs]
        ok = np.where(self.shared[u], beds[u] >= self.sizes[c.req[pairs]], ~taken[u])
        return ok & np.append(caps > 0, True)[self.unit_shelter[u]]

    def _step_solution(self, flow_pairs: np.ndarray, n_over: int, repair: bool, deadline: float):
        """A bed-price step's flow as a solution (pairs, weight): as it is when it fills no shared
        unit over its beds, else repaired by fix and re-solve when `repair`, else none (weight -1)."""
        if n_over == 0:
            return flow_pairs, int(self.cands.weight[flow_pairs].sum())
        if not repair:
            return flow_pairs[:0], -1
        fixed = np.array(sorted(self._repair(flow_pairs, deadline)), dtype=np.int64)
        return fixed, int(self.cands.weight[fixed].sum())

    def _clipper(self, pairs, net, entry, upper, K, optimum, work):
        """Small costs for the bed prices' flows (measured: the min-cost flow ~3x faster with costs
        ~1e3 than ~1e13). With the potentials p of the relaxation's optimum x* over `pairs`,
        value(x) = upper - rc(x) + rc(x*) for every flow x (rc = cost + p[tail] - p[head], each term
        rc_a (x_a - x*_a) >= 0). A solution worth at least upper - M + 1 has x_a = x*_a on every
        arc with |rc_a| >= M, so costs clipped to +-M change its clipped cost by a constant only:
        value(x) = upper + rcc(x*) - rcc(x) on those solutions, and the flow over clipped costs (a
        minimum over a superset) still gives a valid bound. Returns M -> (static arc costs, pair
        costs, constant), all scaled by K, or None when the relaxation over `pairs` does not reach
        `upper`; marks the relaxation's pairs in `work`."""
        c = self.cands
        every = pairs.size == len(c)  # all pairs (no copies of 37 million at European scale)
        req_p, w = (c.req, c.weight) if every else (c.req[pairs], c.weight[pairs])
        if optimum is not None and every:
            rel = optimum[2]
            x_chosen = rel.chosen
            work[rel.active] = True
        elif optimum is not None:
            rel = optimum[2]
            x_chosen = np.searchsorted(pairs, rel.chosen)
            in_pairs = np.zeros(len(c), dtype=bool)
            in_pairs[pairs] = True
            work[np.searchsorted(pairs, rel.active[in_pairs[rel.active]])] = True
        else:
            n_r = len(self.problem.requests)
            rel = _rx.solve_relaxation(net, req_p, entry, w, _rx.top_k_mask(req_p, w, n_r, self.flow_k))
            x_chosen = rel.chosen
            work[rel.active] = True
        if rel.value != upper:
            return None
        p = rel.potential
        rc_s_full = p[net.tails] - p[net.heads]
        rc_p_full = np.empty(w.size, dtype=np.int64)
        _rx.price(p, len(self.problem.requests), req_p, entry, w, np.ones(w.size, dtype=bool), out=rc_p_full)

        def clipped(M: int):
            rc_s = np.clip(rc_s_full, -M, M)
            rc_p = np.clip(rc_p_full, -M, M)
            shift = K * (upper + int((rc_s * rel.static_flows).sum()) + int(rc_p[x_chosen].sum()))
            rc_p *= K
            return rc_s * K, rc_p, shift

        return clipped

    def _kept(self, relaxation, slack: int, cap: int) -> np.ndarray:
        """Pairs that may be in a solution better than `upper - slack` (reduced-cost fixing),
        capped at `cap` (smallest reduced costs first; the flow's pairs always)."""
        rc = relaxation.reduced_cost
        kept = np.flatnonzero(rc <= slack)
        if kept.size <= cap:
            return kept
        sel = np.zeros(rc.size, dtype=bool)
        sel[kept[np.argpartition(rc[kept], cap - 1)[:cap]]] = True
        sel[relaxation.chosen] = True
        sel[relaxation.active] |= rc[relaxation.active] <= slack
        return np.flatnonzero(sel)

    def _fixed_by_prices(self, kept: np.ndarray, prices: _BedPrices, hint: np.ndarray, lower: int) -> np.ndarray:
        """The pairs CP-SAT needs: those the relaxation's and the bed prices' reduced costs both
        allow in a solution better than `lower`, and the hint's (so it stays a solution). Their
        components are not independent parts any more: the relaxation's per-part values bound a
        part only while its chosen pairs are all kept, so they form one part under the bed-price
        bound. Measured at 300 x 3,000, the 8 of seeds 1-10 that need CP-SAT: 2,106-10,825 pairs
        instead of 4,726-20,287. Masks, not sorted set operations: those took 5.6 s over the
        millions of pairs at 5,000 x 50,000."""
        could = np.zeros(len(self.cands), dtype=bool)
        could[prices.could_beat(lower)] = True
        both = np.zeros_like(could)
        both[kept] = could[kept]
        both[hint] = True
        return np.flatnonzero(both)

    def _solve_parts(self, parts, hint, deadline, workers, seed):
        """Each part: the relaxation's own solution where it breaks no side rule, else CP-SAT
        (`_solve_part`) with a share of the time left in proportion to its pairs; a part CP-SAT has
        no time for keeps the hint, under the part's flow bound."""
        hint_set = set(hint.tolist())
        chosen: list[np.ndarray] = []
        objective = bound = 0
        proven, used_cp_sat = True, False
        model_pairs = sum(p.pairs.size for p in parts if p.over_full)
        for part in parts:
            if not part.over_full:
                chosen.append(part.flow_pairs)
                objective += part.flow_value
                bound += part.flow_value
                continue
            share = max(0.0, deadline - time.perf_counter()) * part.pairs.size / max(1, model_pairs)
            model_pairs -= part.pairs.size
            part_hint = np.array(sorted(p for p in part.pairs.tolist() if p in hint_set), dtype=np.int64)
            got = part_hint
            obj = int(self.cands.weight[got].sum())
            part_bound, optimal = max(obj, part.flow_value), obj >= part.flow_value
            # measured: building the model ~8 us per pair, each level's objective and hints ~7 us
            if not optimal and deadline - time.perf_counter() > 0.2 + 30e-6 * part.pairs.size:
                used_cp_sat = True
                got, obj, part_bound, optimal = self._solve_part(
                    part, set(part_hint.tolist()), min(share, deadline - time.perf_counter()), workers, seed)
            chosen.append(got)
            objective += obj
            bound += part_bound
            proven &= optimal
        return chosen, objective, bound, proven, used_cp_sat

    def _solve_part(self, part: _Part, hint: set[int], time_limit: float, workers, seed):
        """CP-SAT on one part, level by level (`_levels`). A level is taken as proven without a solve
        when the hint already reaches the relaxation's value for it."""
        deadline = time.perf_counter() + time_limit
        model = cp_model.CpModel()
        x, m = self._add_constraints(model, part.pairs)
        x_index = np.array([var.index for var in x.values()], dtype=np.int64)
        levels = self._levels(x, m)
        relaxed = self._split(part.flow_value)
        current = set(hint)
        values = self._split(int(self.cands.weight[sorted(current)].sum()) if current else 0)
        relaxation_valid = True  # earlier levels equal the relaxation's, so its levels bound this one
        bound = None
        for k, level in enumerate(levels):
            if relaxation_valid and values[k] >= relaxed[k]:
                self._add_objective(model, level, fixed=values[k])
                continue
            if deadline - time.perf_counter() < 0.05 + 8e-6 * len(x):
                bound = part.flow_value if bound is None else bound  # no time for this level
                break
            self._add_objective(model, level)
            self._add_hints(model, x, m, current)
            solver = cp_model.CpSolver()
            solver.parameters.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
            solver.parameters.num_workers = self._cp_sat_workers(workers)
            solver.parameters.random_seed = seed
            solver.parameters.linearization_level = 2  # measured: closes the gap where level 1 does not
            self._light_presolve(solver.parameters)
            status = solver.solve(model, _StopAtBound(relaxed[k] if relaxation_valid else None))
            found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            if found and int(round(solver.objective_value)) >= values[k]:
                solution = np.array(solver.response_proto.solution, dtype=np.int64)
                current = set(np.fromiter(x.keys(), np.int64, len(x))[solution[x_index] > 0].tolist())
                values = self._split(int(self.cands.weight[sorted(current)].sum()) if current else 0)
            level_bound = int(np.floor(solver.best_objective_bound + 1e-6)) if found else relaxed[k]
            if relaxation_valid:
                level_bound = min(level_bound, relaxed[k])
            if values[k] < level_bound and bound is None:
                # not proven: the bound is this level's bound with every lower level at its maximum
                w = (self.weights.priority, 1)[k]
                bound = values[0] * self.weights.priority * k + level_bound * w + (w - 1)
            relaxation_valid = relaxation_valid and values[k] >= relaxed[k]
            self._add_objective(model, level, fixed=values[k])
        got = np.array(sorted(current), dtype=np.int64)
        value = int(self.cands.weight[got].sum())
        proven = bound is None
        part_bound = value if proven else min(part.flow_value, max(bound, value))
        return got, value, part_bound, proven

    def _add_hints(self, model: cp_model.CpModel, x: dict, m: dict, chosen: set[int]) -> None:
        """Hint the solution `chosen` (pairs), straight into the model's hint arrays."""
        model.clear_hints()
        hinted = {int(self.cands.req[p]) for p in chosen}
        hint = model.proto.solution_hint
        hint.vars.extend([var.index for var in x.values()] + [var.index for var in m.values()])
        hint.values.extend([int(p in chosen) for p in x] + [int(r in hinted) for r in m])

    @staticmethod
    def _light_presolve(parameters) -> None:
        """One presolve pass, without probing or symmetry detection. Measured at 300 x 3,000 (the
        last level, 1 worker, seeds 2 and 5): 0.51-0.54 s instead of 1.28-1.65 s, of which the full
        presolve took ~1 s; without any presolve 1.8-2.2 s."""
        parameters.max_presolve_iterations = 1
        parameters.cp_model_probing_level = 0
        parameters.symmetry_level = 0

    CP_SAT_MIN_PORTFOLIO = 8

    def _cp_sat_workers(self, workers: int | None) -> int:
        """One worker unless at least CP_SAT_MIN_PORTFOLIO are available. Measured (300 x 3,000,
        seed 1, the last level): 1 worker proves the optimum in 0.6 s, 6 and 8 in 0.7-1.1 s, while
        2, 3 and 4 do not within 10 s (their bound stays above the flow's): the small portfolios
        lack the LP-driven search this model needs."""
        workers = workers or os.cpu_count() or 1
        return workers if workers >= self.CP_SAT_MIN_PORTFOLIO else 1

    def _hint(self, pairs: np.ndarray, flow_pairs: np.ndarray, previous: Result | None,
              deadline: float | None = None) -> np.ndarray:
        """The best of: the relaxation repaired by fixing and re-solving, the relaxation with
        over-full units repaired greedily, greedy in priority order, greedy in arrival order
        (the rule-based baseline: so the batch never does worse) and the previous solution."""
        c = self.cands
        by_weight = pairs[np.argsort(-c.weight[pairs], kind="stable")]
        flow_first = flow_pairs[np.argsort(-c.weight[flow_pairs], kind="stable")]
        # by_weight alone is greedy in priority order (the priority level dominates the weight)
        options = [self._greedy(np.concatenate([flow_first, by_weight])), self._greedy(by_weight),
                   self._greedy_arrival()]
        options.append(self._repair(flow_pairs, deadline))
        if previous is not None:
            req_pos = {r.id: i for i, r in enumerate(self.problem.requests)}
            bounds = self._bounds()
            prev = []
            for match in previous.matches:
                r, u = req_pos.get(match.request_id, -1), self.index.position.get(match.unit_id, -1)
                if r < 0 or u < 0:
                    continue
                at = bounds[r] + np.flatnonzero(c.unit[bounds[r]:bounds[r + 1]] == u)
                prev.extend(at.tolist())
            options.append(self._greedy(np.concatenate([np.array(prev, dtype=np.int64), flow_first, by_weight])))
        best = max(options, key=lambda s: int(c.weight[sorted(s)].sum()) if s else 0)
        return np.array(sorted(best), dtype=np.int64)

    def _bounds(self) -> np.ndarray:
        """Per request r, its candidate pairs are bounds[r]:bounds[r + 1]."""
        return _rx.request_bounds(self.cands.req, len(self.problem.requests))

    def _repair(self, flow_pairs: np.ndarray, deadline: float | None) -> set[int]:
        """Fix and re-solve: keep the flow's pairs that fit (heaviest first), take the beds and
        intake they use away, and solve the relaxation again for the displaced households over
        what is left; repeat until nobody is displaced. Always feasible."""
        c = self.cands
        n_r = len(self.problem.requests)
        bounds = self._bounds()
        beds = self.beds.copy()
        caps = self.shelter_caps.copy()
        taken = np.zeros(len(self.index), dtype=bool)
        fixed: set[int] = set()
        chosen = flow_pairs
        for _ in range(10):
            displaced = []
            for p in self._keep_order(chosen, beds, taken, caps, bounds).tolist():
                u, r = int(c.unit[p]), int(c.req[p])
                size, sh = int(self.sizes[r]), int(self.unit_shelter[u])
                if (sh >= 0 and caps[sh] <= 0) or (beds[u] < size if self.shared[u] else taken[u]):
                    displaced.append(r)
                    continue
                fixed.add(p)
                taken[u] = True
                if self.shared[u]:
                    beds[u] -= size
                if sh >= 0:
                    caps[sh] -= 1
            if not displaced or (deadline is not None and time.perf_counter() > deadline):
                break
            idx = np.concatenate([np.arange(bounds[r], bounds[r + 1]) for r in sorted(displaced)])
            u = c.unit[idx]
            ok = np.where(self.shared[u], beds[u] >= self.sizes[c.req[idx]], ~taken[u])
            ok &= np.append(caps > 0, True)[self.unit_shelter[u]]
            idx = idx[ok]
            if idx.size == 0:
                break
            net = _rx.build_network(c.req[idx], c.unit[idx], n_r, beds, self.shared, self.sizes,
                                    self.unit_shelter, caps)
            entry = net.entry(c.unit[idx], self.sizes[c.req[idx]], self.shared)
            rel = _rx.solve_relaxation(net, c.req[idx], entry, c.weight[idx],
                                       _rx.top_k_mask(c.req[idx], c.weight[idx], n_r, self.flow_k),
                                       deadline=deadline)
            chosen = idx[rel.chosen]
        return fixed

    def _keep_order(self, chosen, beds, taken, caps, bounds) -> np.ndarray:
        """`chosen` in the order fix and re-solve keeps its pairs: heaviest first, except that
        in a shared unit they overfill, the households that would lose most by moving come first
        (their weight minus the best they get where there is room now, or all of it if nowhere).
        Only pairs in the same unit compete (the flow keeps every intake limit), so that is the
        only order that matters."""
        c = self.cands
        key = c.weight[chosen].copy()
        sizes = self.sizes[c.req[chosen]]
        used = np.zeros(len(self.index), dtype=np.int64)
        np.add.at(used, c.unit[chosen], sizes)
        contested = np.flatnonzero((self.shared & (used > beds))[c.unit[chosen]])
        if contested.size:
            room = beds - used
            free = ~taken & (used == 0)
            cap_left = caps.copy()
            shelter = self.unit_shelter[c.unit[chosen]]
            np.subtract.at(cap_left, shelter[shelter >= 0], 1)
            open_shelter = np.append(cap_left > 0, True)  # index -1: no intake limit
            # household by household: one concatenation of all their pairs measured slower
            # (0.14-0.59 s instead of 0.08-0.22 s per repair at 5,000 x 50,000)
            for i in contested.tolist():
                q = int(chosen[i])
                a, b = int(bounds[c.req[q]]), int(bounds[c.req[q] + 1])
                v = c.unit[a:b]
                # a move within its own shelter keeps that shelter's intake as it is
                shelter_ok = open_shelter[self.unit_shelter[v]] | (self.unit_shelter[v] == shelter[i])
                fits = np.where(self.shared[v], room[v] >= sizes[i], free[v]) & shelter_ok
                key[i] = c.weight[q] - (int(c.weight[a:b][fits].max()) if fits.any() else 0)
        return chosen[np.argsort(-key, kind="stable")]

    def _greedy_arrival(self) -> set[int]:
        """The rule-based baseline: requests in arrival order, each taking its best-scoring
        unit still free under every rule (ties: the unit listed first)."""
        c, reqs = self.cands, self.problem.requests
        bounds = self._bounds()
        beds = self.beds.copy()
        caps = self.shelter_caps.copy()
        taken = np.zeros(len(self.index), dtype=bool)
        out: set[int] = set()
        for r in sorted(range(len(reqs)), key=lambda i: (reqs[i].waiting_since, i)):
            a, b = int(bounds[r]), int(bounds[r + 1])
            size = int(self.sizes[r])
            seg = c.weight[a:b]
            if b - a > 64:  # the best 64 (and every pair tied with the 64th) first; rarely all
                top = np.flatnonzero(seg >= seg[np.argpartition(-seg, 63)[63]])
                orders = (top[np.argsort(-seg[top], kind="stable")], None)
            else:
                orders = (np.argsort(-seg, kind="stable"),)
            for order in orders:
                if order is None:
                    order = np.argsort(-seg, kind="stable")
                if self._take_first(order.tolist(), a, size, beds, caps, taken, out):
                    break
        return out

    def _take_first(self, order, a, size, beds, caps, taken, out) -> bool:
        c = self.cands
        for j in order:
            u = int(c.unit[a + j])
            sh = int(self.unit_shelter[u])
            if (sh >= 0 and caps[sh] <= 0) or (beds[u] < size if self.shared[u] else taken[u]):
                continue
            taken[u] = True
            beds[u] -= size
            if sh >= 0:
                caps[sh] -= 1
            out.add(a + j)
            return True
        return False

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
        bounds = self._bounds()
        out = []
        for i, request in enumerate(self.problem.requests):
            if i in placed:
                continue
            tables = self.index.rule_tables(request)  # once, for both fitting and exclusions
            # the fitting units are the request's candidate pairs, unless those were pruned
            fitting = c.unit[bounds[i]:bounds[i + 1]].astype(np.int64) if self.pruned_to is None \
                else self.index.fitting(request, tables)
            free_beds = self.beds[fitting] - beds_used[fitting]
            unavailable = (
                np.where(self.shared[fitting], free_beds < self.sizes[i], beds_used[fitting] > 0)
                | shelter_full[self.unit_shelter[fitting]]
            )
            excluded = self.index.exclusions(request, tables)
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

    def __init__(self, bound: int | None):
        super().__init__()
        self.bound = bound

    def on_solution_callback(self) -> None:
        if self.bound is not None and self.objective_value >= self.bound:
            self.stop_search()


def _most_flow(req: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per request with any flow, the position of its pair with the most (ties: the first)."""
    order = np.lexsort((-flow, req))
    first = np.r_[True, req[order][1:] != req[order][:-1]]
    top = order[first]
    return np.sort(top[flow[top] > 1e-6])


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
    start = time.perf_counter()
    solver = BatchSolver(problem, max_candidates_per_request=max_candidates_per_request)
    # candidate generation counts against the limit (it cannot be interrupted; measured
    # 0.2 s at 300 x 3,000 and 11 s at 5,000 x 50,000); the relaxation gets at least one round
    left = time_limit - (time.perf_counter() - start)
    return solver.solve(max(left, 0.0), workers=workers, seed=seed, previous=previous)
