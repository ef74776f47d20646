"""What a batch may fill: each unit's free beds, each limited shelter's intake left today, and
whether an unshared unit is taken. Every step of the batch asks this module "does it fit"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rules import RuleContext
from .types import Problem, Unit


@dataclass(frozen=True)
class Capacity:
    beds: np.ndarray  # per unit, free beds
    shared: np.ndarray  # per unit, whether several households may share it
    shelter: np.ndarray  # per unit, its limited shelter's position, or -1 (no intake limit)
    intake: np.ndarray  # per limited shelter, households it may still take in today
    size: np.ndarray  # per request, beds its household needs

    @classmethod
    def of(cls, problem: Problem, units: tuple[Unit, ...], ctx: RuleContext) -> Capacity:
        limited = sorted(ctx.intake_remaining)
        position = {s: i for i, s in enumerate(limited)}
        return cls(
            beds=np.array([u.beds for u in units], dtype=np.int64),
            shared=np.array([u.shared for u in units], dtype=bool),
            shelter=np.array([position.get(u.shelter_id, -1) for u in units], dtype=np.int64),
            intake=np.array([ctx.intake_remaining[s] for s in limited], dtype=np.int64),
            size=np.array([r.household.size for r in problem.requests], dtype=np.int64),
        )

    def left(self) -> Left:
        """A fresh account of what is left, before anything is placed."""
        return Left(self, self.beds.copy(), np.maximum(self.intake, 0), np.zeros(self.beds.size, dtype=bool))

    def uncontested(self, req: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """Per pair, whether its unit and its limited shelter could take every one of these pairs at once."""
        used = np.bincount(unit, weights=self.size[req], minlength=self.beds.size)
        unit_free = np.where(self.shared, used <= self.beds, np.bincount(unit, minlength=self.beds.size) <= 1)
        shelter = self.shelter[unit]
        limited = shelter >= 0
        at_shelter = np.unique(shelter[limited] * self.size.size + req[limited]) // self.size.size
        shelter_free = np.append(np.bincount(at_shelter, minlength=self.intake.size) <= self.intake, True)
        return unit_free[unit] & shelter_free[shelter]


@dataclass
class Left:
    """What is left once some pairs are placed (`take`)."""

    cap: Capacity
    beds: np.ndarray
    intake: np.ndarray
    taken: np.ndarray

    def fits(self, req: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """Per pair, whether its household fits into what is left."""
        c = self.cap
        room = np.where(c.shared[unit], self.beds[unit] >= c.size[req], ~self.taken[unit])
        return room & np.append(self.intake > 0, True)[c.shelter[unit]]

    def fits_one(self, r: int, u: int) -> bool:  # `fits` for one pair, without numpy's overhead
        c = self.cap
        if c.shelter[u] >= 0 and self.intake[c.shelter[u]] <= 0:
            return False
        return bool(self.beds[u] >= c.size[r]) if c.shared[u] else not self.taken[u]

    def take(self, r: int, u: int) -> None:
        self.beds[u] -= self.cap.size[r]
        self.taken[u] = True
        if self.cap.shelter[u] >= 0:
            self.intake[self.cap.shelter[u]] -= 1
