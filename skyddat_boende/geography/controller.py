"""Reference data every caller may read: counties and municipalities (for pickers and threat areas)."""

from __future__ import annotations

from litestar import Controller, get

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.geography import repository
from skyddat_boende.geography.repository import County, Municipality


class GeographyController(Controller):
    tags = ["reference data"]

    @get("/municipalities", summary="All 290 municipalities with county and representative point", **secured(any_caller=True))
    async def list_municipalities(self, db: Db) -> list[Municipality]:
        return await repository.municipalities(db)

    @get("/counties", summary="All 21 counties", **secured(any_caller=True))
    async def list_counties(self, db: Db) -> list[County]:
        return await repository.counties(db)
