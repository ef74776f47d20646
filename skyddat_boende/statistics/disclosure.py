"""Small-count protection: the one place where a published count is made safe (docs/statistics.md).

Every count any endpoint publishes passes through `suppress`: 0 stays 0, a count from 1 to 4 is withheld
(null, "fewer than 5"), every other count is rounded down to a multiple of 5: a published n means "n to
n + 4". Rounding down rather than to the nearest multiple is what keeps differences safe: with nearest
rounding 8 is shown as 10 ("8 to 12"), and a part shown as withheld ("1 to 4") beside a whole shown as 10
would pin the rest at exactly 4.
A few people in a county with a given need could be recognised by a neighbour, a colleague or the
person the household fled from; rounding the rest keeps differences between figures from pointing at
them. Protection is applied after aggregation, to each published cell (period x county x need), and
periods are whole calendar units built from stored day cells, so no request can ask for a range whose
difference with another range is one day or one household. Two published cells never pin a withheld
count (tests/test_disclosure.py tries every pair).

Medians and percentiles of a cell are published only when the cell holds at least SUPPRESS_BELOW values.
"""

from __future__ import annotations

SUPPRESS_BELOW = 5
ROUND_TO = 5


def suppress(n: int) -> int | None:
    """None for 1-4; otherwise the count rounded down to a multiple of 5."""
    if 0 < n < SUPPRESS_BELOW:
        return None
    return n - n % ROUND_TO


def enough_for_a_quantile(n: int) -> bool:
    return n >= SUPPRESS_BELOW
