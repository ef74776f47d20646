"""The matching service over time: households arrive, shelters answer, stays end (issue 21, point 8).

    .venv/bin/python bench/simulate.py [--seeds 5] [--occupancy 0.6 0.85] [--smoke]

One day is one clock tick (the engine's `today` is the injected clock). Per seed and occupancy:

  - the supply: `matching.generate` units (shared or not, full capacity); a share `occupancy` of them
    is taken at the start by households leaving on a random day within STAY_DAYS; shelters' daily
    intake limits are left out;
  - the demand: `matching.generate` households arriving on random days over DAYS days, urgency as
    generated (acute/days/planned), deadline DEADLINE_DAYS after arrival (1/7/14), each staying a
    random STAY_DAYS once placed; `latest_start` left out (the deadline is the time rule here);
  - the answers, fixed per seed so that every policy meets the same ones: a shelter declines a household
    for "cannot_meet_needs" or "security_concern" with SHELTER_DECLINE (all its units), a unit is
    declined as "full" or "other" or the offer expires with UNIT_DECLINE; every other offer is
    accepted at once. A request gets at most OFFERS_PER_DAY offers a day (the holds);
  - policies: `service` (fast-track on arrival, then the national batch at the end of every day, both
    with the look-ahead of matching.lookahead), `no_lookahead` (the same without it), `greedy`
    (first fitting free unit, requests in arrival order, on arrival and again every day) and
    `hindsight`: a CP-SAT integer program knowing every arrival, stay and answer in advance, placing
    each household within its deadline or never (an upper bound for every policy);
  - figures: urgency-weighted placements within deadline (scoring.URGENCY_WEIGHT) as a share of the
    hindsight optimum (the best solution CP-SAT finds in the time given, started from the best
    policy's placements; its proven bound is reported beside it); acute households placed late and
    never (the raw totals), and the avoidable misses: late or never, less the misses no policy can
    avoid (acute households minus the most of them any policy could place in time: a second hindsight
    program over the acute households alone, solved to optimality; it counts the households no
    fitting, accepting unit is free for within their window, and those two acute households need
    the same last unit); mean and maximum wait in days (from arrival to placement; a household
    never placed counts its wait up to the end of the run).

The look-ahead's demand model comes from the service's own history only, by the service's rule
(matching.lookahead.from_history): the acute (and, for the "days" demand, the "days") requests of the
last HISTORY_DAYS, which before day 0 are
a generated history (another seed, the same arrival rate of households per day: the weeks the service
ran before the simulated ones) and from day 0 the households that have arrived so far; never the
arrivals still to come.
Writes bench/results/<date>-<commit>-simulation.json (machine, settings, every run, the summary).
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ortools.sat.python import cp_model  # noqa: E402

from matching.fast_track import FastTrack  # noqa: E402
from matching.generate import generate_requests, generate_units, load_municipalities  # noqa: E402
from matching.lookahead import HISTORY_DAYS, HORIZON_DAYS, AcuteDemand, from_history, priced  # noqa: E402
from matching.rules import DEADLINE_DAYS, RuleContext, tried_after, violated_rule  # noqa: E402
from matching.scoring import URGENCY_WEIGHT  # noqa: E402
from matching.solver import solve  # noqa: E402
from matching.types import Problem, Request, Unit  # noqa: E402

START = dt.date(2026, 1, 5)
STAY_DAYS = (20, 90)
SHELTER_DECLINE = 0.04
UNIT_DECLINE = 0.08
OFFERS_PER_DAY = 3
BATCH_SECONDS = 5.0
POLICIES = ("service", "no_lookahead", "greedy")
HINDSIGHT_WORKERS = 2


@dataclass(frozen=True)
class Settings:
    seed: int
    occupancy: float
    households: int = 300
    units: int = 300
    days: int = 60
    horizon_days: float = HORIZON_DAYS
    hindsight_seconds: float = 60.0


# ---------------------------------------------------------------- the world a seed fixes


@dataclass(frozen=True)
class Arrival:
    request: Request
    day: int
    stay: int


@dataclass
class World:
    settings: Settings
    units: list[Unit]
    arrivals: list[Arrival]
    initial: dict[str, tuple[int, int]]
    """unit id -> (beds taken, day they free) at the start."""
    history: list[Arrival]
    """Requests the service saw before day 0 (negative days): its history for the look-ahead."""
    generated: tuple[Request, ...]
    """The generated acute mix the look-ahead stands on while its history is thin."""
    answers: dict[tuple[str, str], str | None] = field(default_factory=dict)
    generated_days: tuple[Request, ...] = ()
    """The same for "days" requests."""

    @property
    def end(self) -> int:
        return self.settings.days + max(DEADLINE_DAYS.values())

    def answer(self, request_id: str, unit: Unit) -> str | None:
        """None: accepted; else the decline reason, or "expired"."""
        key = (request_id, unit.id)
        if key not in self.answers:
            rng = random.Random(f"{self.settings.seed}-{request_id}-{unit.shelter_id}")
            shelter_says = None
            if rng.random() < SHELTER_DECLINE:
                shelter_says = rng.choice(("cannot_meet_needs", "security_concern"))
            rng = random.Random(f"{self.settings.seed}-{request_id}-{unit.id}")
            unit_says = rng.choice(("full", "other", "expired")) if rng.random() < UNIT_DECLINE else None
            self.answers[key] = shelter_says or unit_says
        return self.answers[key]


def make_world(settings: Settings, places) -> World:
    s = settings
    rng = random.Random(f"world-{s.seed}-{s.occupancy}")
    units = [msgspec.structs.replace(u, available_from=START, daily_intake_limit=None)
             for u in generate_units(places, s.units, seed=s.seed, today=START)]
    initial = {}
    for u in rng.sample(units, round(s.occupancy * len(units))):
        initial[u.id] = (rng.randint(1, u.beds) if u.shared else u.beds, rng.randint(1, STAY_DAYS[1]))
    arrivals = []
    for r in generate_requests(places, s.households, seed=s.seed, today=START):
        day = rng.randrange(s.days)
        request = msgspec.structs.replace(r, waiting_since=START + dt.timedelta(days=day), latest_start=None)
        arrivals.append(Arrival(request, day, rng.randint(*STAY_DAYS)))
    arrivals.sort(key=lambda a: (a.day, rng.random()))
    sample = generate_requests(places, 400, seed=10_000 + s.seed, today=START)
    generated = tuple(r for r in sample if r.urgency == "acute")
    generated_days = tuple(r for r in sample if r.urgency == "days")
    # the weeks before day 0, at the same rate of households per day (a rng of its own: the world above
    # is the same with or without it)
    before = random.Random(f"history-{s.seed}-{s.occupancy}")
    history = [Arrival(r, -before.randint(1, HISTORY_DAYS), 0) for r in generate_requests(
        places, round(s.households / s.days * HISTORY_DAYS), seed=20_000 + s.seed, today=START)]
    return World(s, units, arrivals, initial, history, generated, generated_days=generated_days)


# ---------------------------------------------------------------- one run of a policy


class Run:
    """The service's state over time: who is where until when, who waits with what tried."""

    def __init__(self, world: World):
        self.world = world
        self.by_id = {u.id: u for u in world.units}
        self.stays: dict[str, list[tuple[int, int]]] = {u.id: [] for u in world.units}
        for unit_id, (beds, until) in world.initial.items():
            self.stays[unit_id].append((beds, until))
        self.waiting: dict[str, Request] = {}
        self.arrival: dict[str, Arrival] = {}
        self.answers: dict[str, list[tuple[str, str, str | None]]] = {}
        self.placed: dict[str, int] = {}
        self.where: dict[str, str] = {}
        self.offers_today: dict[str, int] = {}
        self.day = 0

    @property
    def today(self) -> dt.date:
        return START + dt.timedelta(days=self.day)

    def free_beds(self, unit: Unit) -> int:
        taken = sum(beds for beds, until in self.stays[unit.id] if until > self.day)
        return unit.beds - taken if unit.shared else (0 if taken else unit.beds)

    def free_units(self) -> list[Unit]:
        out = []
        for u in self.world.units:
            if (beds := self.free_beds(u)) > 0:
                out.append(msgspec.structs.replace(u, beds=beds, available_from=self.today))
        return out

    def can_offer(self, request_id: str) -> bool:
        return request_id in self.waiting and self.offers_today.get(request_id, 0) < OFFERS_PER_DAY

    def offer(self, request_id: str, unit_id: str) -> bool:
        """The shelter answers at once: placed, or the request learns what it tried."""
        self.offers_today[request_id] = self.offers_today.get(request_id, 0) + 1
        unit, arrival = self.by_id[unit_id], self.arrival[request_id]
        reason = self.world.answer(request_id, unit)
        if reason is None:
            self.stays[unit_id].append((arrival.request.household.size, self.day + arrival.stay))
            self.placed[request_id] = self.day
            self.where[request_id] = unit_id
            del self.waiting[request_id]
            return True
        self.answers[request_id].append((unit_id, unit.shelter_id, None if reason == "expired" else reason))
        units, shelters = tried_after(self.answers[request_id])
        self.waiting[request_id] = msgspec.structs.replace(
            self.waiting[request_id], tried_unit_ids=units, excluded_shelter_ids=shelters)
        return False

    def arrive(self, arrival: Arrival) -> None:
        rid = arrival.request.id
        self.arrival[rid], self.waiting[rid], self.answers[rid] = arrival, arrival.request, []


def simulate(world: World, policy) -> Run:
    run = Run(world)
    pending = list(world.arrivals)
    for day in range(world.end):
        run.day, run.offers_today = day, {}
        while pending and pending[0].day == day:
            arrival = pending.pop(0)
            run.arrive(arrival)
            policy.on_arrival(run, arrival.request.id)
        policy.end_of_day(run)
    return run


def demand(run: Run, urgency: str = "acute") -> AcuteDemand | None:
    """The look-ahead's demand model as the service builds it (skyddat_boende/matchmaking/adapter.py):
    the requests of this urgency that came in the last HISTORY_DAYS, most recent first."""
    since = run.day - HISTORY_DAYS
    seen = [a for a in (*run.world.history, *run.arrival.values()) if a.request.urgency == urgency and a.day > since]
    seen.sort(key=lambda a: -a.day)
    generated = run.world.generated if urgency == "acute" else run.world.generated_days
    return from_history(len(seen), [a.request for a in seen], generated, run.world.settings.horizon_days)


class Greedy:
    """First fit: the first free unit (in listing order) that passes every hard rule."""

    def _try(self, run: Run, request_id: str) -> None:
        ctx = RuleContext(today=run.today)
        for unit in run.free_units():
            if not run.can_offer(request_id):
                return
            if violated_rule(run.waiting[request_id], unit, ctx) is None and run.offer(request_id, unit.id):
                return

    def on_arrival(self, run: Run, request_id: str) -> None:
        self._try(run, request_id)

    def end_of_day(self, run: Run) -> None:
        for request_id in list(run.waiting):
            self._try(run, request_id)


class Service:
    """Fast-track on arrival, the national batch at the end of each day; look-ahead optional."""

    def __init__(self, lookahead: bool):
        self.lookahead = lookahead

    def _units(self, run: Run) -> list[Unit]:
        if not self.lookahead:
            return run.free_units()
        return priced(run.free_units(), demand(run), run.today, demand(run, "days"))

    def on_arrival(self, run: Run, request_id: str) -> None:
        ranked = FastTrack(self._units(run), today=run.today).top(run.waiting[request_id], 10, explain=False).ranked
        for candidate in ranked:
            if not run.can_offer(request_id) or run.offer(request_id, candidate.unit_id):
                return

    def end_of_day(self, run: Run) -> None:
        for _ in range(OFFERS_PER_DAY):
            requests = tuple(r for rid, r in run.waiting.items() if run.can_offer(rid))
            units = self._units(run)
            if not requests or not units:
                return
            result = solve(Problem(today=run.today, requests=requests, units=tuple(units)), BATCH_SECONDS, seed=0)
            if not result.matches:
                return
            for match in result.matches:
                run.offer(match.request_id, match.unit_id)


# ---------------------------------------------------------------- the hindsight optimum


def hindsight(world: World, hint: dict[str, tuple[int, str]]) -> dict:
    """Every arrival, stay and answer known: the most urgency-weighted placements within deadline.
    `hint`: a policy's placements within deadline (request id -> (day, unit id)) to start from."""
    model = cp_model.CpModel()
    variables, hopeless = {}, set()
    per_unit: dict[str, list[tuple]] = {u.id: [] for u in world.units}
    for unit_id, (beds, until) in world.initial.items():
        per_unit[unit_id].append((model.new_interval_var(0, until, until, f"init-{unit_id}"), beds))
    objective = []
    for a in world.arrivals:
        chosen = []
        last = a.day + DEADLINE_DAYS[a.request.urgency]
        ctx = RuleContext(today=a.request.waiting_since)
        for u in world.units:
            if violated_rule(a.request, u, ctx) is not None or world.answer(a.request.id, u) is not None:
                continue
            beds, until = world.initial.get(u.id, (0, 0))
            if until > last and (not u.shared or beds + a.request.household.size > u.beds):
                continue  # taken throughout the household's window
            present = model.new_bool_var(f"{a.request.id}-{u.id}")
            start = model.new_int_var(a.day, last, "")
            variables[(a.request.id, u.id)] = (present, start)
            interval = model.new_optional_fixed_size_interval_var(start, a.stay, present, "")
            per_unit[u.id].append((interval, a.request.household.size))
            chosen.append(present)
            objective.append(URGENCY_WEIGHT[a.request.urgency] * present)
        if chosen:
            model.add_at_most_one(chosen)
        else:
            hopeless.add(a.request.id)
    for u in world.units:
        intervals = per_unit[u.id]
        if len(intervals) < 2:
            continue
        if u.shared:
            model.add_cumulative([i for i, _ in intervals], [b for _, b in intervals], u.beds)
        else:
            model.add_no_overlap([i for i, _ in intervals])
    model.maximize(sum(objective))
    complete = _complete(model, variables, hint, world.settings.hindsight_seconds)
    for var, value in complete.items():
        model.add_hint(var, value)
    solver = _solver(world.settings.hindsight_seconds)
    status = solver.solve(model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    placed = {rid for (rid, _), (present, _) in variables.items() if found and solver.value(present)}
    weight = {a.request.id: URGENCY_WEIGHT[a.request.urgency] for a in world.arrivals}
    if sum(weight[r] for r in hint) > sum(weight[r] for r in placed):
        placed = set(hint)  # the hint is a solution of this model too: the search did not reach it in time
    return {"weighted": sum(weight[r] for r in placed), "bound": int(solver.best_objective_bound),
            "status": solver.status_name(status), "by_urgency": _by_urgency(world, placed),
            "acute_without_any_chance": _by_urgency(world, hopeless)["acute"]}


def acute_floor(world: World) -> dict:
    """The most acute households any policy could place within their deadline (the hindsight program
    over the acute households alone, every other household left out), and so the acute misses no
    policy can avoid."""
    acute = World(world.settings, world.units, [a for a in world.arrivals if a.request.urgency == "acute"],
                  world.initial, world.history, world.generated, world.answers)
    found = hindsight(acute, {})
    return {"placeable": found["by_urgency"]["acute"], "unavoidable": len(acute.arrivals) - found["by_urgency"]["acute"],
            "proven": found["status"] == "OPTIMAL"}


def without_any_chance(world: World) -> dict[str, int]:
    """Why the acute households that no policy could place had no chance (the hindsight's `hopeless`):
    no unit of the whole supply passes every hard rule for them; or each that does declines them; or
    each that does and accepts is taken at the start through their window."""
    out = {"no_unit_passes_the_rules": 0, "every_fitting_unit_declines": 0, "every_accepting_unit_taken": 0}
    for a in world.arrivals:
        if a.request.urgency != "acute":
            continue
        ctx, last = RuleContext(today=a.request.waiting_since), a.day + DEADLINE_DAYS["acute"]
        fitting = [u for u in world.units if violated_rule(a.request, u, ctx) is None]
        accepting = [u for u in fitting if world.answer(a.request.id, u) is None]
        free = [u for u in accepting if not (world.initial.get(u.id, (0, 0))[1] > last and (
            not u.shared or world.initial[u.id][0] + a.request.household.size > u.beds))]
        if not fitting:
            out["no_unit_passes_the_rules"] += 1
        elif not accepting:
            out["every_fitting_unit_declines"] += 1
        elif not free:
            out["every_accepting_unit_taken"] += 1
    return out


def _solver(seconds: float, **parameters) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = HINDSIGHT_WORKERS
    solver.parameters.cp_model_probing_level = 0  # probing these no-overlaps ran longer than the search
    for name, value in parameters.items():
        setattr(solver.parameters, name, value)
    return solver


def _complete(model: cp_model.CpModel, variables: dict, hint: dict[str, tuple[int, str]], seconds: float) -> dict:
    """The policy's placements as a complete solution of the model (every start variable set too):
    CP-SAT improves on a complete hint far better than on a partial one."""
    for (request_id, unit_id), (present, start) in variables.items():
        day = hint.get(request_id)
        model.add_hint(present, day is not None and day[1] == unit_id)
        if day is not None and day[1] == unit_id:
            model.add_hint(start, day[0])
    solver = _solver(seconds, fix_variables_to_their_hinted_value=True)
    status = solver.solve(model)
    model.clear_hints()
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}
    return {var: solver.value(var) for pair in variables.values() for var in pair}


def _by_urgency(world: World, within: set[str]) -> dict[str, int]:
    return {u: sum(a.request.id in within and a.request.urgency == u for a in world.arrivals) for u in URGENCY_WEIGHT}


# ---------------------------------------------------------------- figures


def figures(world: World, run: Run) -> dict:
    weighted, acute_late, acute_never, waits, within = 0, 0, 0, [], set()
    for a in world.arrivals:
        day = run.placed.get(a.request.id)
        acute = a.request.urgency == "acute"
        if day is None:
            acute_never += acute
            waits.append(world.end - a.day)
            continue
        waits.append(day - a.day)
        if day - a.day <= DEADLINE_DAYS[a.request.urgency]:
            weighted += URGENCY_WEIGHT[a.request.urgency]
            within.add(a.request.id)
        else:
            acute_late += acute
    return {"weighted": weighted, "placed": len(run.placed), "acute_late": acute_late,
            "acute_never": acute_never, "mean_wait_days": round(statistics.fmean(waits), 3),
            "max_wait_days": max(waits), "by_urgency": _by_urgency(world, within)}


def within_deadline(world: World, run: Run) -> dict[str, tuple[int, str]]:
    return {a.request.id: (run.placed[a.request.id], run.where[a.request.id]) for a in world.arrivals
            if a.request.id in run.placed and run.placed[a.request.id] - a.day <= DEADLINE_DAYS[a.request.urgency]}


def one(settings: Settings, places) -> dict:
    world = make_world(settings, places)
    out = {"seed": settings.seed, "occupancy": settings.occupancy,
           "acute": sum(a.request.urgency == "acute" for a in world.arrivals)}
    policies = {"service": Service(True), "no_lookahead": Service(False), "greedy": Greedy()}
    hints = {}
    for name, policy in policies.items():
        t = time.perf_counter()
        run = simulate(world, policy)
        out[name] = figures(world, run) | {"seconds": round(time.perf_counter() - t, 1)}
        hints[name] = within_deadline(world, run)
    t = time.perf_counter()
    best = max(policies, key=lambda name: out[name]["weighted"])
    out["hindsight"] = hindsight(world, hints[best]) | {"seconds": round(time.perf_counter() - t, 1)}
    out["acute_floor"] = acute_floor(world)
    out["acute_without_any_chance_why"] = without_any_chance(world)
    best = max(1, out["hindsight"]["weighted"])
    for name in policies:
        out[name]["share_of_hindsight"] = round(out[name]["weighted"] / best, 4)
    return out


def _unavoidable(run: dict) -> int:
    """Acute misses no policy can avoid (older results files: only those without any chance)."""
    floor = run.get("acute_floor")
    return floor["unavoidable"] if floor else run["hindsight"]["acute_without_any_chance"]


def summary(runs: list[dict]) -> dict:
    out = {}
    for occupancy in sorted({r["occupancy"] for r in runs}):
        rows = [r for r in runs if r["occupancy"] == occupancy]
        per = {}
        for name in POLICIES:
            per[name] = {
                "share_of_hindsight": round(sum(r[name]["weighted"] for r in rows)
                                            / max(1, sum(r["hindsight"]["weighted"] for r in rows)), 4),
                "worst_seed_share": min(r[name]["share_of_hindsight"] for r in rows),
                "acute_late": sum(r[name]["acute_late"] for r in rows),
                "acute_never": sum(r[name]["acute_never"] for r in rows),
                "acute_missed_avoidable": sum(r[name]["acute_late"] + r[name]["acute_never"]
                                              - _unavoidable(r) for r in rows),
                "mean_wait_days": round(statistics.fmean(r[name]["mean_wait_days"] for r in rows), 3),
                "max_wait_days": max(r[name]["max_wait_days"] for r in rows),
            }
        per["acute"] = sum(r["acute"] for r in rows)
        per["acute_without_any_chance"] = sum(r["hindsight"]["acute_without_any_chance"] for r in rows)
        if all("acute_without_any_chance_why" in r for r in rows):
            per["acute_without_any_chance_why"] = {k: sum(r["acute_without_any_chance_why"][k] for r in rows)
                                                   for k in rows[0]["acute_without_any_chance_why"]}
        per["acute_unavoidable"] = sum(_unavoidable(r) for r in rows)
        per["hindsight_acute_missed_avoidable"] = sum(r["acute"] - r["hindsight"]["by_urgency"]["acute"]
                                                      - _unavoidable(r) for r in rows)
        per["hindsight_share_of_its_bound"] = round(sum(r["hindsight"]["weighted"] for r in rows)
                                                    / max(1, sum(r["hindsight"]["bound"] for r in rows)), 4)
        s, n, g = per["service"], per["no_lookahead"], per["greedy"]
        per["targets"] = {
            "share_at_least_0.95": s["share_of_hindsight"] >= 0.95,
            "acute_never_at_most_half_of_no_lookahead": s["acute_never"] <= n["acute_never"] / 2,
            "avoidable_acute_misses_at_most_half": s["acute_missed_avoidable"] <= n["acute_missed_avoidable"] / 2,
            "mean_wait_within_1.5x_of_no_lookahead": s["mean_wait_days"] <= 1.5 * n["mean_wait_days"],
            "never_below_greedy": all(r["service"]["weighted"] >= r["greedy"]["weighted"] for r in rows),
        }
        out[f"{occupancy:.2f}"] = per
    return out


def machine() -> dict:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return {"cores": os.cpu_count(), "cpu_model": model, "python": platform.python_version()}


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip() or "unknown"


def write(report: dict) -> Path:
    path = ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-{report['commit']}-simulation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--occupancy", type=float, nargs="+", default=[0.6, 0.85])
    parser.add_argument("--horizon-days", type=float, default=HORIZON_DAYS)
    parser.add_argument("--smoke", action="store_true", help="a tiny run in seconds; writes nothing")
    parser.add_argument("--summarize", type=Path, help="recompute the summary of a results file in place")
    args = parser.parse_args(argv)
    if args.summarize:
        report = json.loads(args.summarize.read_text())
        report["summary"] = summary(report["runs"])
        args.summarize.write_text(json.dumps(report, indent=2) + "\n")
        return report
    base = dict(horizon_days=args.horizon_days)
    if args.smoke:
        base |= dict(households=30, units=30, days=10, hindsight_seconds=5.0)
        args.seeds, args.occupancy = 1, [0.85]
    started_at = commit()  # the code that runs, even if the tree moves on meanwhile
    places = load_municipalities(ROOT / "sql" / "data" / "municipalities.csv")
    runs = []
    for occupancy in args.occupancy:
        for seed in range(1, args.seeds + 1):
            runs.append(one(Settings(seed=seed, occupancy=occupancy, **base), places))
            print(json.dumps(runs[-1]), flush=True)
    settings = asdict(Settings(seed=0, occupancy=0.0, **base)) | {
        "seeds": args.seeds, "occupancies": args.occupancy, "stay_days": STAY_DAYS, "deadline_days": DEADLINE_DAYS,
        "shelter_decline": SHELTER_DECLINE, "unit_decline": UNIT_DECLINE, "offers_per_day": OFFERS_PER_DAY,
        "batch_seconds": BATCH_SECONDS}
    del settings["seed"], settings["occupancy"]
    report = {"commit": started_at, "machine": machine(), "settings": settings, "summary": summary(runs), "runs": runs}
    print(json.dumps(report["summary"], indent=2))
    if not args.smoke:
        print("wrote", write(report))
    return report


if __name__ == "__main__":
    main()
