"""Matching engine benchmark: figures as data, not pass/fail.

    .venv/bin/python bench/matching_bench.py            # quick: a few minutes on 2 cores
    .venv/bin/python bench/matching_bench.py --proof    # the full run the engine's targets name

Per seeded generated instance (matching.generate; from seed 11 on, "stressed": shelters at or near
their daily intake limit, more units held by open offers, more excluded counties):
  - the batch (`BatchSolver`): candidate generation time, solve time, status, proof, objective, gap;
  - scipy.optimize.linear_sum_assignment on the same candidate pairs (a dense requests x units
    matrix of Score.total, one household per unit, no intake limits or shared beds): its time to
    build and solve, and the fair ratio (candidates + batch) / (candidates + build + scipy), in wall
    and in CPU seconds (on a shared machine the CPU seconds show the work done);
  - greedy on the same candidate pairs: requests in arrival order, each taking its best-scoring
    unit still free (beds, intake): its objective and households placed.
Plus fast-track's median and p99 over 200 requests at each scale.

Quick (default): 300 x 3,000 seeds 1-10 and 1,000 x 10,000 seeds 1, 11, 13.
--proof: 300 x 3,000 seeds 1-10 and 1,000 x 10,000 seeds 1-20.

Writes bench/results/<date>-<commit>-matching.json with the machine (cores, CPU model) and settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402
import numpy as np  # noqa: E402

from matching.fast_track import FastTrack  # noqa: E402
from matching.generate import generate_problem, load_municipalities  # noqa: E402
from matching.solver import BatchSolver  # noqa: E402
from matching.types import Municipality, Offer, Problem  # noqa: E402
from matching.validator import validate  # noqa: E402

QUICK = {(300, 3_000): list(range(1, 11)), (1_000, 10_000): [1, 11, 13]}
PROOF = {(300, 3_000): list(range(1, 11)), (1_000, 10_000): list(range(1, 21))}
STRESSED_FROM = 11


def municipalities() -> list[Municipality]:
    csv = ROOT / "sql" / "data" / "municipalities.csv"
    if csv.exists():
        return load_municipalities(csv)
    rng = random.Random(0)  # fallback: synthetic seats inside Sweden's bounding box
    return [Municipality(f"{i % 21 + 1:02d}{i:02d}", f"{i % 21 + 1:02d}", rng.uniform(55.3, 69.0),
                         rng.uniform(11.0, 24.1)) for i in range(290)]


def stressed(problem: Problem, seed: int) -> Problem:
    """Shelters at or near their intake limit, 3% of units held, more requests excluding counties."""
    rng = random.Random(f"stress-{seed}")
    limits = {u.shelter_id: u.daily_intake_limit for u in problem.units if u.daily_intake_limit}
    used = {s: max(0, limit - rng.choice((0, 1, 1))) for s, limit in limits.items() if rng.random() < 0.4}
    held = rng.sample(problem.units, len(problem.units) * 3 // 100)
    offers = tuple(Offer(f"held-{i}", u.id) for i, u in enumerate(held))
    counties = sorted({u.municipality.county_code for u in problem.units})
    requests = tuple(
        msgspec.structs.replace(r, excluded_counties=tuple(sorted(set(r.excluded_counties) | {rng.choice(counties)})))
        if rng.random() < 0.3 else r for r in problem.requests)
    return msgspec.structs.replace(problem, requests=requests, open_offers=offers, intake_used=used)


def greedy(solver: BatchSolver) -> tuple[int, int]:
    """(objective, households placed) of arrival-order greedy on the solver's candidate pairs."""
    c, cap, reqs = solver.cands, solver.capacity, solver.problem.requests
    beds, intake = cap.beds.copy(), np.maximum(cap.intake, 0)
    taken = np.zeros(beds.size, dtype=bool)
    total = placed = 0
    for r in sorted(range(len(reqs)), key=lambda i: (reqs[i].waiting_since, i)):
        at = np.arange(solver.bounds[r], solver.bounds[r + 1])
        for p in at[np.argsort(-c.weight[at], kind="stable")].tolist():
            u, s = int(c.unit[p]), int(cap.shelter[c.unit[p]])
            if (s >= 0 and intake[s] <= 0) or (beds[u] < cap.size[r] if cap.shared[u] else taken[u]):
                continue
            beds[u] -= cap.size[r]
            taken[u] = True
            if s >= 0:
                intake[s] -= 1
            total, placed = total + int(c.weight[p]), placed + 1
            break
    return total, placed


def scipy_assignment(solver: BatchSolver) -> dict:
    from scipy.optimize import linear_sum_assignment

    c = solver.cands
    t = time.perf_counter()
    cost = np.zeros((len(solver.problem.requests), len(solver.index)), dtype=np.float64)
    cost[c.req, c.unit] = -c.weight.astype(np.float64)
    built = time.perf_counter() - t
    rows, cols = linear_sum_assignment(cost)
    return {"build_s": built, "solve_s": time.perf_counter() - t - built, "objective": int(-cost[rows, cols].sum())}


def run_seed(places, size: tuple[int, int], seed: int, args) -> dict:
    problem = generate_problem(places, *size, seed=seed)
    if seed >= STRESSED_FROM:
        problem = stressed(problem, seed)
    t, cpu = time.perf_counter(), time.process_time()
    solver = BatchSolver(problem)
    t_cands, cands_cpu = time.perf_counter() - t, time.process_time() - cpu
    result = solver.solve(args.time_limit - t_cands, workers=args.workers, seed=0)
    batch_cpu = time.process_time() - cpu
    assert validate(problem, result.matches) == [], "the engine's solution breaks a hard rule"
    cpu = time.process_time()
    lsa = scipy_assignment(solver)
    lsa["cpu_s"] = time.process_time() - cpu
    g_objective, g_placed = greedy(solver)
    row = {
        "requests": size[0], "units": size[1], "seed": seed, "stressed": seed >= STRESSED_FROM,
        "pairs": len(solver.cands), "candidates_s": t_cands, "solve_s": result.wall_time_s,
        "status": result.status, "proof": result.proof, "objective": result.objective, "bound": result.bound,
        "gap": result.gap, "placed": len(result.matches), "greedy_objective": g_objective, "greedy_placed": g_placed,
        "scipy": lsa, "fair_ratio": (t_cands + result.wall_time_s) / (t_cands + lsa["build_s"] + lsa["solve_s"]),
        # CPU seconds: on a shared machine they show the work done better than the wall clock
        "batch_cpu_s": batch_cpu, "cpu_ratio": batch_cpu / (cands_cpu + lsa["cpu_s"]),
        **{f"stats.{k}": v for k, v in solver.stats.items()},
    }
    print(f"{size[0]:>5} x {size[1]:<6} seed {seed:>2}: {result.status:<8} {row['proof'] or '-':<10} "
          f"batch {t_cands + result.wall_time_s:6.2f} s  scipy {t_cands + lsa['build_s'] + lsa['solve_s']:6.2f} s"
          f"  ratio {row['fair_ratio']:5.2f} (CPU {row['cpu_ratio']:5.2f})"
          f"  over greedy {result.objective - g_objective:>14,}", flush=True)
    return row


def fast_track(places, size: tuple[int, int]) -> dict:
    problem = generate_problem(places, *size, seed=42)
    ft = FastTrack.from_problem(problem)
    times = []
    for r in problem.requests[:200]:
        t = time.perf_counter()
        ft.top(r, 10)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"requests": size[0], "units": size[1], "median_ms": statistics.median(times),
            "p99_ms": times[int(0.99 * (len(times) - 1))]}


def summary(rows: list[dict]) -> dict:
    out = {}
    for size in sorted({(r["requests"], r["units"]) for r in rows}):
        mine = [r for r in rows if (r["requests"], r["units"]) == size]
        total = [r["candidates_s"] + r["solve_s"] for r in mine]
        out[f"{size[0]}x{size[1]}"] = {
            "seeds": len(mine), "proven": sum(r["status"] == "optimal" for r in mine),
            "batch_s_median": statistics.median(total), "batch_s_max": max(total),
            "fair_ratio_median": statistics.median(r["fair_ratio"] for r in mine),
            "fair_ratio_max": max(r["fair_ratio"] for r in mine),
            "cpu_ratio_median": statistics.median(r["cpu_ratio"] for r in mine),
            "cpu_ratio_max": max(r["cpu_ratio"] for r in mine),
            "below_greedy": sum(r["objective"] < r["greedy_objective"] for r in mine),
        }
    return out


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    import ortools
    return {"cores": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "numpy": np.__version__, "ortools": ortools.__version__, "load_average": os.getloadavg()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proof", action="store_true", help="every seed the targets name (tens of minutes)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=20.0, help="per batch, candidate generation included")
    ap.add_argument("--out", help="default: bench/results/<date>-<commit>-matching.json")
    args = ap.parse_args(argv)
    places = municipalities()
    plan = PROOF if args.proof else QUICK
    rows = [run_seed(places, size, seed, args) for size, seeds in plan.items() for seed in seeds]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
        "machine": machine(),
        "settings": {"mode": "proof" if args.proof else "quick", "workers": args.workers,
                     "time_limit_s": args.time_limit, "plan": {f"{n}x{u}": s for (n, u), s in plan.items()},
                     "stressed_from_seed": STRESSED_FROM},
        "summary": summary(rows), "runs": rows,
        "fast_track": [fast_track(places, size) for size in plan],
    }
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"{dt.date.today()}-{commit}-matching.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["summary"], indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
