"""Fast-track mode: one request against current availability, the top N fitting units ranked.

Build a FastTrack once per availability snapshot and reuse it for every request until
availability changes; each `top` call then filters with the hard rules (one call per distinct
unit key, see candidates.py), scores the survivors with numpy and sorts only the best N.

Ranking is the batch objective restricted to one request: the priority less each unit's acute price
first (scoring.acute_price; units priced at or above the request's priority are not offered), then
fit, then cost. Ties go to the unit listed first.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .candidates import UnitIndex
from .rules import RuleContext, explain_exclusions, intake_remaining
from .scoring import Weights, score
from .types import FastTrackResult, Offer, Problem, Ranked, Request, Unit

_WEIGHTS = Weights.for_batch(1)


class FastTrack:
    def __init__(
        self,
        units: Sequence[Unit],
        *,
        today: dt.date,
        open_offers: Iterable[Offer] = (),
        intake_used: Mapping[str, int] | None = None,
    ):
        self.today = today
        ctx = RuleContext(
            today=today,
            holds={o.unit_id: o.request_id for o in open_offers},
            intake_remaining=intake_remaining(units, intake_used or {}),
        )
        self.index = UnitIndex(units, ctx)

    @classmethod
    def from_problem(cls, problem: Problem) -> FastTrack:
        return cls(
            problem.units,
            today=problem.today,
            open_offers=problem.open_offers,
            intake_used=problem.intake_used,
        )

    def with_offers(self, open_offers: Iterable[Offer] = (), intake_used: Mapping[str, int] | None = None) -> FastTrack:
        """The same units under other open offers and intake, rebuilding only the two columns those
        decide (UnitIndex.with_context) instead of every one."""
        other = copy.copy(self)
        ctx = RuleContext(today=self.today, holds={o.unit_id: o.request_id for o in open_offers},
                          intake_remaining=intake_remaining(self.index.units, intake_used or {}))
        other.index = self.index.with_context(ctx)
        return other

    def top(self, request: Request, n: int = 10, *, explain: bool = True) -> FastTrackResult:
        """The n best fitting units for this request, best first, each with its score explained.

        With explain=True the result also counts, per hard rule, the units it excluded, and the units
        kept for acute arrivals (priced at or above the request's priority, scoring.acute_price).
        """
        if explain:
            idx, w, excluded = self.index.explained(request, _WEIGHTS, self.today)
        else:
            (idx, w, _), excluded = self.index.offerable(request, _WEIGHTS, self.today), {}
        if idx.size:
            if idx.size > n:
                part = np.argpartition(-w, n - 1)[:n]
                cut = w[part].min()
                # keep every unit tied with the n-th so that ties resolve by unit order
                part = np.flatnonzero(w >= cut)
            else:
                part = np.arange(idx.size)
            order = part[np.lexsort((idx[part], -w[part]))][:n]
            best = idx[order]
        else:
            best = idx
        units = self.index.units
        ranked = tuple(
            Ranked(
                unit_id=units[i].id,
                shelter_id=units[i].shelter_id,
                municipality=units[i].municipality.code,
                score=score(request, units[i], self.today, _WEIGHTS),
            )
            for i in best.tolist()
        )
        text = f"{idx.size:,} units fit"
        if excluded:
            text += "; excluded: " + explain_exclusions(excluded)
        return FastTrackResult(request.id, ranked, int(idx.size), excluded, text + ".")


def fast_track(problem: Problem, request: Request, n: int = 10) -> FastTrackResult:
    """One-off convenience: FastTrack.from_problem(problem).top(request, n)."""
    return FastTrack.from_problem(problem).top(request, n)
