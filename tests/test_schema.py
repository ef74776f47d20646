"""The database holds the invariants itself: each test tries a write the rules forbid."""

from __future__ import annotations

import asyncpg
import pytest

from tests import factories


@pytest.fixture
async def world(conn):
    municipality = await factories.municipality_org(conn, "1280")
    operator = await factories.operator_org(conn)
    shelter = await factories.shelter(conn, operator)
    return municipality, operator, shelter


async def test_private_operator_needs_an_ivo_permit(conn):
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "insert into organisation (id, kind, display_name, municipality_code) "
            "values ('operator-utan-tillstand', 'company', 'Bolaget AB', '0180')"
        )


async def test_municipality_org_id_must_match_its_code(conn):
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "insert into organisation (id, kind, display_name, municipality_code) "
            "values ('kommun-0180', 'municipality', 'Fel', '1280')"
        )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("security_level", 5),
        ("target_groups", ["women", "pirates"]),
        ("target_groups", []),
        ("max_age_boys", 18),
        ("staff_languages", ["svenska"]),
        ("daily_rate_sek", -1),
        ("protected_data_capability", "secret"),
    ],
)
async def test_shelter_attributes_out_of_range_are_refused(conn, world, column, value):
    _, operator, _ = world
    with pytest.raises(asyncpg.CheckViolationError):
        await factories.shelter(conn, operator, **{column: value})


@pytest.mark.parametrize(
    "reference",
    # shapes of personal identity numbers (fabricated digits): 10 or 12 digits, with or without separator
    ["8001011234", "198001011234", "800101-1234", "19800101-1234", "KR-800101+1234", "x 800101 1234",
     "800101.1234", "19800101_1234", "800101/1234", "80-01-01-1234", "800161-1234"],
)
async def test_case_reference_shaped_like_a_personal_number_is_refused(conn, world, reference):
    municipality, _, _ = world
    with pytest.raises(asyncpg.CheckViolationError):
        await factories.request(conn, municipality, case_reference=reference)


@pytest.mark.parametrize("reference", ["MAL-2026-0042", "MAL-2026-004201", "SOC/2026/12345"])
async def test_pseudonymous_case_reference_is_accepted(conn, world, reference):
    municipality, _, _ = world
    assert await factories.request(conn, municipality, case_reference=reference)


async def _refused(conn, constraint: str, write) -> None:
    """The write raises a check violation naming `constraint`; the test goes on (a savepoint)."""
    with pytest.raises(asyncpg.CheckViolationError) as raised:
        async with conn.transaction():
            await write
    assert raised.value.constraint_name == constraint


async def test_one_open_offer_per_whole_unit_and_per_request(conn, world):
    municipality, _, shelter = world
    unit = await factories.unit(conn, shelter)
    other_unit = await factories.unit(conn, shelter)
    first, second = [await factories.request(conn, municipality) for _ in range(2)]
    await factories.offer(conn, first, unit)
    # a second household offered the same non-shareable unit, though it has beds to spare
    await _refused(conn, "offer_beds_free", factories.offer(conn, second, unit))
    with pytest.raises(asyncpg.UniqueViolationError):
        async with conn.transaction():  # savepoint: the test goes on after the error
            await factories.offer(conn, first, other_unit)


async def test_non_shareable_unit_holds_one_household_whatever_beds_remain(conn, world):
    municipality, _, shelter = world
    unit = await factories.unit(conn, shelter, beds=4, shareable=False)
    first, second = [await factories.request(conn, municipality) for _ in range(2)]
    await factories.accept(conn, await factories.offer(conn, first, unit, beds=1))
    assert await conn.fetchval("select beds_taken from unit where id = $1", unit) == 4
    # an offer on a full unit (the defect: seen in load tests before offers reserved beds)
    await _refused(conn, "offer_beds_free", factories.offer(conn, second, unit, beds=1))


async def test_shareable_unit_holds_households_up_to_its_beds_and_move_out_frees_them(conn, world):
    municipality, _, shelter = world
    unit = await factories.unit(conn, shelter, beds=3, shareable=True)
    a, b, c = [await factories.request(conn, municipality) for _ in range(3)]
    placement_a = await factories.accept(conn, await factories.offer(conn, a, unit, beds=2))
    await factories.accept(conn, await factories.offer(conn, b, unit, beds=1))
    assert await conn.fetchval("select beds_taken from unit where id = $1", unit) == 3
    await _refused(conn, "offer_beds_free", factories.offer(conn, c, unit, beds=1))
    await conn.execute(
        "update placement set status = 'moved_out', moved_out_at = now(), version = version + 1 where id = $1",
        placement_a,
    )
    assert await conn.fetchval("select beds_taken from unit where id = $1", unit) == 1
    await factories.accept(conn, await factories.offer(conn, c, unit, beds=1))
    assert await conn.fetchval("select beds_taken from unit where id = $1", unit) == 2


async def test_open_offers_hold_beds_of_a_shareable_unit(conn, world):
    municipality, _, shelter = world
    unit = await factories.unit(conn, shelter, beds=4, shareable=True)
    a, b, c, d = [await factories.request(conn, municipality) for _ in range(4)]
    await factories.offer(conn, a, unit, beds=1)
    await factories.offer(conn, b, unit, beds=2)
    # 3 of 4 beds held: a household of 2 does not fit, one of 1 does
    await _refused(conn, "offer_beds_free", factories.offer(conn, c, unit, beds=2))
    await factories.offer(conn, d, unit, beds=1)
    # the unit cannot shrink below its holds, nor leave service while offers are open
    await _refused(conn, "offer_beds_free", conn.execute("update unit set beds = 3 where id = $1", unit))
    await _refused(conn, "unit_open_offers",
                   conn.execute("update unit set status = 'out_of_service' where id = $1", unit))


async def test_offers_only_on_available_units_for_waiting_requests(conn, world):
    municipality, _, shelter = world
    unit = await factories.unit(conn, shelter, beds=4, shareable=True)
    await conn.execute("update unit set status = 'occupied' where id = $1", unit)
    await _refused(conn, "offer_unit_available", factories.offer(conn, await factories.request(conn, municipality), unit))
    await conn.execute("update unit set status = 'available' where id = $1", unit)
    withdrawn = await factories.request(conn, municipality)
    await conn.execute("update placement_request set status = 'withdrawn', version = 2 where id = $1", withdrawn)
    await _refused(conn, "offer_request_waiting", factories.offer(conn, withdrawn, unit))


async def test_status_moves_only_along_the_workflow(conn, world):
    municipality, _, shelter = world
    request = await factories.request(conn, municipality)
    # waiting -> placed skips the offer; a status change without a version bump is refused too
    await _refused(conn, "placement_request_transition",
                   conn.execute("update placement_request set status = 'placed', version = 2 where id = $1", request))
    await _refused(conn, "placement_request_version",
                   conn.execute("update placement_request set status = 'offered' where id = $1", request))
    offer = await factories.offer(conn, request, await factories.unit(conn, shelter))
    await conn.execute("update offer set status = 'expired', answered_at = now() where id = $1", offer)
    # an answered offer is final
    await _refused(conn, "offer_transition", conn.execute(
        "update offer set status = 'declined', decline_reason = 'full' where id = $1", offer))
    await _refused(conn, "offer_transition", conn.execute(
        "update offer set status = 'open', answered_at = null where id = $1", offer))


async def test_placements_are_history_and_cannot_be_deleted(conn, world):
    municipality, _, shelter = world
    unit = await factories.unit(conn, shelter)
    placement = await factories.accept(
        conn, await factories.offer(conn, await factories.request(conn, municipality), unit)
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("delete from placement where id = $1", placement)


async def test_declined_offer_needs_a_reason_from_the_list(conn, world):
    municipality, _, shelter = world
    offer = await factories.offer(conn, await factories.request(conn, municipality), await factories.unit(conn, shelter))
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():  # savepoint: the test goes on after the error
            await conn.execute("update offer set status = 'declined', answered_at = now() where id = $1", offer)
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():  # savepoint: the test goes on after the error
            await conn.execute(
                "update offer set status = 'declined', answered_at = now(), decline_reason = 'bored' where id = $1",
                offer,
            )
    await conn.execute(
        "update offer set status = 'declined', answered_at = now(), decline_reason = 'full' where id = $1", offer
    )


async def test_child_older_than_17_is_refused(conn, world):
    municipality, _, _ = world
    request = await factories.request(conn, municipality)
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "insert into request_child (request_id, position, gender, age, decision_reference) "
            "values ($1, 1, 'male', 18, 'BESLUT-1')",
            request,
        )
