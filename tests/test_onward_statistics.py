"""Onward figures for national follow-up (issue 24): waiting onward requests, shelter beds freed by onward
moves and the median days from placement to move, by the requesting municipality's county."""

from __future__ import annotations

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
