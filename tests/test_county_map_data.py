"""The data behind the "where to build" map (issue 27): the county outlines and the population figures
ship in the repository, cover exactly the 21 county codes the service uses (sql/data/counties.csv), and
the rate per 100,000 is built only from a published count."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from skyddat_boende.statistics import population
from skyddat_boende.web import countymap

ROOT = Path(__file__).resolve().parent.parent
#: Sweden's population on 31 December 2024 (SCB), the total the county figures must come close to.
SWEDEN_2024 = 10_587_710


def _county_codes() -> set[str]:
    with (ROOT / "sql" / "data" / "counties.csv").open(encoding="utf-8") as file:
        return {row["code"] for row in csv.DictReader(line for line in file if not line.startswith("#"))}


def test_outlines_cover_every_county_as_small_closed_paths():
    view_box, paths = countymap.outlines()
    assert set(paths) == _county_codes() and len(paths) == 21
    assert countymap.OUTLINES.stat().st_size < 50_000  # simplified once, not the raw boundaries
    width, height = (float(n) for n in view_box.split()[2:])
    for code, path in paths.items():
        assert re.fullmatch(r"(M[0-9. L]+Z)+", path), code  # absolute moves and lines only, every ring closed
        points = [float(n) for n in re.findall(r"[0-9.]+", path)]
        assert all(0 <= x <= width for x in points[0::2]) and all(0 <= y <= height for y in points[1::2]), code


def test_population_names_its_source_and_covers_every_county():
    header = population.SOURCE.read_text(encoding="utf-8")
    assert "SCB" in header and "31 December 2024" in header
    figures = population.by_county()
    assert set(figures) == _county_codes()
    assert figures["01"] == 2_473_307  # checked against SCB's table
    assert abs(sum(figures.values()) - SWEDEN_2024) / SWEDEN_2024 < 0.01


def test_rate_is_built_from_the_published_count_only():
    # a withheld count (None: 1 to 4 households) gives no rate, whatever the population
    assert population.per_100k(None, "09") is None
    assert population.per_100k(0, "09") == 0.0
    assert population.per_100k(310, "14") == round(310 * 100_000 / population.by_county()["14"], 1)


def test_a_withheld_county_is_hatched_not_coloured():
    drawn = countymap.county_map({"09": None, "14": 12.5}, countymap.RATE_CLASSES, lambda code, v: f"{code} {v}")
    fills = {r.code: r.fill for r in drawn.regions}
    assert fills["09"] == countymap.WITHHELD
    assert fills["14"] == "#cc4a14" and fills["01"] == countymap.RATE_CLASSES[0][1]  # missing counts as 0
    assert len(drawn.regions) == 21
