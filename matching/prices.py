"""A tighter bound where the relaxation overfills shared units: bed prices (Lagrangian relaxation).

For bed prices lam[u] >= 0 on the shared units, every solution x satisfies
    sum w x <= sum (w - lam[u] size) x + sum lam[u] used[u] <= flow(w - lam size) + sum lam[u] beds[u],
since the flow keeps every other rule. The prices come from the LP with exact beds rows (bed_lp.py),
scaled by K to integers; the bound itself is the exact integer flow at those prices over every pair
(column generation), so it is valid whatever the LP's rounding. Its reduced costs fix pairs as the
relaxation's do, usually many more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import bed_lp
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

    def could_beat(self, value: int) -> np.ndarray:
        """Of its pairs, those that may be in a solution weighing more than `value`."""
        return self.pairs[self.reduced_cost <= self.scaled - self.K * (value + 1)]


def priced_bound(c: Candidates, cap: Capacity, net: rx.Network, entry: np.ndarray, rel: rx.Relaxation,
                 kept: np.ndarray, lower: int, deadline: float, max_k: int) -> PricedBound | None:
    """The Lagrangian bound at the LP's bed prices over the pairs `kept` (those reduced-cost fixing
    keeps: the optimum lies among them, or weighs at most `lower`), or None when there is no time
    or the LP fails. The LP covers the relaxation's last flow's pairs among them, on their reduced
    costs clipped at the gap (arcs costlier than that cannot be in a better solution)."""
    gap, potential = rel.value - lower + 1, rel.potential
    work = np.intersect1d(rel.active, kept, assume_unique=True)
    pair_cost = np.clip(potential[rx.FIRST_REQUEST + c.req[work]] - potential[entry[work]] - c.weight[work], -gap, gap)
    static_cost = np.clip(potential[net.tails] - potential[net.heads], -gap, gap)
    lp = bed_lp.bed_prices(net, c.req[work], c.unit[work], entry[work], pair_cost, static_cost, cap,
                           deadline - time.perf_counter())
    if lp is None or not lp[0].any():
        return None
    prices, flow = lp
    K = _scale(c.weight[kept], net.n_nodes, max_k)
    lk = np.round(prices * K).astype(np.int64)
    req, unit = c.req[kept], c.unit[kept]
    priced = rx.solve_relaxation(net, req, entry[kept], c.weight[kept] * K - lk[unit] * cap.size[req],
                                 np.isin(kept, work, assume_unique=True), deadline=deadline)
    scaled = priced.value + int((lk * cap.beds).sum())
    return PricedBound(scaled // K, scaled, K, kept, priced.reduced_cost, _most_flow(c.req, work, flow))


def _most_flow(req: np.ndarray, pairs: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Of `pairs`, each request's pair with the most flow, where it has any."""
    order = np.lexsort((-flow, req[pairs]))
    first = np.r_[True, req[pairs][order][1:] != req[pairs][order][:-1]]
    top = order[first]
    return pairs[top[flow[top] > 1e-6]]


def _scale(weight: np.ndarray, n_nodes: int, max_k: int) -> int:
    """The largest K up to max_k for which K * weight * nodes stays well inside the flow's int64."""
    max_w = int(np.abs(weight).max()) if weight.size else 1
    return int(max(1, min(max_k, (2**60) // max(1, max_w * (n_nodes + 1) * 4))))
