"""Matching engine benchmarks (figures, not pass/fail).

    .venv/bin/python bench/matching_bench.py [--scale sweden|europe|all] [--seed 42] [--workers 2]

Per scale, on one seeded generated instance (matching.generate):
  - batch solve: candidate generation time, solve time, objective, status, gap;
    against scipy.optimize.linear_sum_assignment on the pure-assignment relaxation
    (dense float64 requests x units matrix of Score.total for pairs that pass every
    pair rule, 0 elsewhere; one household per unit; no intake limits, no shared beds;
    timed without building the matrix);
  - households placed and urgency-weighted placements (sum of level-1 priority),
    against greedy: requests in arrival order, each taking its best-scoring unit
    still free under every hard rule;
  - fast-track over all units of the instance: median and p99 over 200 requests;
  - Swedish scale over seeds 1..--seeds (--seeds-time-limit each): proven count, solve
    times, the fair ratio against scipy, the largest gap;
  - where the timed batch is not proven optimal: the same solver again with --prove-time-limit
    (the exact completion of matching/exact.py gets the time it needs), and the timed batch's
    objective against that proven optimum.
At European scale the batch keeps each request's best --europe-k candidate pairs;
its objective is then compared with the *unpruned* relaxation optimum (min-cost
flow over every fitting pair), an upper bound on the true optimum.

Prints a table and writes bench-results.json (list of {name, value, unit[, baseline, ratio]}).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from matching.fast_track import FastTrack  # noqa: E402
from matching.generate import generate_problem, load_municipalities  # noqa: E402
from matching import relaxation  # noqa: E402
from matching.scoring import URGENCY_WEIGHT, priority  # noqa: E402
from matching.solver import BatchSolver  # noqa: E402
from matching.types import Municipality  # noqa: E402
from matching.validator import validate  # noqa: E402

SCALES = {"sweden": (300, 3_000), "europe": (5_000, 50_000)}
RESULTS: list[dict] = []


def record(name, value, unit, baseline=None):
    row = {"name": name, "value": value, "unit": unit}
    if baseline is not None:
        row["baseline"] = baseline
        row["ratio"] = (value / baseline) if baseline else None
    RESULTS.append(row)
    extra = ""
    if baseline is not None:
        ratio = row["ratio"]
        extra = f"  baseline {_fmt(baseline)}  ratio {ratio:.4g}" if ratio is not None else f"  baseline {_fmt(baseline)}"
    print(f"{name:<52} {_fmt(value):>18} {unit:<10}{extra}", flush=True)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def municipalities() -> list[Municipality]:
    csv = ROOT / "sql" / "data" / "municipalities.csv"
    if csv.exists():
        return load_municipalities(csv)
    rng = random.Random(0)  # fallback: synthetic seats inside Sweden's bounding box
    return [
        Municipality(f"{i % 21 + 1:02d}{i:02d}", f"{i % 21 + 1:02d}", rng.uniform(55.3, 69.0), rng.uniform(11.0, 24.1))
        for i in range(290)
    ]


def greedy(solver: BatchSolver):
    """Arrival order; each request takes its best-scoring unit still free under every rule."""
    p, index = solver.problem, solver.index
    beds_left = solver.beds.copy()
    used = np.zeros(len(index), dtype=bool)
    intake = solver.shelter_caps.copy()
    placed = []
    order = sorted(range(len(p.requests)), key=lambda i: (p.requests[i].waiting_since, i))
    for i in order:
        r = p.requests[i]
        idx = index.fitting(r)
        if idx.size == 0:
            continue
        w = index.pair_weights(r, idx, solver.weights, p.today)
        size = r.household.size
        for j in np.argsort(-w, kind="stable"):
            u = int(idx[j])
            s = int(solver.unit_shelter[u])
            if s >= 0 and intake[s] <= 0:
                continue
            if solver.shared[u]:
                if beds_left[u] < size:
                    continue
            elif used[u]:
                continue
            beds_left[u] -= size
            used[u] = True
            if s >= 0:
                intake[s] -= 1
            placed.append((r.id, index.units[u].id, int(w[j])))
            break
    return placed


def scipy_baseline(solver: BatchSolver) -> tuple[float, float, int]:
    """(seconds to build the dense matrix from the candidate pairs, seconds to solve it, objective)."""
    from scipy.optimize import linear_sum_assignment

    c = solver.cands
    t = time.perf_counter()
    cost = np.zeros((len(solver.problem.requests), len(solver.index)), dtype=np.float64)
    cost[c.req, c.unit] = -c.weight.astype(np.float64)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    rows, cols = linear_sum_assignment(cost)
    elapsed = time.perf_counter() - t
    value = int(-cost[rows, cols].sum())
    del cost
    gc.collect()
    return t_build, elapsed, value


def bench_scale(scale: str, seed: int, workers: int, time_limit: float, unpruned_flow: bool, prove_limit: float):
    n_req, n_units = SCALES[scale]
    print(f"\n== {scale}: {n_req:,} requests x {n_units:,} units (seed {seed}) ==", flush=True)
    problem = generate_problem(municipalities(), n_req, n_units, seed=seed)
    prio = {r.id: priority(r, problem.today) for r in problem.requests}
    urg = {r.id: URGENCY_WEIGHT[r.urgency] for r in problem.requests}

    t = time.perf_counter()
    solver = BatchSolver(problem)
    t_cands = time.perf_counter() - t
    result = solver.solve(time_limit, workers=workers, seed=0)
    t_solve = result.wall_time_s
    assert validate(problem, result.matches) == [], "engine solution breaks a hard rule"
    record(f"{scale}.candidate_pairs", len(solver.cands), "pairs")
    record(f"{scale}.batch.candidate_generation", t_cands, "s")
    for k, v in solver.stats.items():
        record(f"{scale}.batch.{k}", v, "")
    for k, v in getattr(solver, "timing", {}).items():
        record(f"{scale}.batch.time.{k}", v, "s")

    t_build, t_scipy, scipy_value = scipy_baseline(solver)
    record(f"{scale}.scipy.dense_matrix_build", t_build, "s")
    record(f"{scale}.batch.solve_time(from pairs) vs scipy solve only", t_solve, "s", baseline=t_scipy)
    record(f"{scale}.batch.solve_time(from pairs) vs scipy build+solve", t_solve, "s", baseline=t_build + t_scipy)
    record(f"{scale}.batch.total(cands+solve) vs scipy(cands+build+solve)", t_cands + t_solve, "s",
           baseline=t_cands + t_build + t_scipy)
    if unpruned_flow:
        c = solver.cands
        net = relaxation.build_network(c.req, c.unit, n_req, solver.beds, solver.shared, solver.sizes,
                                       solver.unit_shelter, solver.shelter_caps)
        t = time.perf_counter()
        ub = relaxation.solve_flow(net, c.req, net.entry(c.unit, solver.sizes[c.req], solver.shared), c.weight,
                                   potentials=False).value
        t_relax = time.perf_counter() - t
        record(f"{scale}.relaxation.one_flow_over_all_pairs", t_relax, "s", baseline=t_scipy)
        record(f"{scale}.batch.objective_vs_unpruned_relaxation", result.objective, "score", baseline=ub)
    record(f"{scale}.batch.objective", result.objective, "score", baseline=result.bound)
    record(f"{scale}.batch.gap_to_own_bound", result.gap, "fraction")
    record(f"{scale}.batch.proven_optimal", int(result.status == "optimal"), "bool")
    record(f"{scale}.batch.proof", result.proof or "none", "")
    record(f"{scale}.scipy.pure_assignment_objective", scipy_value, "score")
    gc.collect()
    if result.status != "optimal" and prove_limit > 0:
        prove(scale, solver, result, workers, prove_limit)

    placed = greedy(solver)
    g_prio = sum(prio[r] for r, _, _ in placed)
    b_prio = sum(prio[m.request_id] for m in result.matches)
    record(f"{scale}.households_placed", len(result.matches), "households", baseline=len(placed))
    record(f"{scale}.urgency_weighted_placements(priority)", b_prio, "points", baseline=g_prio)
    record(f"{scale}.urgency_weighted_placements(urgency)",
           sum(urg[m.request_id] for m in result.matches), "points", baseline=sum(urg[r] for r, _, _ in placed))
    record(f"{scale}.batch.objective_vs_greedy", result.objective, "score", baseline=sum(w for _, _, w in placed))

    ft = FastTrack(problem.units, today=problem.today, open_offers=problem.open_offers,
                   intake_used=problem.intake_used)
    times = []
    for r in problem.requests[:200]:
        t = time.perf_counter()
        ft.top(r, 10)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    record(f"{scale}.fast_track.median({n_units:,} units)", statistics.median(times), "ms")
    record(f"{scale}.fast_track.p99({n_units:,} units)", times[int(0.99 * (len(times) - 1))], "ms")


def prove(scale: str, solver: BatchSolver, timed, workers: int, time_limit: float) -> None:
    """The same instance with a longer limit, for its proven optimum: the timed batch's objective
    is then measured against the optimum itself, not only against a bound."""
    result = solver.solve(time_limit, workers=workers, seed=0)
    assert validate(solver.problem, result.matches) == [], "engine solution breaks a hard rule"
    record(f"{scale}.proof_run.time_limit", time_limit, "s")
    record(f"{scale}.proof_run.solve_time", result.wall_time_s, "s")
    for k in ("mip_rounds", "mip_contested_units", "mip_model_pairs", "kept_pairs_under_bed_prices"):
        if k in solver.stats:
            record(f"{scale}.proof_run.{k}", solver.stats[k], "")
    record(f"{scale}.proof_run.proven_optimal", int(result.status == "optimal"), "bool")
    record(f"{scale}.proof_run.proof", result.proof or "none", "")
    record(f"{scale}.proof_run.objective", result.objective, "score", baseline=result.bound)
    record(f"{scale}.batch.objective vs proof run's", timed.objective, "score", baseline=result.objective)
    record(f"{scale}.batch.short_of_proof_run's_objective", result.objective - timed.objective, "score points")
    gc.collect()


def bench_seeds(seeds: list[int], workers: int, time_limit: float):
    """Swedish scale over several seeds: how often the batch is proven optimal, and how long it
    takes (one seed says little about a solver whose proof depends on the instance)."""
    n_req, n_units = SCALES["sweden"]
    print(f"\n== sweden, seeds {seeds[0]}-{seeds[-1]}: {n_req:,} x {n_units:,}, {time_limit:g} s limit ==", flush=True)
    times, gaps, proven, fair = [], [], 0, []
    for seed in seeds:
        problem = generate_problem(municipalities(), n_req, n_units, seed=seed)
        t = time.perf_counter()
        solver = BatchSolver(problem)
        t_cands = time.perf_counter() - t
        result = solver.solve(time_limit, workers=workers, seed=0)
        assert validate(problem, result.matches) == [], "engine solution breaks a hard rule"
        t_build, t_scipy, _ = scipy_baseline(solver)
        proven += result.status == "optimal"
        times.append(result.wall_time_s)
        gaps.append(result.bound - result.objective)
        fair.append((t_cands + result.wall_time_s) / (t_cands + t_build + t_scipy))
        print(f"  seed {seed:>3}: {result.status:<8} solve {result.wall_time_s:7.3f} s  gap {gaps[-1]:>4} points"
              f"  fair ratio {fair[-1]:.3g}  proof {result.proof or '-'}", flush=True)
    record("sweden.seeds.proven_optimal", proven, f"of {len(seeds)}")
    record("sweden.seeds.solve_time_median", statistics.median(times), "s")
    record("sweden.seeds.solve_time_max", max(times), "s")
    record("sweden.seeds.fair_ratio_median", statistics.median(fair), "x scipy")
    record("sweden.seeds.gap_max", max(gaps), "score points")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=("sweden", "europe", "all"), default="all")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--unpruned-flow", choices=("sweden", "all", "none"), default="sweden",
                    help="also time one min-cost flow over every candidate pair (slow at European scale)")
    ap.add_argument("--seeds", type=int, default=10,
                    help="also solve Swedish instances with seeds 1..N (0: skip)")
    ap.add_argument("--seeds-time-limit", type=float, default=10.0)
    ap.add_argument("--prove-time-limit", type=float, default=3600.0,
                    help="limit of the run for the proven optimum where the timed batch is not proven (0: skip)")
    ap.add_argument("--out", default=str(ROOT / "bench-results.json"))
    args = ap.parse_args(argv)
    scales = ("sweden", "europe") if args.scale == "all" else (args.scale,)
    for scale in scales:
        bench_scale(scale, args.seed, args.workers, args.time_limit,
                    args.unpruned_flow == "all" or args.unpruned_flow == scale, args.prove_time_limit)
    if args.seeds and args.scale in ("sweden", "all"):
        bench_seeds(list(range(1, args.seeds + 1)), args.workers, args.seeds_time_limit)
    Path(args.out).write_text(json.dumps(RESULTS, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
