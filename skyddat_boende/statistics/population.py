"""Population per county, for figures per 100,000 inhabitants. The figures and their source (SCB, with
the date and how exact they are) are in data/county_population.csv; they ship with the service and are
never fetched at run time."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "data" / "county_population.csv"
PER = 100_000


@functools.cache
def by_county() -> dict[str, int]:
    with SOURCE.open(encoding="utf-8") as file:
        rows = csv.DictReader(line for line in file if not line.startswith("#"))
        return {row["code"]: int(row["population"]) for row in rows}


def per_100k(count: int | None, county_code: str) -> float | None:
    """A published (already disclosure-controlled) count per 100,000 inhabitants, to one decimal; None
    where the count was withheld. Computed only from the published count, so it reveals nothing more."""
    if count is None:
        return None
    return round(count * PER / by_county()[county_code], 1)
