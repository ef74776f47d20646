"""Small numpy helpers the engine's modules share."""

from __future__ import annotations

import numpy as np


def groups(keys: np.ndarray):
    """(key, positions with that key) for each distinct key, in ascending key order."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    for at in np.split(order, cuts) if order.size else []:
        yield int(keys[at[0]]), at
