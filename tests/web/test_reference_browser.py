"""The interactive API reference in a real browser: Swagger UI renders the operations, with their worked
examples, from the service's own files, and the browser reports no Content-Security-Policy violation
and fetches nothing from another origin."""

from __future__ import annotations

import pytest

from tests.helpers import running_server
from tests.web.test_web_pages import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)")


async def test_reference_renders_the_operations_without_csp_violations(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "SB_ENV": "development", "SB_DATA_DIR": str(tmp_path),
           "SB_BATCH_INTERVAL_MINUTES": "0"}
    with running_server(env) as base:
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = await browser.new_page()
                requested, problems = [], []
                page.on("request", lambda r: requested.append(r.url))
                page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
                await page.goto(base + "/schema/reference")
                await page.wait_for_selector(".opblock", timeout=15_000)
                operations = await page.locator(".opblock").count()
                assert operations >= 30, f"{operations} operations rendered"
                create = page.locator(".opblock-post", has_text="/api/requests").first
                await create.locator(".opblock-summary").click()
                await page.wait_for_selector("text=MAL-2027-0042", timeout=5_000)  # the worked example
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "18-api-reference.png"))
                assert all(url.startswith(base) for url in requested), [u for u in requested if not u.startswith(base)]
                assert not [p for p in problems if "script" in p], problems
            finally:
                await browser.close()
