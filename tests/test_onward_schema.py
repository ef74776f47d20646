"""Onward housing in the database (issue 24): the figures for national follow-up (waiting onward requests,
beds freed, median days to the move), retention, and the safety rules every onward offer must meet."""

from __future__ import annotations

import asyncpg
import pytest

from skyddat_boende import retention
from skyddat_boende.statistics.repository import by_county
from tests import factories

ONWARD = """
insert into onward_request (municipality_id, placement_id, case_reference, urgency, protected_data_level, adults,
                            max_rent_sek, earliest_move_in, status, moved_in_at)
values ($1, $2, $3, 'planned', 'none', '[{"gender": "female", "age": 30}]', 8000, current_date, $4, $5)
"""


async def _moved_on(conn, municipality, unit, n: int, days: int) -> None:
    """n households placed in a whole 2-bed unit each, moved on to a home `days` after placement."""
    for i in range(n):
        request = await factories.request(conn, municipality)
        placement = await factories.accept(conn, await factories.offer(conn, request, await factories.unit(conn, unit, 2)))
        moved = await conn.fetchval("select accepted_at + make_interval(days => $2) from placement where id = $1",
                                    placement, days + i)
        await conn.execute(ONWARD, municipality, placement, f"ONW-{days}-{i}", "moved_in", moved)


async def test_onward_figures_by_county_suppress_small_numbers(conn):
    """Input: Skåne (12) with 5 onward moves 10-14 days after placement and 6 waiting requests; Stockholm
    (01) with 2 moves: below the suppression limit, so neither its beds nor its median are shown."""
    malmo, stockholm = await factories.municipality_org(conn, "1280"), await factories.municipality_org(conn, "0180")
    shelter = await factories.shelter(conn, await factories.operator_org(conn, "north", "2480"), "2480")
    await _moved_on(conn, malmo, shelter, 5, 10)
    await _moved_on(conn, stockholm, shelter, 2, 30)
    for i in range(6):
        await conn.execute(ONWARD, malmo, None, f"ONW-WAIT-{i}", "waiting", None)
    figures = {c.county_code: c for c in (await by_county(conn, 24)).by_county}
    skane, sthlm = figures["12"], figures["01"]
    assert (skane.onward_waiting, skane.beds_freed_by_onward_moves, skane.median_days_to_onward_move) == (5, 10, 12)
    assert (sthlm.onward_waiting, sthlm.beds_freed_by_onward_moves, sthlm.median_days_to_onward_move) == (0, None, None)


async def test_retention_erases_old_onward_requests_and_shelter_cases_linked_to_them(conn):
    """Input: a shelter case moved out 400 days ago whose household moved on (onward request moved in
    400 days ago, linked to the placement), and a recent onward request; retention of 365 days."""
    malmo = await factories.municipality_org(conn, "1280")
    shelter = await factories.shelter(conn, await factories.operator_org(conn, "north", "2480"), "2480")
    request = await factories.request(conn, malmo)
    placement = await factories.accept(conn, await factories.offer(conn, request, await factories.unit(conn, shelter, 2)))
    await conn.execute("update placement set status = 'moved_out', moved_out_at = now(), version = version + 1 "
                       "where id = $1", placement)
    for step in ("offered", "placed", "closed"):
        await conn.execute("update placement_request set status = $2, version = version + 1 where id = $1",
                           request, step)
    long_ago = await conn.fetchval("select now() - interval '400 days'")
    await conn.execute(ONWARD, malmo, placement, "ONW-OLD", "moved_in", long_ago)
    await conn.execute(ONWARD, malmo, None, "ONW-NEW", "withdrawn", None)
    await conn.execute("update onward_request set updated_at = now() - interval '400 days' "
                       "where case_reference = 'ONW-OLD'")
    await conn.execute("update placement_request set updated_at = now() - interval '400 days' where id = $1", request)
    await conn.execute("update placement set accepted_at = now() - interval '500 days', "
                       "moved_out_at = now() - interval '400 days' where id = $1", placement)
    assert await retention.erase_closed_cases(conn, 365) == 1  # the onward link does not hold it up
    assert await conn.fetchval("select placement_id from onward_request where case_reference = 'ONW-OLD'") is None
    assert await retention.erase_closed_onward_requests(conn, 365) == 1
    assert [r[0] for r in await conn.fetch("select case_reference from onward_request")] == ["ONW-NEW"]


async def test_the_database_refuses_an_unsafe_onward_offer(conn):
    """Input: offers written straight to the database, past the engine: an apartment in the threat
    municipality, one 16 km from it (minimum 200 km), one whose provider keeps no protected identity,
    and a safe one."""
    malmo = await factories.municipality_org(conn, "1280")
    await conn.execute("insert into organisation (id, kind, display_name, municipality_code) "
                       "values ('housing-x', 'housing_provider', 'Bostäder X', '2480')")
    request = await conn.fetchval(
        """insert into onward_request (municipality_id, case_reference, urgency, protected_data_level, adults,
                                       threat_municipalities, min_distance_km, max_rent_sek, earliest_move_in)
           values ($1, 'ONW-SAFE', 'planned', 'skyddad_folkbokforing', '[{"gender": "female", "age": 30}]',
                   '{1280}', 200, 9000, current_date) returning id""", malmo)

    async def offer(code: str, capability: str = "skyddad_folkbokforing"):
        apartment = await conn.fetchval(
            """insert into apartment (provider_id, label, municipality_code, rooms, area_m2, floor, monthly_rent_sek,
                                      available_from, lease_type, protected_data_capability)
               values ('housing-x', $1, $2, 2, 50, 1, 7000, current_date, 'first_hand', $3) returning id""",
            f"Lgh {code} {capability}", code, capability)
        try:
            async with conn.transaction():
                await conn.execute("insert into onward_offer (onward_request_id, apartment_id, expires_at) "
                                   "values ($1, $2, now() + interval '5 days')", request, apartment)
        except asyncpg.CheckViolationError as exc:
            return exc.constraint_name
        return "made"

    assert await offer("1280") == "onward_offer_excluded_area"
    assert await offer("1281") == "onward_offer_excluded_area"  # Lund: 16 km from Malmö
    assert await offer("2480", "sekretessmarkering") == "onward_offer_protected_identity"
    assert await offer("2480") == "made"


async def test_personnummer_shaped_text_is_refused_by_the_apartment_tables(conn):
    """Input, straight to the database: an apartment label and a household child's decision reference each
    holding a personal identity number (built from parts here, as the tests must)."""
    number = "19" + "850101" + "-" + "2384"
    await conn.execute("insert into organisation (id, kind, display_name, municipality_code) "
                       "values ('housing-y', 'housing_provider', 'Bostäder Y', '2480')")
    malmo = await factories.municipality_org(conn, "1280")
    statements = [
        ("""insert into apartment (provider_id, label, municipality_code, rooms, area_m2, floor, monthly_rent_sek,
                                   available_from, lease_type, protected_data_capability)
            values ('housing-y', $1, '2480', 2, 50, 1, 7000, current_date, 'first_hand', 'none')""", f"Lgh {number}"),
        ("""insert into onward_request (municipality_id, case_reference, urgency, protected_data_level, adults,
                                        children, max_rent_sek, earliest_move_in)
            values ($2, 'ONW-PNR', 'planned', 'none', '[{"gender": "female", "age": 30}]',
                    jsonb_build_array(jsonb_build_object('gender', 'male', 'age', 4, 'decision_reference', $1::text)),
                    8000, current_date)""", number),
    ]
    for sql, value in statements:
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                await conn.execute(sql, value, *([malmo] if "$2" in sql else []))
    assert await conn.fetchval("select count(*) from apartment") == 0
