"""Which units fit a request, and how well: the hard rules and fit parts applied to many units at once.

`UnitIndex` is built once per availability snapshot. For every rule (and every fit
part) it stores the distinct keys that occur among the units and, per unit, the
number of its key. Checking a request then costs one call of the rule's own
`passes` per distinct key (4 security levels, ~290 municipalities, a few dozen
dates ...) plus a numpy gather over the units: no rule logic is duplicated here.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from .rules import KEPT_FOR_ACUTE, RULES, RuleContext
from .scoring import FIT_PARTS, Weights, acute_price, cost_points, priority
from .types import Request, Unit


# the rules whose key reads the RuleContext's holds or intake (rules.py); every other key is the unit's own
CONTEXT_KEYED_RULES = frozenset({"held_by_open_offer", "intake_limit"})


@dataclass(frozen=True)
class _Column:
    keys: list[Hashable]
    codes: np.ndarray  # unit index -> position in keys


def _column(units: Sequence[Unit], key: Callable[[Unit], Hashable]) -> _Column:
    positions: dict[Hashable, int] = {}
    codes = np.fromiter(
        (positions.setdefault(key(u), len(positions)) for u in units),
        dtype=np.int32,
        count=len(units),
    )
    return _Column(list(positions), codes)


def _table(keys: list[Hashable], fn: Callable[[Hashable], object], dtype) -> np.ndarray:
    return np.fromiter((fn(k) for k in keys), dtype=dtype, count=len(keys))


class UnitIndex:
    """Units prepared for fast rule checks and scoring against any request."""

    def __init__(self, units: Sequence[Unit], ctx: RuleContext):
        self.units = tuple(units)
        self.ctx = ctx
        self.position = {u.id: i for i, u in enumerate(self.units)}
        # a rule with `blocked` has a key per unit: its column is the units themselves, and the map
        # from its tokens to units is built the first time a request blocks any
        every_unit = _Column([], np.arange(len(self.units), dtype=np.int32))
        self._rule_cols = [
            every_unit if rule.blocked is not None else _column(self.units, lambda u, r=rule: r.key(u, ctx))
            for rule in RULES
        ]
        self._tokens: dict[int, dict[Hashable, list[int]]] = {}
        self._fit_cols = [_column(self.units, part.key) for part in FIT_PARTS]
        # each unit's (acute, "days") demand as a code into its distinct values, found once per snapshot:
        # the demands are rounded to 1/20, so a few dozen kinds price every unit
        demand = np.array([(u.acute_demand, u.days_demand) for u in self.units], dtype=float).reshape(-1, 2)
        kinds, codes = np.unique(demand, axis=0, return_inverse=True)
        self.demand_kinds, self.demand_code = kinds.tolist(), codes.reshape(-1)
        self.cost_points = np.fromiter(
            (cost_points(u.daily_rate) for u in self.units), dtype=np.int64, count=len(self.units)
        )

    def __len__(self) -> int:
        return len(self.units)

    def _rule_table(self, i: int, request: Request) -> np.ndarray:
        rule, col = RULES[i], self._rule_cols[i]
        if rule.blocked is None:
            return _table(col.keys, lambda k: rule.passes(request, k, self.ctx), bool)
        table = np.ones(len(self.units), dtype=bool)
        for token in rule.blocked(request):
            table[self._token_positions(i).get(token, [])] = False
        return table

    def _token_positions(self, i: int) -> dict[Hashable, list[int]]:
        """For a rule with `blocked`: each token -> the units holding it."""
        if i not in self._tokens:
            out: dict[Hashable, list[int]] = {}
            for position, unit in enumerate(self.units):
                for token in RULES[i].key(unit, self.ctx):
                    out.setdefault(token, []).append(position)
            self._tokens[i] = out
        return self._tokens[i]

    def rule_tables(self, request: Request) -> list[np.ndarray]:
        """Per rule, whether each of its distinct keys passes (shared by fitting and exclusions:
        fast-track computes them once instead of twice)."""
        return [self._rule_table(i, request) for i in range(len(RULES))]

    def fitting(self, request: Request, tables: list[np.ndarray] | None = None) -> np.ndarray:
        """Sorted indices of the units that pass every hard rule for this request."""
        idx: np.ndarray | None = None
        for i in range(len(RULES)):
            table = self._rule_table(i, request) if tables is None else tables[i]
            if table.all():
                continue
            codes = self._rule_cols[i].codes
            idx = np.flatnonzero(table[codes]) if idx is None else idx[table[codes[idx]]]
            if idx.size == 0:
                break
        return np.arange(len(self.units)) if idx is None else idx

    def exclusions(self, request: Request, tables: list[np.ndarray] | None = None) -> dict[str, int]:
        """Rule name -> units it excludes, each unit counted under the first rule it breaks."""
        first = np.full(len(self.units), -1, dtype=np.int16)
        for i in range(len(RULES)):
            table = self._rule_table(i, request) if tables is None else tables[i]
            if table.all():
                continue
            newly = ~table[self._rule_cols[i].codes] & (first < 0)
            first[newly] = i
        counts = np.bincount(first[first >= 0], minlength=len(RULES))
        return {RULES[i].name: int(n) for i, n in enumerate(counts) if n}

    def fit_points(self, request: Request, idx: np.ndarray) -> np.ndarray:
        total = np.zeros(idx.size, dtype=np.int64)
        for part, col in zip(FIT_PARTS, self._fit_cols):
            table = _table(col.keys, lambda k: part.points(request, k), np.int64)
            if table.any():
                total += table[col.codes[idx]]
        return total

    def pair_weights(
        self, request: Request, idx: np.ndarray, weights: Weights, today: dt.date
    ) -> np.ndarray:
        """Score.total of placing the request in each unit of idx (int64): the request's priority less
        each unit's price (scoring.acute_price), so fast-track and the batch pay the same."""
        prio = np.full(idx.size, priority(request, today), dtype=np.int64)
        codes = self.demand_code[idx]
        present = np.unique(codes)
        if any(any(self.demand_kinds[k]) for k in present.tolist()):
            prices = np.zeros(len(self.demand_kinds), dtype=np.int64)
            for k in present.tolist():
                prices[k] = acute_price(request, *self.demand_kinds[k])
            prio -= prices[codes]
        return (
            prio * weights.priority
            + self.fit_points(request, idx) * weights.fit
            + self.cost_points[idx] * weights.cost
        )

    def offerable(
        self, request: Request, weights: Weights, today: dt.date, tables: list[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """The fitting units the request may be offered, their pair weights, and how many fitting
        units their acute price keeps from it (priced at or above its priority: not offered)."""
        idx = self.fitting(request, tables)
        w = self.pair_weights(request, idx, weights, today)
        keep = w >= weights.priority  # a pair priority of at least 1 (fit and cost stay below one priority point)
        return idx[keep], w[keep], int(idx.size - keep.sum())

    def explained(self, request: Request, weights: Weights, today: dt.date) -> tuple[np.ndarray, np.ndarray,
                                                                                    dict[str, int]]:
        """`offerable`'s units and weights, and rule name -> units it excludes, the units kept for
        acute arrivals included (fast-track and the batch's "why no match" say the same)."""
        tables = self.rule_tables(request)
        idx, w, kept = self.offerable(request, weights, today, tables)
        return idx, w, self.exclusions(request, tables) | ({KEPT_FOR_ACUTE: kept} if kept else {})

    def with_context(self, ctx: RuleContext) -> UnitIndex:
        """The same units under another context: only the columns of rules keyed on it (holds, today's
        intake) are rebuilt, so one snapshot's index serves every request while offers come and go."""
        other = copy.copy(self)
        other.ctx = ctx
        other._rule_cols = [
            _column(self.units, lambda u, r=rule: r.key(u, ctx)) if rule.name in CONTEXT_KEYED_RULES else col
            for rule, col in zip(RULES, self._rule_cols)
        ]
        return other


@dataclass(frozen=True)
class Candidates:
    """All fitting (request, unit) pairs of a batch, as parallel arrays."""

    req: np.ndarray  # int32 request index
    unit: np.ndarray  # int32 unit index
    weight: np.ndarray  # int64 Score.total

    def __len__(self) -> int:
        return int(self.req.size)


def all_candidates(
    requests: Sequence[Request], index: UnitIndex, weights: Weights, today: dt.date
) -> Candidates:
    reqs, units, ws = [], [], []
    for r_i, request in enumerate(requests):
        idx, w, _ = index.offerable(request, weights, today)
        if idx.size == 0:
            continue
        reqs.append(np.full(idx.size, r_i, dtype=np.int32))
        units.append(idx.astype(np.int32))
        ws.append(w)
    if not reqs:
        empty32 = np.zeros(0, dtype=np.int32)
        return Candidates(empty32, empty32, np.zeros(0, dtype=np.int64))
    return Candidates(np.concatenate(reqs), np.concatenate(units), np.concatenate(ws))
