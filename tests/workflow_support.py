"""A small world for workflow tests: two municipalities, two operators, shelters published over the API."""

from __future__ import annotations

import datetime as dt

from skyddat_boende import database
from tests import factories

MALMO, STOCKHOLM = "1280", "0180"


async def organisations(database_url: str) -> None:
    conn = await database.connect(database_url)
    try:
        for code in (MALMO, STOCKHOLM):
            await factories.municipality_org(conn, code)
        await factories.operator_org(conn, "north", "2480")
        await factories.operator_org(conn, "east", "0380")
    finally:
        await conn.close()


async def scalars(database_url: str, *queries: str) -> list:
    """The single value each query returns, read on a connection of its own."""
    conn = await database.connect(database_url)
    try:
        return [await conn.fetchval(query) for query in queries]
    finally:
        await conn.close()


def shelter_body(municipality: str, *, rate: int, label: str, **changes) -> dict:
    return {
        "label": label,
        "municipality_code": municipality,
        "target_groups": ["women", "families"],
        "security_level": 3,
        "protected_data_capability": "skyddad_folkbokforing",
        "staff_languages": ["sv", "en"],
        "daily_rate_sek": rate,
        "features": ["pets"],
        "max_age_boys": 16,
        "address": {"street": f"Hemliga vägen {rate}", "postal_code": "901 00", "city": "Testort",
                    "contact_phone": "+46 90 000 00 00"},
    } | changes


async def publish(client, headers, body: dict, beds: int = 3) -> tuple[dict, dict]:
    shelter = await client.post("/api/shelters", json=body, headers=headers)
    assert shelter.status_code == 201, shelter.text
    unit = await client.post(f"/api/shelters/{shelter.json()['id']}/units", json={"label": "Lgh 1", "beds": beds},
                             headers=headers)
    assert unit.status_code == 201, unit.text
    return shelter.json(), unit.json()


def mother_with_son_and_dog(case_reference: str = "MAL-2026-0001", **changes) -> dict:
    return {
        "case_reference": case_reference,
        "urgency": "acute",
        "security_level_needed": 2,
        "protected_data_level": "sekretessmarkering",
        "adults": [{"gender": "female", "age": 38}],
        "children": [{"gender": "male", "age": 15, "decision_reference": f"{case_reference}-B1"}],
        "needs": ["pets"],
        "threat_municipalities": [MALMO],
        "min_distance_km": 200,
        "latest_start_date": dt.date.today().isoformat(),
    } | changes
