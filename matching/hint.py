"""Feasible solutions for the batch: greedy in a given order, the rule-based baseline (arrival
order), the relaxation's flow repaired, and the previous batch's solution (matching/README.md,
"The batch", step 3)."""

import time
from dataclasses import replace

import numpy as np

from . import relaxation as rx
from .candidates import Candidates
from .capacity import Capacity, Left
from .types import Problem, Result


def greedy(c: Candidates, cap: Capacity, order: np.ndarray, left: Left | None = None) -> np.ndarray:
    """Pairs in the given order, each taken when its request is unplaced and its household fits
    into what is left (`left`, taken from as it goes; by default all of `cap`)."""
    left, placed, out = left or cap.left(), set(), []
    for p, r, u in zip(order.tolist(), c.req[order].tolist(), c.unit[order].tolist()):
        if r not in placed and left.fits_one(r, u):
            left.take(r, u)
            placed.add(r)
            out.append(p)
    return np.sort(np.array(out, dtype=np.int64))


def arrival_greedy(problem: Problem, c: Candidates, cap: Capacity, bounds: np.ndarray) -> np.ndarray:
    """The rule-based baseline: requests in arrival order, each taking its best-scoring unit still
    free under every rule (ties: the unit listed first)."""
    left, out, reqs = cap.left(), [], problem.requests
    for r in sorted(range(len(reqs)), key=lambda i: (reqs[i].waiting_since, i)):
        order = bounds[r] + np.argsort(-c.weight[bounds[r]:bounds[r + 1]], kind="stable")
        fits = order[left.fits(c.req[order], c.unit[order])]
        if fits.size:
            left.take(r, int(c.unit[fits[0]]))
            out.append(fits[0])
    return np.sort(np.array(out, dtype=np.int64))


def repair(c: Candidates, cap: Capacity, flow_pairs: np.ndarray, bounds: np.ndarray,
           deadline: float, flow_k: int) -> np.ndarray:
    """Fix and re-solve: keep the flow's pairs that fit (`_keep_order`); the displaced households
    get the flow's optimum over what is left; repeat until nobody is displaced."""
    left, kept, chosen = cap.left(), [], flow_pairs
    for _ in range(10):
        taken = greedy(c, cap, _keep_order(c, left, chosen, bounds), left)
        kept.append(taken)
        displaced = np.setdiff1d(c.req[chosen], c.req[taken])
        if displaced.size == 0 or time.perf_counter() > deadline:
            break
        idx = np.concatenate([np.arange(bounds[r], bounds[r + 1]) for r in displaced.tolist()])
        idx = idx[left.fits(c.req[idx], c.unit[idx])]
        if idx.size == 0:
            break
        net, entry = rx.build_network(c.req[idx], c.unit[idx], bounds.size - 1,
                                      replace(cap, beds=left.beds, intake=left.intake))
        start = rx.top_k_mask(c.req[idx], c.weight[idx], flow_k)
        chosen = idx[rx.solve_relaxation(net, c.req[idx], entry, c.weight[idx], start, deadline=deadline).chosen]
    return np.sort(np.concatenate(kept))


def _keep_order(c: Candidates, left: Left, chosen: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Heaviest first, except in a shared unit the pairs overfill: there the household that would
    lose most by moving comes first (its weight less the best it gets where there is room beside
    every pair of `chosen`; all of it where there is none)."""
    after = Left(left.cap, left.beds.copy(), left.intake.copy(), left.taken.copy())
    for r, u in zip(c.req[chosen].tolist(), c.unit[chosen].tolist()):
        after.take(r, u)
    key = c.weight[chosen].copy()
    for i in np.flatnonzero((left.cap.shared & (after.beds < 0))[c.unit[chosen]]).tolist():
        at = np.arange(bounds[c.req[chosen[i]]], bounds[c.req[chosen[i]] + 1])
        room = at[after.fits(c.req[at], c.unit[at])]
        key[i] -= int(c.weight[room].max()) if room.size else 0
    return chosen[np.argsort(-key, kind="stable")]


def previous_pairs(problem: Problem, unit_position: dict[str, int], c: Candidates, bounds: np.ndarray,
                   previous: Result | None) -> np.ndarray:
    """The candidate pairs of the previous solution's matches that are still candidates."""
    req_position = {r.id: i for i, r in enumerate(problem.requests)}
    out = []
    for match in previous.matches if previous else ():
        r, u = req_position.get(match.request_id, -1), unit_position.get(match.unit_id, -1)
        if r >= 0 and u >= 0:
            out.append(bounds[r] + np.flatnonzero(c.unit[bounds[r]:bounds[r + 1]] == u))
    return np.concatenate(out or [np.zeros(0, dtype=np.int64)]).astype(np.int64)


def best(c: Candidates, *solutions: np.ndarray) -> np.ndarray:
    """The heaviest of the solutions (the first of equal ones)."""
    return max(solutions, key=lambda s: int(c.weight[s].sum()))
