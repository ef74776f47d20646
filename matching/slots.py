"""The best solution that keeps how each shared unit is split: one min-cost flow.

A solution splits each shared unit into slots: one per household it holds (that household's
size) and one of its free beds. A household fits a slot as large as itself; an unshared unit is
one slot of any size. Held to those slots every rule is a flow rule (one household per slot,
intake per limited shelter), so any flow is a solution and the min-cost flow is the best one:

    source -> request      capacity 1, each request the solution places (so the same are placed:
                           the priority level is kept)
    request -> slot        capacity 1, cost: the pair's weight below the request's best pair
    slot -> sink           capacity 1 (or -> its limited shelter -> sink, capacity the intake)

The flow moves households along chains of any length (into a unit another household leaves, and
so on), which a MIP neighbourhood finds only among its free requests; what it cannot change is how
a shared unit is split. The solver alternates the two (`BatchSolver._polish`).
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from .exact import Batch, beds_left

ANY_SIZE = np.iinfo(np.int64).max


def best_in_slots(batch: Batch, pairs: np.ndarray, solution: np.ndarray) -> np.ndarray:
    """The best solution over `pairs` (plus `solution`'s own) that places the requests `solution`
    places, each shared unit held to `solution`'s slots."""
    n_req = batch.sizes.size
    placed = np.zeros(n_req, dtype=bool)
    placed[batch.req[solution]] = True
    pairs = np.union1d(pairs[placed[batch.req[pairs]]], solution)
    slot_unit, slot_size = _slots(batch, pairs, solution)
    arc_pair, arc_slot = _fitting(batch, pairs, slot_unit, slot_size)

    best = np.zeros(n_req, dtype=np.int64)
    np.maximum.at(best, batch.req[pairs], batch.weight[pairs])
    requests = np.flatnonzero(placed)
    n_slots = slot_unit.size
    source, sink, first_request, first_slot = 0, 1, 2, 2 + n_req
    first_shelter = first_slot + n_slots
    shelter = batch.unit_shelter[slot_unit]
    limited = shelter >= 0
    tails = np.concatenate([np.full(requests.size, source), first_request + batch.req[arc_pair],
                            first_slot + np.arange(n_slots), first_shelter + np.arange(batch.shelter_caps.size)])
    heads = np.concatenate([first_request + requests, first_slot + arc_slot,
                            np.where(limited, first_shelter + shelter, sink),
                            np.full(batch.shelter_caps.size, sink)])
    caps = np.concatenate([np.ones(requests.size + arc_pair.size + n_slots, dtype=np.int64),
                           batch.shelter_caps.astype(np.int64)])
    costs = np.concatenate([np.zeros(requests.size, dtype=np.int64),
                            best[batch.req[arc_pair]] - batch.weight[arc_pair],
                            np.zeros(n_slots + batch.shelter_caps.size, dtype=np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int64), heads.astype(np.int64), caps, costs)
    flow.set_node_supply(source, int(requests.size))
    flow.set_node_supply(sink, -int(requests.size))
    if flow.solve() != flow.OPTIMAL:  # `solution` itself is a flow, so this should not happen
        return solution
    on = flow.flows(np.arange(requests.size, requests.size + arc_pair.size)) > 0
    return np.unique(arc_pair[on])


def _slots(batch: Batch, pairs: np.ndarray, solution: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit, size) of every slot of the units `pairs` reach, sorted by unit."""
    n_units = batch.beds.size
    reached = np.zeros(n_units, dtype=bool)
    reached[batch.unit[pairs]] = True
    holders = solution[batch.shared[batch.unit[solution]]]
    free = beds_left(batch, solution)
    roomy = np.flatnonzero(batch.shared & reached & (free > 0))
    unshared = np.flatnonzero(~batch.shared & reached)
    unit = np.concatenate([batch.unit[holders], roomy, unshared])
    size = np.concatenate([batch.sizes[batch.req[holders]], free[roomy], np.full(unshared.size, ANY_SIZE)])
    order = np.argsort(unit, kind="stable")
    return unit[order], size[order]


def _fitting(batch: Batch, pairs: np.ndarray, slot_unit: np.ndarray, slot_size: np.ndarray):
    """(pair, slot) for every slot of the pair's unit its household fits."""
    first = np.searchsorted(slot_unit, batch.unit[pairs])
    count = np.searchsorted(slot_unit, batch.unit[pairs], side="right") - first
    arc_pair = np.repeat(pairs, count)
    starts = np.repeat(first - (np.cumsum(count) - count), count)
    arc_slot = starts + np.arange(arc_pair.size)
    fits = batch.sizes[batch.req[arc_pair]] <= slot_size[arc_slot]
    return arc_pair[fits], arc_slot[fits]
