"""A batch's answer in words: each match with its score explained, and for every request left
unplaced, how many units fit it, how many of those others took, what every hard rule excluded, and
how many fitting units were kept for acute arrivals (their price reached the request's priority)."""

from __future__ import annotations

import numpy as np

from .candidates import Candidates, UnitIndex
from .capacity import Capacity
from .rules import KEPT_FOR_ACUTE, explain_exclusions
from .scoring import Weights, score
from .types import Match, Problem, Unmatched

_ONE = Weights.for_batch(1)  # which units a request may be offered does not depend on the batch's size


def matches(problem: Problem, index: UnitIndex, c: Candidates, weights: Weights,
            picked: np.ndarray) -> tuple[Match, ...]:
    out = []
    for p in picked[np.argsort(c.req[picked], kind="stable")].tolist():
        r, u = problem.requests[int(c.req[p])], index.units[int(c.unit[p])]
        out.append(Match(r.id, u.id, u.shelter_id, score(r, u, problem.today, weights)))
    return tuple(out)


def unmatched(problem: Problem, index: UnitIndex, c: Candidates, cap: Capacity,
              picked: np.ndarray) -> tuple[Unmatched, ...]:
    left = cap.left()
    for p in picked.tolist():
        left.take(int(c.req[p]), int(c.unit[p]))
    placed = set(c.req[picked].tolist())
    out = []
    for i, request in enumerate(problem.requests):
        if i in placed:
            continue
        tables = index.rule_tables(request)
        fitting, _, kept = index.offerable(request, _ONE, problem.today, tables)
        taken = int((~left.fits(np.full(fitting.size, i), fitting)).sum())
        excluded = index.exclusions(request, tables) | ({KEPT_FOR_ACUTE: kept} if kept else {})
        text = explanation(int(fitting.size), taken, excluded)
        out.append(Unmatched(request.id, excluded, int(fitting.size), taken, text))
    return tuple(out)


def explanation(fitting: int, taken: int, excluded: dict[str, int]) -> str:
    if fitting == 0:
        why = explain_exclusions(excluded) if excluded else "there are no free units"
        return f"No unit fits: {why}."
    text = (f"{fitting:,} units fit, {taken:,} of them went to other requests or their shelter reached "
            "today's intake limit; ")
    if excluded:
        return text + f"excluded: {explain_exclusions(excluded)}."
    return text + "no unit was excluded by a hard rule."
