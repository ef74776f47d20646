"""Issue 24 in a real browser, at a phone's width and a desktop's: a social worker goes from a placed case
to "Ny bostad", the housing provider's staff accept the offer on their page, and the social worker reads
the new address. Every page is checked with axe-core (tests/web/test_web_pages.py's `_check`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets

import httpx
import pytest

from skyddat_boende.identity.dev_issuer import DevIssuer, Persona
from tests.helpers import running_server
from tests.housing_support import UMEA, apartment_body, housing_provider
from tests.web.test_web_pages import CHROMIUM, CHROMIUM_ARGS, _check, playwright_api
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, shelter_body

PROVIDER = "housing-north"
PERSONAS = [Persona("malmo", "Socialsekreterare, Malmö kommun", "social_worker", f"kommun-{MALMO}"),
            Persona("housing", "Bostadsförmedlare, Norra bostäder", "housing_staff", PROVIDER)]
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)")


async def _placed_case(base: str, issuer: DevIssuer, reference: str, rent: int) -> str:
    """A household placed at operator-north's shelter and an apartment of the provider; the request id."""
    def bearer(org: str, role: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + issuer.mint_token(subject=f"setup-{org}", org=org, roles=(role,))}

    staff, worker = bearer("operator-north", "shelter_staff"), bearer(f"kommun-{MALMO}", "social_worker")
    async with httpx.AsyncClient(base_url=base) as api:
        shelter = (await api.post("/api/shelters", headers=staff,
                                  json=shelter_body("2480", rate=rent, label=f"Hus {reference}"))).json()
        await api.post(f"/api/shelters/{shelter['id']}/units", json={"label": "A", "beds": 3}, headers=staff)
        placed = (await api.post("/api/requests", json=mother_with_son_and_dog(reference), headers=worker)).json()
        accepted = await api.post(f"/api/offers/{placed['offer']['id']}/accept", headers=staff)
        assert accepted.status_code == 200, accepted.text
        apartment = await api.post("/api/apartments", headers=bearer(PROVIDER, "housing_staff"),
                                   json=apartment_body(UMEA, label=f"Lgh {reference}", rent=rent))
        assert apartment.status_code == 201, apartment.text
    return placed["id"]


async def _login(browser, base: str, issuer: DevIssuer, persona: str, size: tuple[int, int]):
    context = await browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="sv-SE")
    page = await context.new_page()
    await page.goto(base + "/")
    await page.get_by_role("link", name="Logga in").click()
    await page.wait_for_url(re.compile(re.escape(issuer.url) + "/authorize"))
    await page.get_by_role("button", name=next(p.label for p in PERSONAS if p.key == persona)).click()
    await page.wait_for_url(re.compile(re.escape(base) + "/(socialtjanst|bostad)"))
    return context, page


async def test_a_social_worker_finds_a_new_home_at_both_widths(create_migrated_database, tmp_path_factory):
    url = await create_migrated_database()
    await organisations(url)
    await housing_provider(url, "north", UMEA)
    with DevIssuer(tmp_path_factory.mktemp("onward-issuer") / "keys", personas=PERSONAS) as issuer:
        env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_SESSION_SECRET": secrets.token_hex(32),
               "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0"}
        with running_server(env) as base:
            async with playwright_api.async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    for n, (width, size) in enumerate(WIDTHS.items()):
                        request_id = await _placed_case(base, issuer, f"MAL-HEM-{n}", 6000 + n)
                        await _walk(browser, base, issuer, request_id, width, size, 6000 + n)
                finally:
                    await browser.close()


async def _walk(browser, base, issuer, request_id: str, width: str, size, rent: int) -> None:
    social, page = await _login(browser, base, issuer, "malmo", size)
    await page.goto(f"{base}/socialtjanst/arenden/{request_id}")
    await page.get_by_role("link", name="Ny bostad").last.click()
    await _check(page, f"onward-{width}-1-new")
    await page.get_by_label("Högsta hyra (kr/mån)").fill("8000")
    await page.get_by_role("button", name="Sök bostad").click()
    await page.wait_for_url(re.compile(r"/socialtjanst/bostad/[0-9a-f-]{36}$"))
    text = await page.locator("main").inner_text()
    assert "Erbjuden en lägenhet" in text and f"Umeå, 3 rum, {rent} kr/mån" in text and "Nya hemmet" not in text
    await _check(page, f"onward-{width}-2-offered")

    housing, staff_page = await _login(browser, base, issuer, "housing", size)
    await _check(staff_page, f"onward-{width}-3-apartments")
    await staff_page.get_by_role("link", name="Bostadserbjudanden").click()
    await _check(staff_page, f"onward-{width}-4-housing-offers")
    offer = staff_page.locator("section.card", has_text=f"Lgh MAL-HEM-{width == 'desktop' and 1 or 0}")
    await offer.get_by_label("Inflyttning").fill((dt.date.today() + dt.timedelta(days=7)).isoformat())
    await offer.get_by_role("button", name="Acceptera").click()
    assert "Socialtjänsten kan nu se adressen" in await staff_page.get_by_role("status").inner_text()

    await page.reload()
    assert "Kontrakt klart" in await page.locator("main").inner_text()
    await page.get_by_label("Planera flytten").check()
    await page.get_by_role("button", name="Visa adress och kontakt").click()
    assert f"Nya hemmet {rent}" in await page.locator("main").inner_text()
    await _check(page, f"onward-{width}-5-address")
    for context in (social, housing):
        await context.close()
