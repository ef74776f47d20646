"""The web pages in a real browser: Debian's headless Chromium driven by Playwright, against the service
running as its own process with a fresh database, logging in through the development issuer's login page.
Every page visited is screenshotted to test-artifacts/web/ and checked with axe-core (served from the
axe-playwright-python package, never fetched): no serious or critical violation is allowed."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from skyddat_boende.identity.dev_issuer import DevIssuer, Persona
from tests.helpers import REPO_ROOT, running_server
from tests.workflow_support import mother_with_son_and_dog, organisations, shelter_body

playwright_api = pytest.importorskip("playwright.async_api")
axe_module = pytest.importorskip("axe_playwright_python.async_playwright")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(REPO_ROOT) / "test-artifacts" / "web"
NORTH, EAST = "operator-north", "operator-east"
PERSONAS = [
    Persona("malmo", "Socialsekreterare, Malmö kommun", "social_worker", "kommun-1280"),
    Persona("stockholm", "Socialsekreterare, Stockholms kommun", "social_worker", "kommun-0180"),
    Persona("north", "Personal, Norra jouren", "shelter_staff", NORTH),
    Persona("east", "Personal, Östra jouren", "shelter_staff", EAST),
    Persona("followup", "Nationell uppföljning", "national_followup", "nat-socialstyrelsen"),
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)")


@dataclass
class World:
    base: str
    issuer: DevIssuer
    browser: object
    shots: list[str]


async def _publish(base: str, issuer: DevIssuer, operator: str, body: dict, status: str, unit: str = "Lgh 1") -> dict:
    token = issuer.mint_token(subject=f"setup-{operator}", org=operator, roles=("shelter_staff",))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base) as api:
        shelter = await api.post("/api/shelters", json=body, headers=headers)
        assert shelter.status_code == 201, shelter.text
        unit = await api.post(f"/api/shelters/{shelter.json()['id']}/units",
                              json={"label": unit, "beds": 3, "status": status}, headers=headers)
        assert unit.status_code == 201, unit.text
        return unit.json()


@pytest.fixture(scope="module")
async def world(create_migrated_database, tmp_path_factory) -> AsyncIterator[World]:
    url = await create_migrated_database()
    await organisations(url)
    with DevIssuer(tmp_path_factory.mktemp("web-issuer") / "keys", personas=PERSONAS) as issuer:
        env = {
            "DATABASE_URL": url, "SB_ENV": "development", "SB_DATA_DIR": str(tmp_path_factory.mktemp("web-data")),
            "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]),
            "SB_SESSION_SECRET": secrets.token_hex(32), "SB_BATCH_INTERVAL_MINUTES": "0",
            "SB_LIVE_POLL_SECONDS": "1",  # the pages' live updates, without waiting 10 s for each
        }
        with running_server(env) as base:
            # Umeå (north) starts out of service, so only staff freeing it makes it offerable;
            # Uppsala (east) is too expensive for the request's budget.
            await _publish(base, issuer, NORTH, shelter_body("2480", rate=2000, label="Norra huset"), "out_of_service")
            await _publish(base, issuer, EAST, shelter_body("0380", rate=9000, label="Östra huset"), "available")
            # Osby (Skåne) is the place a request preferring Skåne should get
            await _publish(base, issuer, EAST, shelter_body("1273", rate=1500, label="Södra huset"), "available",
                           "Rum S1")
            async with playwright_api.async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    yield World(base, issuer, browser, [])
                finally:
                    await browser.close()


WIDTHS = ((390, 844), (1280, 800))


async def _check(page, name: str) -> None:
    """At a phone's and a desktop's width: screenshot the page, check that nothing makes it wider than the
    viewport, and run axe-core on it (nothing serious or critical). The page's own size is restored."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in WIDTHS:
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name}: {scroll_width} px wide at a {width} px viewport"
        results = await axe_module.Axe().run(page)
        bad = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name} at {width} px: accessibility violations {bad}"
    await page.set_viewport_size(original)


async def _login(world: World, persona: str, screenshot: str | None = None):
    context = await world.browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE")
    page = await context.new_page()
    await page.goto(world.base + "/")
    await page.get_by_role("link", name="Logga in").click()
    await page.wait_for_url(re.compile(re.escape(world.issuer.url) + "/authorize"))
    if screenshot:
        await _check(page, screenshot)
    label = next(p.label for p in PERSONAS if p.key == persona)
    await page.get_by_role("button", name=label).click()
    await page.wait_for_url(re.compile(re.escape(world.base) + "/(boende|socialtjanst|uppfoljning)"))
    return context, page


async def test_pages_answer_with_strict_headers_and_no_store(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.base) as client:
        home = await client.get("/")
        assert home.status_code == 200
        assert home.headers["cache-control"] == "no-store"
        csp = home.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        protected = await client.get("/socialtjanst")
        assert protected.status_code == 303 and protected.headers["location"].startswith("/login")
        # a form without the CSRF token is refused, even before login
        assert (await client.post("/logout")).status_code == 403
        # the API is unchanged: bearer tokens only, no session cookie
        api = await client.get("/api/me")
        assert api.status_code == 401 and "set-cookie" not in api.headers
    context = await world.browser.new_context()
    page = await context.new_page()
    await page.goto(world.base + "/")
    await _check(page, "01-start")
    await context.close()


async def test_shelter_staff_log_in_and_free_a_place(world: World) -> None:
    context, page = await _login(world, "north", screenshot="02-issuer-login")
    assert page.url.endswith("/boende")
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["sb_session"]["httpOnly"] and cookies["sb_session"]["sameSite"] == "Lax"
    await _check(page, "03-staff-board")
    unit = page.get_by_role("group", name="Lgh 1")
    await unit.get_by_role("button", name="Ledig").click()
    await page.wait_for_url(re.compile(r"/boende"))
    assert "Lgh 1 är nu: Ledig." in await page.get_by_role("status").inner_text()
    assert await page.get_by_role("group", name="Lgh 1").get_by_role("button", name="Ledig").get_attribute(
        "aria-pressed") == "true"
    board = await page.locator("main").inner_text()
    assert "Ledig · alla 3 bäddar lediga" in board and "platser" not in board
    assert "Personal, Norra jouren" not in board  # (the persona's label; the header names the organisation)
    assert "operator-north" not in await page.locator("header").inner_text()
    await page.get_by_role("button", name="Ingen ändring i dag").click()
    assert "1 enheter bekräftade." in await page.get_by_role("status").inner_text()
    await _check(page, "04-staff-board-after-freeing")
    await context.close()


async def test_request_offer_accept_address_and_isolation(world: World) -> None:
    malmo, page = await _login(world, "malmo")
    await _check(page, "05-social-requests-empty")
    await page.get_by_role("link", name="Ny förfrågan").first.click()
    await _check(page, "06-social-new-request")
    await page.locator("summary", has_text="Lediga enheter per län just nu").click()  # counts only, before filing
    assert await page.get_by_role("row", name=re.compile("Skåne län")).count() == 1
    await page.get_by_label("Ärendereferens").fill("MAL-2026-0001")
    await page.get_by_label("Senaste startdatum").fill(mother_with_son_and_dog()["latest_start_date"])
    adult = page.get_by_role("group", name="Vuxen 1")
    await adult.get_by_label("Kön").select_option("female")
    await adult.get_by_label("Ålder").fill("38")
    child = page.get_by_role("group", name="Barn 1")
    await child.get_by_label("Kön").select_option("male")
    await child.get_by_label("Ålder").fill("15")
    await child.get_by_label("Barnets beslutsreferens").fill("MAL-2026-0001-B1")
    await page.get_by_label("Husdjur").check()
    await page.get_by_label("Hotområde 1").fill("Malmö")
    await page.get_by_label("Minsta avstånd från hotområdena (km)").fill("200")
    await page.get_by_label("Högsta dygnskostnad (kr, valfritt)").fill("5000")
    await page.get_by_role("button", name="Skicka förfrågan").click()
    await page.wait_for_url(re.compile(r"/socialtjanst/arenden/"))
    request_id = page.url.rsplit("/", 1)[1]
    text = await page.locator("main").inner_text()
    assert "Plats erbjuden" in text and "Ett boende i Umeå (Västerbottens län)" in text
    assert "Varför platsen passar" in text and "Hemliga" not in text and "Norra huset" not in text
    assert "Adressen visas här när boendet har accepterat." in text
    assert re.search(r"\d+ enhet(er)? har för låg skyddsnivå|\d+ enhet(er)? passar", text)
    await _check(page, "07-social-request-offered")

    staff, staff_page = await _login(world, "north")
    await staff_page.get_by_role("link", name="Erbjudanden").click()
    offer_text = await staff_page.locator("main").inner_text()
    assert "Barn: pojke, 15 år" in offer_text and "Från Malmö" in offer_text and "MAL-2026" not in offer_text
    await _check(staff_page, "08-staff-offers")
    await staff_page.locator("summary", has_text="Acceptera").click()  # first tap: the question
    assert "Det kan inte ångras" in await staff_page.locator("details[open]").inner_text()
    assert "/boende/erbjudanden" in staff_page.url
    await staff_page.get_by_role("button", name="Ja, acceptera").click()
    await staff_page.wait_for_url(re.compile(r"/boende/placeringar"))
    assert "Erbjudandet är accepterat" in await staff_page.get_by_role("status").inner_text()
    assert "Barn: pojke, 15 år" in await staff_page.locator("main").inner_text()  # the household, still shown
    await _check(staff_page, "09-staff-placements")

    await page.reload()
    assert "Placerad" in await page.locator("main").inner_text()
    await page.get_by_role("link", name="Visa adress och kontakt").click()
    assert "Hemliga" not in await page.locator("main").inner_text()  # first the reason, then the address
    await _check(page, "10-social-address-reason")
    await page.get_by_label("Kontakta boendet").check()
    await page.get_by_role("button", name="Visa adress och kontakt").click()
    address_url = page.url
    placement_id = address_url.split("/placeringar/")[1].split("/")[0]
    address = await page.locator("main").inner_text()
    assert "Hemliga vägen 2000" in address and "+46 90 000 00 00" in address
    await _check(page, "10-social-address")
    assert "purpose" not in address_url  # the reason went in the form body (a POST with CSRF)

    # Stockholm's social worker reaches neither the request nor the address, by page or API URL
    stockholm, other = await _login(world, "stockholm")
    for path in (f"/socialtjanst/arenden/{request_id}", f"/socialtjanst/placeringar/{placement_id}/adress",
                 f"/socialtjanst/placeringar/{placement_id}/adress?purpose=contact_shelter"):
        response = await other.goto(world.base + path)
        assert response.status == 404, path
        body = await other.content()
        assert "Hemliga" not in body and "MAL-2026" not in body
    await _check(other, "11-not-found-for-stockholm")
    for path in (f"/api/requests/{request_id}", f"/api/placements/{placement_id}/address"):
        assert (await other.goto(world.base + path)).status == 401, path
    assert "MAL-2026" not in await (await other.goto(world.base + "/socialtjanst")).text()
    # shelter staff have no social-worker pages at all
    response = await staff_page.goto(world.base + f"/socialtjanst/placeringar/{placement_id}/adress")
    assert response.status == 403 and "Hemliga" not in await staff_page.content()
    await _check(staff_page, "12-forbidden-for-staff")

    # staff check the household in
    await staff_page.goto(world.base + "/boende/placeringar")
    assert await staff_page.locator("summary", has_text="Flytta ut").count() == 0  # not before moving in
    await staff_page.get_by_role("button", name="Registrera inflyttning").click()
    assert await staff_page.locator("summary", has_text="Flytta ut").count() == 1
    assert "Hushållet har flyttat in." in await staff_page.get_by_role("status").inner_text()
    await staff_page.goto(world.base + "/boende")  # the badge agrees with the beds now taken
    assert await staff_page.locator("main .unit .badge").first.inner_text() in ("Delvis upptagen", "Upptagen")
    for context in (malmo, staff, stockholm):
        await context.close()


async def test_national_follow_up_in_english(world: World) -> None:
    context, page = await _login(world, "followup")
    assert page.url.endswith("/uppfoljning")
    text = await page.locator("main").inner_text()
    assert "Läget per län" in text and "Västerbottens län" in text
    assert await page.get_by_role("img", name=re.compile("Karta: väntande")).count() == 1
    await _check(page, "13-followup-statistics")
    await page.get_by_role("button", name="In English").click()
    await page.wait_for_url(re.compile(r"/uppfoljning"))
    assert await page.get_by_role("heading", level=1).inner_text() == "By county"
    assert await page.locator("html").get_attribute("lang") == "en"
    await _check(page, "14-followup-statistics-english")
    await context.close()


async def test_logging_out_ends_the_session_even_for_a_copied_cookie(world: World) -> None:
    context, page = await _login(world, "malmo")
    copied = await context.cookies()
    await page.get_by_role("button", name="Logga ut").click()
    await page.wait_for_url(world.base + "/")
    await context.close()
    # someone who copied the cookie before the logout gets nowhere with it
    thief = await world.browser.new_context()
    await thief.add_cookies(copied)
    stolen = await thief.new_page()
    await stolen.goto(world.base + "/socialtjanst")
    assert "/login" in stolen.url or "/authorize" in stolen.url
    await thief.close()


async def test_social_worker_withdraws_a_request(world: World) -> None:
    token = world.issuer.mint_token(subject="setup-malmo", org="kommun-1280", roles=("social_worker",))
    async with httpx.AsyncClient(base_url=world.base) as api:
        created = await api.post("/api/requests", headers={"Authorization": f"Bearer {token}"},
                                 json=mother_with_son_and_dog("MAL-2026-0099"))
        assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    context, page = await _login(world, "malmo")
    await page.goto(world.base + f"/socialtjanst/arenden/{request_id}")
    await page.locator("summary", has_text="Återkalla förfrågan").click()
    await page.get_by_role("button", name="Ja, återkalla").click()
    await page.wait_for_url(re.compile(f"/socialtjanst/arenden/{request_id}$"))
    assert "Förfrågan är återkallad." in await page.get_by_role("status").inner_text()
    assert "Återkallad" in await page.locator("main").inner_text()
    assert await page.locator("summary", has_text="Återkalla förfrågan").count() == 0
    await _check(page, "15-social-request-withdrawn")
    await context.close()


async def test_request_form_names_every_error_in_swedish_next_to_its_field(world: World) -> None:
    """Bad input tried: a reference with a space, an adult aged 15, a child without a decision, a language
    nobody knows next to one typed by name, an unknown threat area, and 50 km from no threat at all."""
    context, page = await _login(world, "malmo")
    await page.goto(world.base + "/socialtjanst/ny")
    await page.get_by_label("Ärendereferens").fill("MAL 2026")
    await page.get_by_role("group", name="Vuxen 1").get_by_label("Ålder").fill("15")
    await page.get_by_role("group", name="Barn 1").get_by_label("Ålder").fill("4")
    await page.get_by_label("Språk hushållet talar").fill("arabiska, klingonska")
    await page.get_by_label("Hotområde 1").fill("Gotham")
    await page.get_by_label("Minsta avstånd från hotområdena (km)").fill("50")
    await page.get_by_role("button", name="Skicka förfrågan").click()
    expected = {
        "case_reference": "Referensen får bara innehålla A–Z",
        "adult1_age": "En vuxen är 16–110 år",
        "child1_decision": "Fyll i barnets beslutsreferens",
        "languages": "Okänt språk: klingonska",
        "threat1": "Det finns ingen kommun som heter Gotham",
    }
    for field, text in expected.items():
        assert text in await page.locator(f"#{field}-error").inner_text(), field
        described = await page.locator(f"#{field}").get_attribute("aria-describedby")
        assert f"{field}-error" in described and await page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    summary = await page.locator("#form-errors").inner_text()
    assert all(text in summary for text in expected.values())
    assert "Expected" not in await page.content() and "regex" not in await page.content()
    await _check(page, "16-social-new-request-errors")
    # a known threat area but a minimum distance with no threat at all is named at the distance field
    await page.get_by_label("Hotområde 1").fill("")
    await page.get_by_role("button", name="Skicka förfrågan").click()
    assert "Ett minsta avstånd behöver minst en hotkommun." in await page.locator("#min_distance_km-error").inner_text()
    await context.close()


async def test_request_with_region_preferences_is_offered_in_the_preferred_county(world: World) -> None:
    context, page = await _login(world, "malmo")
    await page.goto(world.base + "/socialtjanst/ny")
    await page.get_by_label("Ärendereferens").fill("MAL-2026-0050")
    await page.get_by_label("Inom några dagar").check()
    await page.get_by_role("group", name="Vuxen 1").get_by_label("Ålder").fill("30")
    await page.get_by_label("Språk hushållet talar").fill("arabiska, engelska")
    await page.get_by_label("Hotområde 1").fill("Stockholm")
    await page.get_by_label("Minsta avstånd från hotområdena (km)").fill("100")
    await page.get_by_label("Önskat län 1").fill("Skåne län")
    await page.get_by_label("Nära kommun").fill("Malmö")
    await page.get_by_label("Högsta avstånd från den kommunen (km)").fill("150")
    await page.get_by_label("Uteslutet län 1").fill("Uppsala län")
    await page.get_by_role("button", name="Skicka förfrågan").click()
    await page.wait_for_url(re.compile(r"/socialtjanst/arenden/"))
    text = await page.locator("main").inner_text()
    assert "Ett boende i Osby (Skåne län)" in text and "I önskat område" in text
    assert re.search(r"\d+ km från närmaste hotområde", text) and re.search(r"\d+ km från Malmö", text)
    await _check(page, "17-social-request-in-preferred-county")
    # five minutes before the shelter's answer is due, the banner says so (the page's clock is moved on)
    soon = page.locator("[data-soon]")
    assert await soon.is_hidden()
    expires = dt.datetime.fromisoformat(await soon.get_attribute("data-soon"))
    await page.clock.install()
    await page.reload()
    await page.clock.set_system_time(expires - dt.timedelta(minutes=5))
    await page.clock.fast_forward("00:21")
    assert await page.locator("[data-soon]").is_visible()
    assert "Tiden för boendets svar går snart ut" in await page.get_by_role("alert").inner_text()
    await context.close()


async def test_a_mistyped_address_gets_a_swedish_page_and_titles_name_the_page(world: World) -> None:
    context = await world.browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE")
    page = await context.new_page()
    response = await page.goto(world.base + "/socialtjanst/nyy")
    assert response.status == 404 and "text/html" in response.headers["content-type"]
    assert await page.locator("html").get_attribute("lang") == "sv"
    assert await page.title() == "Hittades inte – Skyddat boende"
    assert "content-security-policy" in response.headers
    await _check(page, "18-mistyped-address")
    async with httpx.AsyncClient(base_url=world.base) as client:
        api = await client.get("/api/no-such-thing")
        assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/static/favicon.svg")).status_code == 200
    await page.goto(world.base + "/")
    assert await page.title() == "Skyddat boende"
    await context.close()


async def test_decline_and_next_offer_reach_the_open_request_page_without_reload(world: World) -> None:
    """A place is offered at once (Kiruna or Uppsala, both the east operator's; which one ranks first is the
    engine's business), arriving on the shelter's open offers page, and declined there; the social worker's
    page, never reloaded, shows the decline with its reason and the next offer, elsewhere, in an alert."""
    await _publish(world.base, world.issuer, EAST, shelter_body("2584", rate=900, label="Fjällhuset"), "available",
                   "Rum K1")
    staff, staff_page = await _login(world, "east")
    await staff_page.goto(world.base + "/boende/erbjudanden")  # open before the offer exists
    assert await staff_page.locator("section.card", has_text="Fjällhuset").count() == 0
    social = world.issuer.mint_token(subject="setup-malmo", org="kommun-1280", roles=("social_worker",))
    body = mother_with_son_and_dog("MAL-2026-0077", threat_municipalities=[], min_distance_km=0,
                                   max_daily_rate_sek=1000)
    async with httpx.AsyncClient(base_url=world.base) as api:
        created = await api.post("/api/requests", headers={"Authorization": f"Bearer {social}"}, json=body)
        assert created.status_code == 201 and created.json()["offer"], created.text
    context, page = await _login(world, "malmo")
    await page.goto(world.base + f"/socialtjanst/arenden/{created.json()['id']}")
    offered = re.search(r"Ett boende i (Kiruna|Uppsala) har erbjudits", await page.get_by_role("alert").inner_text())
    assert offered, await page.get_by_role("alert").inner_text()
    town = offered.group(1)
    card = staff_page.locator("section.card", has_text={"Kiruna": "Fjällhuset", "Uppsala": "Östra huset"}[town])
    await card.wait_for(timeout=15_000)  # arrived on the shelter's page without a reload
    assert "akut" in (await staff_page.get_by_role("alert").first.inner_text()).lower()
    await card.locator("summary", has_text="Tacka nej").click()
    await card.get_by_role("button", name="Ja, tacka nej").click()  # no reason preselected: not sent
    assert await card.get_by_label("Skäl").evaluate("el => el.validity.valueMissing")
    assert await card.count() == 1
    await card.get_by_label("Skäl").select_option("cannot_meet_needs")
    await card.get_by_role("button", name="Ja, tacka nej").click()  # the question is still open
    await staff_page.wait_for_url(re.compile(r"/boende/erbjudanden"))
    history = page.get_by_role("region", name="Händelser")
    await history.get_by_text(f"Boendet i {town} tackade nej: Kan inte möta behoven").wait_for(timeout=15_000)
    alert = await page.get_by_role("alert").inner_text()
    assert re.search(rf"Ett boende i (?!{town})\w+ har erbjudits", alert), alert
    await _check(page, "19-social-request-live-offer")
    for c in (context, staff):
        await c.close()


async def test_units_page_of_a_large_operator_has_a_jump_list_and_natural_order(world: World) -> None:
    """Eight shelters (three published earlier, five here), units labelled so that text order would put
    "Rum 10" before "Rum 2"; after a tap, the confirmation is in the tapped unit's card, on screen."""
    token = world.issuer.mint_token(subject="setup-east", org=EAST, roles=("shelter_staff",))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=world.base) as api:
        for n, code in enumerate(("0114", "0115", "0117", "0120", "0123"), start=1):
            shelter = await api.post("/api/shelters", headers=headers,
                                     json=shelter_body(code, rate=3000 + n, label=f"Stadshuset {n}"))
            assert shelter.status_code == 201, shelter.text
            for label in ("Rum 10", "Rum 2", "Rum 1"):
                unit = await api.post(f"/api/shelters/{shelter.json()['id']}/units", headers=headers,
                                      json={"label": label, "beds": 2, "status": "out_of_service"})
                assert unit.status_code == 201, unit.text
    context, page = await _login(world, "east")
    jump = page.get_by_role("navigation", name="Gå till boende")
    assert await jump.get_by_role("link").count() == 8
    await jump.get_by_role("link", name="Stadshuset 3").click()
    section = page.locator("section.card", has_text="Stadshuset 3")
    assert "3 enheter: 3 ur drift" in await section.inner_text()
    labels = await section.locator("li.unit h3").all_inner_texts()
    assert labels == ["Rum 1", "Rum 2", "Rum 10"]
    await section.get_by_role("group", name="Rum 10").get_by_role("button", name="Ur drift").click()
    status = page.get_by_role("status")
    assert "Rum 10 är nu: Ur drift." in await status.inner_text()
    assert await status.is_visible() and await status.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    await _check(page, "20-staff-board-eight-shelters")
    await context.close()
