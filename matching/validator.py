"""An independent check of any assignment against every hard rule, without CP-SAT.

Per pair it asks rules.violated_rule (the one definition of the pair rules). Everything
that spans pairs it checks itself, from the raw problem, without the solver's
data structures: one unit per request, beds (a non-shared unit holds one household,
a shared unit holds households up to its beds), each shelter's daily intake limit
and open-offer holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import msgspec

from .rules import RuleContext, violated_rule
from .types import Match, Problem


class Violation(msgspec.Struct, frozen=True):
    rule: str
    detail: str
    request_id: str | None = None
    unit_id: str | None = None


def validate(problem: Problem, assignment: Iterable[Match | tuple[str, str]]) -> list[Violation]:
    """Every hard-rule violation in the assignment ((request_id, unit_id) pairs or Matches); [] if none."""
    pairs = [(a.request_id, a.unit_id) if isinstance(a, Match) else tuple(a) for a in assignment]
    requests = {r.id: r for r in problem.requests}
    units = {u.id: u for u in problem.units}
    ctx = RuleContext.of(problem)
    out: list[Violation] = []

    for request_id, n in Counter(r for r, _ in pairs).items():
        if n > 1:
            out.append(Violation("one_unit_per_request", f"placed {n} times", request_id))

    households_in: dict[str, list[str]] = defaultdict(list)
    for request_id, unit_id in pairs:
        request, unit = requests.get(request_id), units.get(unit_id)
        if request is None or unit is None:
            out.append(Violation("unknown_id", "request or unit not in the problem", request_id, unit_id))
            continue
        households_in[unit_id].append(request_id)
        rule = violated_rule(request, unit, ctx)
        if rule is not None:
            out.append(Violation(rule, "pair breaks a hard rule", request_id, unit_id))

    holds = {o.unit_id: o.request_id for o in problem.open_offers}
    intake: Counter[str] = Counter()
    for unit_id, placed in households_in.items():
        unit = units[unit_id]
        intake[unit.shelter_id] += len(placed)
        beds_used = sum(requests[r].household.size for r in placed)
        if not unit.shared and len(placed) > 1:
            out.append(Violation("capacity", f"{len(placed)} households in an unshared unit", unit_id=unit_id))
        if beds_used > unit.beds:
            out.append(Violation("capacity", f"{beds_used} people for {unit.beds} beds", unit_id=unit_id))
        holder = holds.get(unit_id)
        if holder is not None and any(r != holder for r in placed):
            out.append(Violation("open_offer", f"unit held for {holder}", unit_id=unit_id))

    limits = {u.shelter_id: u.daily_intake_limit for u in problem.units}
    for shelter_id, n in intake.items():
        limit = limits[shelter_id]
        if limit is not None and problem.intake_used.get(shelter_id, 0) + n > limit:
            out.append(
                Violation(
                    "intake_limit",
                    f"shelter {shelter_id} takes {n} today on top of "
                    f"{problem.intake_used.get(shelter_id, 0)}, limit {limit}",
                )
            )
    return out
