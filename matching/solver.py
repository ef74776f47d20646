"""Batch mode: every waiting request at once, the lexicographic optimum for the whole country.

`BatchSolver.solve` is the pipeline, top to bottom, one module per step: candidates, relaxation,
hint, fixing, bed prices, search (matching/README.md, "The batch"). Every step asks capacity.py
whether a household fits; the tuning is in config.py.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from . import explain, hint, prices
from . import relaxation as rx
from .candidates import Candidates, UnitIndex, all_candidates
from .capacity import Capacity
from .config import BatchConfig
from .rules import RuleContext
from .scoring import Weights, priority
from .search import search
from .types import Problem, Result


class BatchSolver:
    """Matches all requests of a Problem: `BatchSolver(problem).solve(10.0, previous=last_result)`."""

    def __init__(self, problem: Problem, *, index: UnitIndex | None = None, config: BatchConfig = BatchConfig(),
                 max_candidates_per_request: int | None = None):
        ctx = RuleContext.of(problem)
        self.problem, self.config, self.pruned_to = problem, config, max_candidates_per_request
        self.index = index or UnitIndex(problem.units, ctx)
        self.capacity = Capacity.of(problem, self.index.units, ctx)
        self.weights = Weights.for_batch(len(problem.requests))
        self.cands = _pruned(all_candidates(problem.requests, self.index, self.weights, problem.today),
                             max_candidates_per_request)
        self.bounds = np.searchsorted(self.cands.req, np.arange(len(problem.requests) + 1))
        self.priority = np.array([priority(r, problem.today) for r in problem.requests], dtype=np.int64)
        self.stats: dict[str, int] = {}

    def solve(self, time_limit: float = 10.0, *, workers: int | None = None, seed: int = 0,
              previous: Result | None = None) -> Result:
        """The optimum when proven within about `time_limit` seconds, else the best solution found
        and an honest bound."""
        start = time.perf_counter()
        deadline = start + time_limit
        self.stats = {}
        config = replace(self.config, workers=workers) if workers else self.config
        c, cap = self.cands, self.capacity
        net = rx.build_network(c.req, c.unit, len(self.problem.requests), cap)
        entry = net.entry(c.req, c.unit, cap)
        rel = rx.solve_relaxation(net, c.req, entry, c.weight, rx.top_k_mask(c.req, c.weight, config.flow_k),
                                  deadline=start + config.relaxation_share * time_limit)
        if rel.converged and cap.over_full(c.req[rel.chosen], c.unit[rel.chosen]).size == 0:
            return self._result(rel.chosen, rel.value, "relaxation", start)
        best = self._hint(rel, previous, deadline)
        kept = prices.kept_pairs(rel, best, self._weight(best))
        upper, priced = rel.value, None
        if self._weight(best) < upper and time.perf_counter() < deadline:
            priced = prices.priced_bound(c, cap, net, entry, rel, kept, self._weight(best), deadline,
                                         config.price_scale)
        if priced is not None:
            best = hint.best(c, best, hint.repair(c, cap, priced.rounded, self.bounds, deadline, config.flow_k))
            upper = max(min(upper, priced.bound), self._weight(best))
            kept = prices.kept_pairs(rel, best, self._weight(best), priced)
            tight = np.union1d(best, priced.pairs[priced.reduced_cost < priced.K])
            if self._weight(best) < upper and 2 * tight.size <= kept.size:
                best = self._tight(tight, best, upper, deadline, config, seed)
                kept = prices.kept_pairs(rel, best, self._weight(best), priced)
        self.stats.update({"pairs": len(c), "kept_pairs": int(kept.size)})
        if self._weight(best) >= upper:
            return self._result(best, upper, "relaxation" if upper == rel.value else "lagrangian", start)
        if deadline - time.perf_counter() < config.model_seconds_per_pair * kept.size:
            return self._result(best, upper, "", start)  # no time to even build the model
        found = search(c, cap, self.priority, self.weights.priority, kept, best, upper, deadline, config, seed)
        return self._result(found.pairs, found.bound, "cp_sat", start, components=1)

    def _tight(self, pairs: np.ndarray, best: np.ndarray, upper: int, deadline: float, config: BatchConfig,
               seed: int) -> np.ndarray:
        """The bed prices' bound is often met by a solution over the pairs they price within a point
        of it (`pairs`): CP-SAT over those alone (a share of the time left) finds it sooner than over
        every pair kept."""
        until = time.perf_counter() + config.tight_share * (deadline - time.perf_counter())
        found = search(self.cands, self.capacity, self.priority, self.weights.priority, pairs, best, upper, until,
                       config, seed)
        self.stats["tight_pairs"] = int(pairs.size)
        return hint.best(self.cands, best, found.pairs)

    def _hint(self, rel: rx.Relaxation, previous: Result | None, deadline: float) -> np.ndarray:
        """The best of: the flow repaired, greedy from the flow's pairs and then the flow's working
        pairs by weight, the rule-based baseline, and the previous solution (then greedy as before)."""
        c, cap = self.cands, self.capacity
        by_weight = rel.active[np.argsort(-c.weight[rel.active], kind="stable")]
        flow_first = np.concatenate([rel.chosen[np.argsort(-c.weight[rel.chosen], kind="stable")], by_weight])
        prev = hint.previous_pairs(self.problem, self.index.position, c, self.bounds, previous)
        return hint.best(
            c,
            hint.repair(c, cap, rel.chosen, self.bounds, deadline, self.config.flow_k),
            hint.greedy(c, cap, flow_first),
            hint.arrival_greedy(self.problem, c, cap, self.bounds),
            hint.greedy(c, cap, np.concatenate([prev, flow_first])),
        )

    def _weight(self, pairs: np.ndarray) -> int:
        return int(self.cands.weight[pairs].sum())

    def _result(self, picked: np.ndarray, bound: int, proof: str, start: float, components: int = 0) -> Result:
        objective = self._weight(picked)
        bound = max(bound, objective)
        return Result(
            status="optimal" if objective >= bound else "feasible",
            matches=explain.matches(self.problem, self.index, self.cands, self.weights, picked),
            unmatched=explain.unmatched(self.problem, self.index, self.cands, self.capacity, picked,
                                        None if self.pruned_to else self.bounds),
            objective=objective,
            bound=bound,
            gap=(bound - objective) / max(1, bound),
            proof=proof if objective >= bound else "",
            components=components,
            wall_time_s=time.perf_counter() - start,
            weights=self.weights.as_tuple(),
            candidates_pruned_to=self.pruned_to,
        )


def _pruned(cands: Candidates, k: int | None) -> Candidates:
    """Each request's k best pairs (ties: the unit listed first); all of them when k is None."""
    if k is None or len(cands) == 0:
        return cands
    order = np.lexsort((cands.unit, -cands.weight, cands.req))
    starts = np.searchsorted(cands.req[order], cands.req[order], side="left")
    keep = np.sort(order[np.arange(order.size) - starts < k])
    return Candidates(cands.req[keep], cands.unit[keep], cands.weight[keep])


def solve(problem: Problem, time_limit: float = 10.0, *, workers: int | None = None, seed: int = 0,
          previous: Result | None = None, max_candidates_per_request: int | None = None,
          config: BatchConfig = BatchConfig()) -> Result:
    """Batch-match every request of the problem (see BatchSolver); candidate generation counts
    against the time limit."""
    start = time.perf_counter()
    solver = BatchSolver(problem, config=config, max_candidates_per_request=max_candidates_per_request)
    left = time_limit - (time.perf_counter() - start)
    return solver.solve(max(left, 0.0), workers=workers, seed=seed, previous=previous)
