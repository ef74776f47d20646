"""A batch's answer in words: each match with its score, and for each request left unplaced how many
units fit it, how many of those went to others, and how many each hard rule excluded."""

import numpy as np

from .candidates import Candidates, UnitIndex
from .capacity import Capacity
from .rules import explain_exclusions
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
    left, placed, out = cap.left(), set(c.req[picked].tolist()), []
    for r, u in zip(c.req[picked].tolist(), c.unit[picked].tolist()):
        left.take(r, u)
    for i, request in enumerate(problem.requests):
        if i not in placed:
            fitting, _, excluded = index.explained(request, _ONE, problem.today)
            taken = int((~left.fits(np.full(fitting.size, i), fitting)).sum())
            out.append(Unmatched(request.id, excluded, int(fitting.size), taken,
                                 explanation(int(fitting.size), taken, excluded)))
    return tuple(out)


def explanation(fitting: int, taken: int, excluded: dict[str, int]) -> str:
    if fitting == 0:
        return f"No unit fits: {explain_exclusions(excluded) if excluded else 'there are no free units'}."
    why = f"excluded: {explain_exclusions(excluded)}" if excluded else "no unit was excluded by a hard rule"
    return (f"{fitting:,} units fit, {taken:,} of them went to other requests or their shelter reached today's "
            f"intake limit; {why}.")
