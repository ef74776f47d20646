"""Housing providers and apartments for onward-housing tests (the world of tests/workflow_support.py)."""

from __future__ import annotations

import datetime as dt

from skyddat_boende import database

UMEA, GOTEBORG = "2480", "1480"


async def housing_provider(database_url: str, slug: str, municipality: str) -> str:
    conn = await database.connect(database_url)
    try:
        return await conn.fetchval(
            """insert into organisation (id, kind, display_name, municipality_code)
               values ($1, 'housing_provider', $2, $3) returning id""",
            f"housing-{slug}", f"Bostadsbolaget {slug}", municipality,
        )
    finally:
        await conn.close()


def apartment_body(municipality: str, *, label: str, rooms: int = 3, rent: int = 7000, **changes) -> dict:
    return {
        "label": label,
        "municipality_code": municipality,
        "rooms": rooms,
        "area_m2": 25 * rooms,
        "floor": 2,
        "lift": True,
        "pets_allowed": True,
        "monthly_rent_sek": rent,
        "available_from": dt.date.today().isoformat(),
        "lease_type": "first_hand",
        "protected_data_capability": "skyddad_folkbokforing",
        "address": {"street": f"Nya hemmet {rent}", "postal_code": "901 10", "city": "Hemort",
                    "contact_phone": "+46 90 222 22 22"},
    } | changes


def onward_body(case_reference: str, placement_id: str | None = None, **changes) -> dict:
    """The mother and son with a dog of workflow_support, moving on: two people, two rooms needed."""
    return {
        "case_reference": case_reference,
        "placement_id": placement_id,
        "urgency": "planned",
        "protected_data_level": "sekretessmarkering",
        "adults": [{"gender": "female", "age": 38}],
        "children": [{"gender": "male", "age": 15, "decision_reference": f"{case_reference}-B1"}],
        "needs": ["pets"],
        "threat_municipalities": ["1280"],
        "min_distance_km": 200,
        "max_rent_sek": 8000,
        "earliest_move_in": dt.date.today().isoformat(),
    } | changes
