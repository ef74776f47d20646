"""The batch's tuning, in one frozen object passed to `BatchSolver` (defaults suit the service's
scale: up to about 1,000 requests x 10,000 units)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchConfig:
    flow_k: int = 6
    """Each request's best pairs the relaxation's flow starts from (column generation adds the rest)."""
    relaxation_share: float = 0.7
    """At most this share of the time limit for the relaxation, so that a solution can be repaired."""
    price_scale: int = 64
    """Bed prices are whole 1/price_scale points (lowered when the flow's int64 costs need it)."""
    tight_share: float = 0.3
    """At most this share of the time left for the search over the pairs the bed prices make tight."""
    workers: int = 1
    """CP-SAT workers. Its small portfolios (2-4 workers) lack the LP-driven search these models need
    and prove less than one worker does; a portfolio helps from about 8."""
    model_seconds_per_pair: float = 2e-5
    """The search starts only with at least this much time left per pair in its model: building
    the model alone takes about half of it."""
    linearization_level: int = 2
    """CP-SAT's linear relaxation: level 2 closes gaps on the shared beds that level 1 leaves open."""

    @property
    def cp_sat_workers(self) -> int:
        return self.workers if self.workers >= 8 else 1
