"""Batch mode: every waiting request at once, the lexicographic optimum for the whole country.
`BatchSolver.solve` is the pipeline of matching/README.md, "The batch", one module per step."""

import time
from dataclasses import dataclass, replace

import numpy as np

from . import explain, hint, prices
from . import relaxation as rx
from .candidates import UnitIndex, all_candidates
from .capacity import Capacity
from .rules import RuleContext
from .scoring import Weights, priority
from .search import search
from .types import Problem, Result


@dataclass(frozen=True)
class BatchConfig:
    """The batch's tuning, for up to about 1,000 requests x 10,000 units."""

    flow_k: int = 6  # each request's best pairs the flow starts from; column generation adds the rest
    relaxation_share: float = 0.7  # of the time limit at most, so that a solution can be repaired
    price_scale: int = 64  # bed prices are whole 1/price_scale points (less if int64 needs it)
    tight_share: float = 0.3  # of the time left at most, for the search over the pairs priced tight
    workers: int = 1  # CP-SAT gets 1 below 8: its small portfolios lack the LP search these models need
    model_seconds_per_pair: float = 2e-5  # the search starts only with this much time left per pair


class BatchSolver:
    """Matches all requests of a Problem: `BatchSolver(problem).solve(10.0, previous=last_result)`."""

    def __init__(self, problem: Problem, config: BatchConfig = BatchConfig()):
        ctx = RuleContext.of(problem)
        self.problem, self.config, self.index = problem, config, UnitIndex(problem.units, ctx)
        self.capacity = Capacity.of(problem, self.index.units, ctx)
        self.weights = Weights.for_batch(len(problem.requests))
        self.cands = all_candidates(problem.requests, self.index, self.weights, problem.today)
        self.bounds = np.searchsorted(self.cands.req, np.arange(len(problem.requests) + 1))
        self.priority = np.array([priority(r, problem.today) for r in problem.requests], dtype=np.int64)
        self.stats: dict[str, int] = {}

    def solve(self, time_limit: float = 10.0, *, workers: int | None = None, seed: int = 0,
              previous: Result | None = None) -> Result:
        """The optimum when proven within about `time_limit` seconds, else the best solution found
        and an honest bound."""
        start = time.perf_counter()
        deadline, self.stats = start + time_limit, {}
        config = replace(self.config, workers=workers) if workers else self.config
        c, cap, weight = self.cands, self.capacity, self._weight
        net, entry = rx.build_network(c.req, c.unit, len(self.problem.requests), cap)
        rel = rx.solve_relaxation(net, c.req, entry, c.weight, rx.top_k_mask(c.req, c.weight, config.flow_k),
                                  deadline=start + config.relaxation_share * time_limit)
        best = self._hint(rel, previous, deadline)
        kept, upper, priced = prices.kept_pairs(rel, best, weight(best)), rel.value, None
        if weight(best) < upper and time.perf_counter() < deadline:
            priced = prices.priced_bound(c, cap, net, entry, rel, kept, weight(best), deadline, config.price_scale)
        if priced is not None:
            best = hint.best(c, best, hint.repair(c, cap, priced.rounded, self.bounds, deadline, config.flow_k))
            upper = max(min(upper, priced.bound), weight(best))
            kept = prices.kept_pairs(rel, best, weight(best), priced)
            # CP-SAT over the pairs priced within a point of the bound often finds a solution at it
            # sooner than over every pair kept
            tight = np.union1d(best, priced.pairs[priced.reduced_cost < priced.K])
            if weight(best) < upper and 2 * tight.size <= kept.size:
                until = time.perf_counter() + config.tight_share * (deadline - time.perf_counter())
                best = hint.best(c, best, self._search(tight, best, upper, until, config, seed)[0])
                kept = prices.kept_pairs(rel, best, weight(best), priced)
                self.stats["tight_pairs"] = int(tight.size)
        self.stats.update({"pairs": len(c), "kept_pairs": int(kept.size)})
        if weight(best) >= upper:
            return self._result(best, upper, "relaxation" if upper == rel.value else "lagrangian", start)
        if deadline - time.perf_counter() < config.model_seconds_per_pair * kept.size:
            return self._result(best, upper, "", start)  # no time to even build the model
        return self._result(*self._search(kept, best, upper, deadline, config, seed), "cp_sat", start)

    def _hint(self, rel: rx.Relaxation, previous: Result | None, deadline: float) -> np.ndarray:
        """The better of the flow repaired and the previous solution completed from the flow's pairs."""
        c, by_weight = self.cands, lambda pairs: pairs[np.argsort(-self.cands.weight[pairs], kind="stable")]
        prev = hint.previous_pairs(self.problem, self.index.position, c, self.bounds, previous)
        return hint.best(c, hint.repair(c, self.capacity, rel.chosen, self.bounds, deadline, self.config.flow_k),
                         hint.greedy(c, self.capacity, np.concatenate([prev, by_weight(rel.chosen),
                                                                       by_weight(rel.active)])))

    def _search(self, pairs, best, upper, until, config: BatchConfig, seed: int):
        return search(self.cands, self.capacity, self.priority, self.weights.priority, pairs, best, upper, until,
                      config.workers if config.workers >= 8 else 1, seed)

    def _weight(self, pairs: np.ndarray) -> int:
        return int(self.cands.weight[pairs].sum())

    def _result(self, picked: np.ndarray, bound: int, proof: str, start: float) -> Result:
        if self._weight(picked) < bound:  # not proven optimal: never worse than the rule-based baseline
            picked = hint.best(self.cands, picked, hint.arrival_greedy(self.problem, self.cands, self.capacity,
                                                                          self.bounds))
        objective = self._weight(picked)
        bound = max(bound, objective)
        return Result(
            status="optimal" if objective >= bound else "feasible",
            matches=explain.matches(self.problem, self.index, self.cands, self.weights, picked),
            unmatched=explain.unmatched(self.problem, self.index, self.cands, self.capacity, picked),
            objective=objective, bound=bound, gap=(bound - objective) / max(1, bound),
            proof=proof if objective >= bound else "", wall_time_s=time.perf_counter() - start,
            weights=self.weights.as_tuple(),
        )


def solve(problem: Problem, time_limit: float = 10.0, *, workers: int | None = None, seed: int = 0,
          previous: Result | None = None, config: BatchConfig = BatchConfig()) -> Result:
    """Batch-match every request of the problem (BatchSolver); candidate generation counts against
    the time limit."""
    start = time.perf_counter()
    solver = BatchSolver(problem, config)
    return solver.solve(max(time_limit - (time.perf_counter() - start), 0.0), workers=workers, seed=seed,
                        previous=previous)
