"""A schematic map of Sweden's 21 counties (län): one square tile per county, placed on a grid roughly
where the county lies (a tile grid map). No boundary data set with a clearly public-domain or CC0
licence was found, so the map is drawn from this small layout rather than from county outlines."""

from __future__ import annotations

from typing import Final

TILE_SIZE: Final = 56
GAP: Final = 4

#: county code -> (column, row, short label); north at the top.
TILES: Final[dict[str, tuple[int, int, str]]] = {
    "25": (3, 0, "BD"),   # Norrbotten
    "24": (2, 1, "AC"),   # Västerbotten
    "23": (1, 2, "Z"),    # Jämtland
    "22": (2, 2, "Y"),    # Västernorrland
    "20": (1, 3, "W"),    # Dalarna
    "21": (2, 3, "X"),    # Gävleborg
    "17": (0, 4, "S"),    # Värmland
    "19": (1, 4, "U"),    # Västmanland
    "03": (2, 4, "C"),    # Uppsala
    "14": (0, 5, "O"),    # Västra Götaland
    "18": (1, 5, "T"),    # Örebro
    "04": (2, 5, "D"),    # Södermanland
    "01": (3, 5, "AB"),   # Stockholm
    "13": (0, 6, "N"),    # Halland
    "06": (1, 6, "F"),    # Jönköping
    "05": (2, 6, "E"),    # Östergötland
    "09": (3, 6, "I"),    # Gotland
    "07": (1, 7, "G"),    # Kronoberg
    "08": (2, 7, "H"),    # Kalmar
    "12": (0, 8, "M"),    # Skåne
    "10": (1, 8, "K"),    # Blekinge
}


def position(code: str) -> tuple[int, int]:
    column, row, _ = TILES[code]
    return column * (TILE_SIZE + GAP), row * (TILE_SIZE + GAP)


def map_size() -> tuple[int, int]:
    columns = max(c for c, _, _ in TILES.values()) + 1
    rows = max(r for _, r, _ in TILES.values()) + 1
    return columns * (TILE_SIZE + GAP) - GAP, rows * (TILE_SIZE + GAP) - GAP
