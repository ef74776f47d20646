"""Reference answers built from the raw problem, independent of the engine's pipeline: the pairs
come from the rules (`violated_rule`), the weights from `scoring.score`, the side rules are
written out here again (beds, intake, holds are in the pair rules)."""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from matching.rules import RuleContext, violated_rule
from matching.scoring import Weights, priority, score
from matching.types import Problem


def _pairs(p: Problem):
    ctx, w = RuleContext.of(p), Weights.for_batch(len(p.requests))
    return [(r, u, score(r, u, p.today, w).total) for r in p.requests for u in p.units
            if violated_rule(r, u, ctx) is None], w


def reference_optimum(p: Problem) -> int:
    """The lexicographic optimum by CP-SAT over every fitting pair, priority level first."""
    pairs, w = _pairs(p)
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in pairs]
    by_request, by_unit, by_shelter = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, (r, u, _) in enumerate(pairs):
        by_request[r.id].append(i)
        by_unit[u.id].append(i)
        by_shelter[u.shelter_id].append(i)
    units = {u.id: u for u in p.units}
    for at in by_request.values():
        model.add_at_most_one(x[i] for i in at)
    for unit_id, at in by_unit.items():
        unit = units[unit_id]
        if unit.shared:
            model.add(sum(x[i] * pairs[i][0].household.size for i in at) <= unit.beds)
        else:
            model.add_at_most_one(x[i] for i in at)
    for at in by_shelter.values():
        unit = pairs[at[0]][1]
        if unit.daily_intake_limit is not None:
            model.add(sum(x[i] for i in at) <= unit.daily_intake_limit - p.intake_used.get(unit.shelter_id, 0))
    levels = (sum(x[i] * priority(r, p.today) for i, (r, _, _) in enumerate(pairs)),
              sum(x[i] * (t - priority(r, p.today) * w.priority) for i, (r, _, t) in enumerate(pairs)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60
    for level in levels:
        model.maximize(level)
        assert solver.solve(model) == cp_model.OPTIMAL
        model.add(level == int(round(solver.objective_value)))
    return sum(t for i, (_, _, t) in enumerate(pairs) if solver.value(x[i]))


def arrival_greedy(p: Problem) -> int:
    """The rule-based baseline's objective: requests in arrival order, each taking its best-scoring
    unit still free (beds, intake left today)."""
    pairs, _ = _pairs(p)
    beds = {u.id: u.beds for u in p.units}
    taken, intake = set(), dict(p.intake_used)
    total = 0
    order = {r.id: i for i, r in enumerate(p.requests)}
    for r in sorted(p.requests, key=lambda r: (r.waiting_since, order[r.id])):
        mine = sorted((pr for pr in pairs if pr[0] is r), key=lambda pr: -pr[2])
        for _, u, t in mine:
            size = r.household.size
            fits = beds[u.id] >= size if u.shared else u.id not in taken
            room = u.daily_intake_limit is None or intake.get(u.shelter_id, 0) < u.daily_intake_limit
            if fits and room:
                beds[u.id] -= size
                taken.add(u.id)
                intake[u.shelter_id] = intake.get(u.shelter_id, 0) + 1
                total += t
                break
    return total
