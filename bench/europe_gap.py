"""Where the European batch's gap to its bound comes from (a measurement, not part of the engine).

    .venv/bin/python bench/europe_gap.py [--requests 5000] [--units 50000] [--seed 42]

On the generated instance: the priced relaxation, its over-full shared units and, per unit, the
cheapest move of one of its households straight to a unit with room (weight lost); then, for the
unit whose cheapest move loses most, a branching bound. Every solution leaves out at least one of
the households the relaxation put there: for each largest set S of them that fits the beds, the
optimum of solutions keeping S is at most the relaxation without any one household outside S, so
the optimum is at most max over S of min over e outside S of relaxation(without pair e).
Measured 2026-11-25 at 5,000 x 50,000, seed 42: see matching/README.md, "Why the European gap stays".
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from matching import relaxation as rx  # noqa: E402
from matching.generate import generate_problem  # noqa: E402
from matching.solver import BatchSolver  # noqa: E402
from matching_bench import municipalities  # noqa: E402


def cheapest_moves(s: BatchSolver, chosen: np.ndarray) -> dict[int, int]:
    """Per over-full shared unit: the least weight one of its households loses by moving straight
    to a unit with room for it (beds, one household per unshared unit, shelter intake)."""
    c = s.cands
    n_r = len(s.problem.requests)
    used = np.zeros(len(s.index), dtype=np.int64)
    np.add.at(used, c.unit[chosen], s.sizes[c.req[chosen]])
    shelter = s.unit_shelter[c.unit[chosen]]
    intake = np.bincount(shelter[shelter >= 0], minlength=s.shelter_caps.size)
    open_shelter = np.append(intake < s.shelter_caps, True)
    bounds = rx.request_bounds(c.req, n_r)
    moves = {}
    for u in s._over_full(chosen).tolist():
        losses = []
        for q in chosen[c.unit[chosen] == u].tolist():
            r = int(c.req[q])
            v = c.unit[bounds[r]:bounds[r + 1]]
            room = np.where(s.shared[v], s.beds[v] - used[v] >= s.sizes[r], used[v] == 0)
            room &= (v != u) & open_shelter[s.unit_shelter[v]]
            if room.any():
                losses.append(int(c.weight[q] - c.weight[bounds[r]:bounds[r + 1]][room].max()))
        moves[u] = min(losses) if losses else None
    return moves


def branching_bound(s: BatchSolver, net, entry, rel, unit: int) -> tuple[int, dict[int, int]]:
    """The bound from branching on `unit` (module docstring) and the relaxation without each of
    the unit's households."""
    c = s.cands
    households = rel.chosen[c.unit[rel.chosen] == unit].tolist()
    without = {}
    for q in households:
        start = np.zeros(len(c), dtype=bool)
        start[rel.active] = True
        start[q] = False
        weight = c.weight.copy()
        weight[q] = -(10**15)  # never worth taking: the relaxation without pair q
        without[q] = rx.solve_relaxation(net, c.req, entry, weight, start).value
    size = {q: int(s.sizes[c.req[q]]) for q in households}
    fitting = [set(S) for k in range(len(households) + 1) for S in itertools.combinations(households, k)
               if sum(size[q] for q in S) <= s.beds[unit]]
    largest = [S for S in fitting if not any(S < T for T in fitting)]
    bound = max(min(without[q] for q in households if q not in S) for S in largest)
    return bound, without


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=5_000)
    ap.add_argument("--units", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    s = BatchSolver(generate_problem(municipalities(), args.requests, args.units, seed=args.seed))
    net, entry = s._network()
    rel = s._relax(net, entry, time.perf_counter() + 3600).relaxation
    moves = cheapest_moves(s, rel.chosen)
    known = [m for m in moves.values() if m is not None]
    print(f"relaxation {rel.value:,}; {len(moves)} over-full shared units; cheapest moves sum to "
          f"{sum(known):,} ({len(moves) - len(known)} units without one)")
    if not known:
        return
    unit = max((u for u in moves if moves[u] is not None), key=lambda u: moves[u])
    sizes = sorted(int(s.sizes[c]) for c in s.cands.req[rel.chosen[s.cands.unit[rel.chosen] == unit]])
    print(f"costliest: unit {unit} ({int(s.beds[unit])} beds, households of {sizes}), cheapest move loses {moves[unit]:,}")
    bound, without = branching_bound(s, net, entry, rel, unit)
    for q, value in without.items():
        print(f"  relaxation without the household of {int(s.sizes[s.cands.req[q]])}: {value - rel.value:,}")
    print(f"branching bound: {bound:,} ({bound - rel.value:,} against the relaxation)")


if __name__ == "__main__":
    main()
