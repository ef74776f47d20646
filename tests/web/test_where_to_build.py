"""The "where to build" view on the follow-up page in a real browser (issue 27): per county the needs most
often unmet, a 12-month trend chart and the same as a table, the county map of unmet demand per 100,000
inhabitants (drawn from county outlines) and its table, axe clean, screenshotted to test-artifacts/web/;
and the open data endpoint as a browser shows it."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import secrets
from collections.abc import AsyncIterator

import pytest

from skyddat_boende import database
from skyddat_boende.identity.dev_issuer import DevIssuer
from skyddat_boende.statistics import population
from skyddat_boende.statistics.snapshots import local_date
from tests.helpers import running_server
from tests.web.test_web_pages import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PERSONAS, World, _check, _login
from tests.workflow_support import organisations

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)")


async def _snapshots(url: str) -> None:
    """A year of invented daily figures: Västra Götaland (14) short of places for older boys; Gotland (09)
    had 3 unmet households last month, a count the page must withhold."""
    rng, rows, days = random.Random(27), [], []
    today = local_date(dt.datetime.now(dt.timezone.utc))
    for back in range(400):
        day = today - dt.timedelta(days=back)
        days.append((day, True, True))
        for county, weight in (("14", 3), ("01", 2), ("12", 2), ("24", 1)):
            for need, share in (("all", 1.0), ("older_boys", 0.6), ("pets", 0.3), ("wheelchair", 0.2)):
                for measure in ("requests_filed", "placed_later", "never_placed", "places_free"):
                    value = round(rng.random() * weight * share * (2 + back % 30 / 10))
                    if value:
                        rows.append((day, county, need, measure, value))
        if day.day == 1 and (today.year, today.month) != (day.year, day.month) and not any(r[1] == "09" for r in rows):
            rows.append((day, "09", "all", "never_placed", 3))
    conn = await database.connect(url)
    try:
        await conn.copy_records_to_table("demand_snapshot_day", records=days)
        await conn.copy_records_to_table("demand_snapshot", records=rows)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def world(create_migrated_database, tmp_path_factory) -> AsyncIterator[World]:
    url = await create_migrated_database()
    await organisations(url)
    await _snapshots(url)
    with DevIssuer(tmp_path_factory.mktemp("where-issuer") / "keys", personas=PERSONAS) as issuer:
        env = {
            "DATABASE_URL": url, "SB_ENV": "development", "SB_DATA_DIR": str(tmp_path_factory.mktemp("where-data")),
            "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]),
            "SB_SESSION_SECRET": secrets.token_hex(32), "SB_BATCH_INTERVAL_MINUTES": "0",
        }
        with running_server(env) as base:
            async with playwright_api.async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    yield World(base, issuer, browser, [])
                finally:
                    await browser.close()


async def test_where_to_build_chart_and_table(world: World) -> None:
    context, page = await _login(world, "followup")
    await page.set_viewport_size({"width": 1280, "height": 900})
    where = page.get_by_role("region", name="Var behövs fler platser?")
    assert await page.get_by_role("heading", name="Var behövs fler platser?").count() == 1
    row = where.get_by_role("row", name=re.compile("Västra Götalands län"))
    assert "pojkar över 12 år" in await row.inner_text()
    trends = page.get_by_role("img", name=re.compile("ej tillgodosedda per månad"))
    assert await trends.count() == 21
    label = await page.get_by_role("img", name=re.compile("Västra Götalands län, ej")).get_attribute("aria-label")
    assert not re.search(r"\b[1-4]\b", label.split(":", 1)[1])  # the chart says no 1-4 either
    table = page.get_by_role("region", name="Tabell: ej tillgodosedda per län och månad")
    assert await table.get_by_role("columnheader").count() == 13
    await _check(page, "15-followup-where-to-build")
    await page.get_by_role("region", name="Var behövs fler platser?").screenshot(
        path=str(ARTIFACTS / "16-where-to-build-section.png"))
    await context.close()


async def test_open_data_in_a_browser(world: World) -> None:
    context = await world.browser.new_context()
    page = await context.new_page()
    answer = await page.goto(world.base + "/open-data/free-places")
    assert answer.status == 200 and "public" in answer.headers["cache-control"]
    body = json.loads(await page.locator("body").inner_text())
    assert {r["county_code"] for r in body["rows"]} >= {"01", "14"}
    await page.screenshot(path=str(ARTIFACTS / "17-open-data-free-places.png"))
    await context.close()


def _number(text: str) -> float:
    return float(text.replace(",", ".").replace("\u00a0", "").replace(" ", ""))


async def _map_titles(page, key: str) -> dict[str, str]:
    paths = page.locator(f"svg[data-map={key}] path")
    return {await p.get_attribute("data-county"): await p.locator("title").text_content()
            for p in await paths.all()}


async def _view_screenshot(page) -> None:
    """The view as README shows it (docs/images/where-to-build.png is a copy): heading to needs table."""
    box = await page.evaluate("""() => {
        const main = document.querySelector("main").getBoundingClientRect();
        const top = document.getElementById("where-title").getBoundingClientRect().top;
        const end = document.querySelector('[aria-labelledby="where-title"]').getBoundingClientRect().bottom;
        return {x: main.left, y: top + window.scrollY - 16, width: main.width, height: end - top + 32};
    }""")
    await page.screenshot(path=str(ARTIFACTS / "21-where-to-build-view.png"), full_page=True, clip=box)


async def test_unmet_per_100k_map_agrees_with_its_table(world: World) -> None:
    context, page = await _login(world, "followup")
    await page.set_viewport_size({"width": 1280, "height": 800})
    titles = await _map_titles(page, "unmet")
    table = page.get_by_role("region", name=re.compile("Tabell: ej tillgodosedda per 100 000 invånare"))
    rows = await table.locator("tbody tr").all()
    assert len(titles) == len(rows) == 21  # every county is drawn, from its outline, with its name
    populations = population.by_county()
    for row in rows:
        code = await row.get_attribute("data-county")
        name, unmet, rate = [await c.inner_text() for c in await row.locator("th, td").all()]
        assert titles[code].startswith(name + ":")
        if unmet == "<5":  # withheld in the table, withheld on the map: no rate, a hatch not a colour
            assert rate == "<5" and "färre än 5" in titles[code]
            assert (await page.locator(f'svg[data-map=unmet] path[data-county="{code}"]').get_attribute("fill")
                    == "url(#unmet-hatch)")
            continue
        assert int(unmet) % 5 == 0 and not 1 <= int(unmet) <= 4
        assert f": {rate} per 100 000 invånare ({unmet} hushåll)" in titles[code]
        assert abs(_number(rate) - int(unmet) * 100_000 / populations[code]) <= 0.05
    assert "<5" in (await table.inner_text()), "Gotland's 3 unmet households must show as withheld"
    vg = await table.get_by_role("row", name=re.compile("Västra Götalands län")).inner_text()
    assert _number(vg.split("\t")[-1]) > 0
    await _check(page, "18-where-to-build-map-1280")
    await page.locator("svg[data-map=unmet]").screenshot(path=str(ARTIFACTS / "19-where-to-build-map.png"))
    await _view_screenshot(page)
    await context.close()


async def test_where_to_build_map_fits_a_phone(world: World) -> None:
    context, page = await _login(world, "followup")  # 390 x 844
    assert await page.locator("svg[data-map=unmet] path").count() == 21
    assert await page.locator("svg[data-map=waiting] path").count() == 21
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of horizontal overflow at 390 px"
    box = await page.locator("svg[data-map=unmet]").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    await _check(page, "20-where-to-build-map-390")
    await context.close()
