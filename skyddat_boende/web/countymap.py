"""Sweden's 21 counties as SVG paths for the follow-up page's maps, drawn from real county outlines:
data/county_outlines.json, made once from SCB's county boundaries by tools/county_outlines.py (source,
version and licence in tools/README.md). Nothing is fetched at run time.

A map is a list of regions, one per county, each with its fill and its title (name and figure), so the
template only draws; the figures themselves always come from the disclosure-controlled statistics."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

OUTLINES: Final = Path(__file__).resolve().parent / "data" / "county_outlines.json"
#: Fill of a county whose figure was withheld (1-4): a hatch pattern the template defines per map, so
#: that "withheld" is told by a pattern, not by a colour alone.
WITHHELD: Final = "hatch"

#: Waiting households: (lowest count, fill).
WAITING_CLASSES: Final = ((0, "#f1f5f9"), (5, "#bcd3ee"), (10, "#7ea9dc"), (25, "#3f7cc4"), (50, "#1d4f91"))
#: Unmet demand per 100,000 inhabitants in a month: (lowest rate, fill); the first class is exactly 0.
RATE_CLASSES: Final = ((0.0, "#f1f5f9"), (0.1, "#fde2b8"), (2.0, "#fbb36b"), (5.0, "#f07c3a"),
                       (10.0, "#cc4a14"), (20.0, "#8c2d04"))


@dataclass(frozen=True)
class Region:
    code: str
    path: str
    fill: str
    """A colour, or WITHHELD."""
    title: str


@dataclass(frozen=True)
class CountyMap:
    view_box: str
    regions: list[Region]


@functools.cache
def outlines() -> tuple[str, dict[str, str]]:
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return " ".join(str(n) for n in data["view_box"]), data["counties"]


def fill(value: float | None, classes: tuple[tuple[float, str], ...]) -> str:
    if value is None:
        return WITHHELD
    colour = classes[0][1]
    for floor, shade in classes[1:]:
        if value >= floor:
            colour = shade
    return colour


def county_map(values: Mapping[str, float | None], classes: tuple[tuple[float, str], ...],
               title: Callable[[str, float | None], str]) -> CountyMap:
    """One region per county outline; `values` maps county code to its figure (None: withheld; a
    county missing from `values` counts as 0)."""
    view_box, paths = outlines()
    regions = [Region(code, path, fill(values.get(code, 0), classes), title(code, values.get(code, 0)))
               for code, path in paths.items()]
    return CountyMap(view_box, regions)
