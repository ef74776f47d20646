"""Retention: closed cases are erased after the configured period by the housekeeping job, with a
monthly tally and an audit event each; open, active and recently closed cases are untouched, and the
national statistics read the same before and after."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database, rate_limits, retention
from skyddat_boende.config import ConfigError, load_settings
from skyddat_boende.statistics.repository import by_county
from tests.conftest import make_app
from tests.workflow_support import mother_with_son_and_dog, organisations, publish, shelter_body

CASE_TABLES = {"placement_request": "id", "request_adult": "request_id", "request_child": "request_id",
               "offer": "request_id", "placement": "request_id"}
AGE = "400 days"
NORTH = "operator-north"


async def _placed(client, tokens, case: str, *, move_out: bool) -> str:
    malmo, staff = tokens.social_worker("1280"), tokens.staff(NORTH)
    created = (await client.post("/api/requests", json=mother_with_son_and_dog(case), headers=malmo)).json()
    accepted = await client.post(f"/api/offers/{created['offer']['id']}/accept", headers=staff)
    assert accepted.status_code == 200, accepted.text
    placement = accepted.json()["placement_id"]
    end = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert (await client.post(f"/api/placements/{placement}/check-in", json={"planned_end_date": end},
                              headers=staff)).status_code == 200
    if move_out:
        assert (await client.post(f"/api/placements/{placement}/move-out", headers=staff)).status_code == 200
    return created["id"]


@pytest.fixture
async def cases(create_migrated_database, issuer, tokens):
    """Over the API: an old moved-out case, an old withdrawn one, a recently moved-out one, an old active
    placement and an old open request; then the old ones are made 400 days older."""
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer)) as client:
        staff, malmo = tokens.staff(NORTH), tokens.social_worker("1280")
        shelter, _ = await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
        for label in ("Lgh 2", "Lgh 3"):
            await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": label, "beds": 3}, headers=staff)
        ids = {"old_closed": await _placed(client, tokens, "RET-OLD-CLOSED", move_out=True),
               "recent_closed": await _placed(client, tokens, "RET-RECENT-CLOSED", move_out=True),
               "old_active": await _placed(client, tokens, "RET-OLD-ACTIVE", move_out=False)}
        withdrawn = (await client.post("/api/requests", json=mother_with_son_and_dog("RET-OLD-WITHDRAWN"),
                                       headers=malmo)).json()
        assert (await client.post(f"/api/requests/{withdrawn['id']}/withdraw", headers=malmo)).status_code == 200
        ids["old_withdrawn"] = withdrawn["id"]
        ids["old_open"] = (await client.post("/api/requests", json=mother_with_son_and_dog("RET-OLD-OPEN"),
                                             headers=malmo)).json()["id"]
    old = [ids[k] for k in ("old_closed", "old_withdrawn", "old_active", "old_open")]
    conn = await database.connect(url)
    try:
        await conn.execute(f"""update placement_request set created_at = created_at - interval '{AGE}',
                                   updated_at = updated_at - interval '{AGE}', waiting_since = waiting_since - interval '{AGE}'
                                where id = any($1::uuid[])""", old)
        await conn.execute(f"""update placement set accepted_at = accepted_at - interval '{AGE}',
                                   checked_in_at = checked_in_at - interval '{AGE}', moved_out_at = moved_out_at - interval '{AGE}'
                                where request_id = any($1::uuid[])""", old)
        await conn.execute(f"""update offer set created_at = created_at - interval '{AGE}',
                                   expires_at = expires_at - interval '{AGE}', answered_at = answered_at - interval '{AGE}'
                                where request_id = any($1::uuid[])""", old)
    finally:
        await conn.close()
    return url, ids


async def _rows(conn: asyncpg.Connection, request_id: str) -> dict[str, int]:
    return {table: await conn.fetchval(f"select count(*) from {table} where {column} = $1::uuid", request_id)
            for table, column in CASE_TABLES.items()}


async def test_housekeeping_erases_old_closed_cases_and_keeps_the_rest(cases):
    # Input: the housekeeping job with SB_RETENTION_DAYS=365, run as the service role, over cases closed
    # 400 days ago, closed today, still placed and still open.
    url, ids = cases
    owner = await database.connect(url)
    pool = await database.create_pool(url, max_size=1, service_role=True)
    try:
        before = {name: await _rows(owner, request_id) for name, request_id in ids.items()}
        figures_before = (await by_county(owner, 24)).by_county
        async with pool.acquire() as conn:
            assert await conn.fetchval("select current_user") == "skyddat_app"
            for work in retention.housekeeping(365):
                await work(conn)
        after = {name: await _rows(owner, request_id) for name, request_id in ids.items()}
        for erased in ("old_closed", "old_withdrawn"):
            assert set(after[erased].values()) == {0}, (erased, after[erased])
        assert before["old_closed"]["placement"] == 1 and before["old_closed"]["request_child"] == 1
        for kept in ("recent_closed", "old_active", "old_open"):
            assert after[kept] == before[kept] and after[kept]["placement_request"] == 1, kept
        # the national figures read only open cases and places: the same
        assert (await by_county(owner, 24)).by_county == figures_before
        tally = await owner.fetch("select outcome, cases, adults, children, offers, nights_placed "
                                  "from closed_case_tally where county_code = '12' order by outcome")
        assert [(r["outcome"], r["cases"], r["adults"], r["children"]) for r in tally] == [
            ("placed", 1, 1, 1), ("withdrawn", 1, 1, 1)]
        assert tally[0]["offers"] == 1 and tally[0]["nights_placed"] >= 0
        events = await owner.fetch("select * from audit_event where action = 'retention.erase_case'")
        assert sorted(e["object_id"] for e in events) == sorted([ids["old_closed"], ids["old_withdrawn"]])
        for event in events:  # ids and the system actor only: no case reference, no household
            assert (event["actor_issuer"], event["actor_subject"], event["object_type"], event["outcome"]) == (
                "urn:skyddat-boende:system", "retention", "placement_request", "succeeded")
            assert event["purpose"] is None and event["actor_organisation"] is None
        dump = await owner.fetchval("select string_agg(t::text, ' ') from closed_case_tally t")
        assert "RET-" not in dump
        # a second run finds nothing more
        async with pool.acquire() as conn:
            assert await retention.erase_closed_cases(conn, 365) == 0
    finally:
        await pool.close()
        await owner.close()


async def test_erasure_refuses_short_periods_and_other_paths(cases):
    # Input: a 29-day period through the function, and deleting placements directly as the service role
    # and as the owner (a moved-out one, without going through erase_closed_cases).
    url, ids = cases
    pool = await database.create_pool(url, max_size=1, service_role=True)
    owner = await database.connect(url)
    try:
        async with pool.acquire() as conn:
            with pytest.raises(asyncpg.InvalidParameterValueError):
                await conn.fetchval("select erase_closed_cases(29, 10)")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("delete from placement_request where id = $1::uuid", ids["old_closed"])
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("select erase_tally(array[$1::uuid])", ids["old_closed"])
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="kept as history"):
            await owner.execute("delete from placement where request_id = $1::uuid", ids["old_closed"])
        assert (await _rows(owner, ids["old_closed"]))["placement"] == 1
    finally:
        await owner.close()
        await pool.close()


async def test_the_service_runs_retention_in_its_housekeeping_with_the_configured_period(database_url, issuer):
    app = make_app(database_url, issuer, retention_days=400)
    async with AsyncTestClient(app=app):
        jobs = app.state.jobs.housekeeping
    erasing = [job for job in jobs if getattr(job, "func", None) is retention.erase_closed_cases]
    assert [job.keywords for job in erasing] == [{"retention_days": 400}]
    assert rate_limits.forget_ended_windows in jobs


def test_retention_setting_refuses_periods_the_database_would_refuse():
    # Input: SB_RETENTION_DAYS=29 (and not a number).
    assert load_settings({"SB_RETENTION_DAYS": "30"}).retention_days == 30
    assert load_settings({}).retention_days == 365
    for bad in ("29", "a year"):
        with pytest.raises(ConfigError, match="SB_RETENTION_DAYS"):
            load_settings({"SB_RETENTION_DAYS": bad})
