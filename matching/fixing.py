"""Reduced-cost fixing: a pair whose reduced cost says every solution using it weighs at most the
best solution found cannot improve on it, so the search leaves it out. What the search then proves
optimal over the pairs left is optimal over every pair."""

from __future__ import annotations

import numpy as np

from .prices import PricedBound
from .relaxation import Relaxation


def kept_pairs(rel: Relaxation, best: np.ndarray, lower: int, priced: PricedBound | None = None) -> np.ndarray:
    """The pairs that may be in a solution weighing more than `lower` (under the relaxation's reduced
    costs, and the bed prices' where given), and `best`'s (so that it stays a solution)."""
    keep = rel.reduced_cost < rel.value - lower
    if priced is not None:
        keep = np.zeros_like(keep)
        keep[priced.could_beat(lower)] = True
    keep[best] = True
    return np.flatnonzero(keep)

