"""Swedish counties and municipalities, and distances between them (SQL functions from 0001_geography)."""

from __future__ import annotations

import asyncpg
import msgspec


class Municipality(msgspec.Struct, frozen=True):
    code: str
    name: str
    county_code: str
    latitude: float
    longitude: float


class County(msgspec.Struct, frozen=True):
    code: str
    name: str


async def counties(conn: asyncpg.Connection) -> list[County]:
    return [County(**dict(row)) for row in await conn.fetch("select code, name from county order by code")]


async def municipalities(conn: asyncpg.Connection) -> list[Municipality]:
    rows = await conn.fetch("select code, name, county_code, latitude, longitude from municipality order by code")
    return [Municipality(**dict(row)) for row in rows]


async def distance_between(conn: asyncpg.Connection, a: str, b: str) -> float | None:
    """Great-circle km between two municipalities' representative points; None if a code is unknown."""
    return await conn.fetchval("select municipality_distance_km($1, $2)", a, b)


async def distance_from_point(conn: asyncpg.Connection, code: str, latitude: float, longitude: float) -> float | None:
    """Great-circle km from a WGS84 coordinate to a municipality's representative point."""
    return await conn.fetchval(
        "select distance_km($2, $3, latitude, longitude) from municipality where code = $1", code, latitude, longitude
    )
