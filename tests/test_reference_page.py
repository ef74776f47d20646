"""The interactive API reference (/schema/reference): its script and style come from the service itself
(the swagger-ui-py package's files, byte for byte), nothing inline and nothing from another origin, under
the pages' security headers; only the distribution's two files are served; /schema links it and the
guide page, never a file path, and the JSON files the guides link are served beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skyddat_boende.reference_page import ASSET_DIR
from skyddat_boende.web.common import SECURITY_HEADERS
from tests.helpers import REPO_ROOT

EXPECTED = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}


def _same_headers(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (str(response.url), name)


async def test_reference_page_loads_its_script_and_style_from_the_service(client):
    page = await client.get("/schema/reference")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    _same_headers(page)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>", page.text)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert scripts and all('src="/' in attributes for attributes in scripts), "no inline script"
    assert "<style" not in page.text and " style=" not in page.text
    sources = [re.search(r'src="([^"]+)"', s).group(1) for s in scripts] + styles
    assert "/schema/assets/swagger-ui-bundle.js" in sources and "/schema/assets/swagger-ui.css" in sources
    for source in sources:
        assert source.startswith("/") and not source.startswith("//"), f"{source} is not the service's own"
        asset = await client.get(source)
        assert asset.status_code == 200, source
        if source.startswith("/schema/"):
            _same_headers(asset)
    bundle = await client.get("/schema/assets/swagger-ui-bundle.js")
    assert bundle.content == (ASSET_DIR / "swagger-ui-bundle.js").read_bytes(), "served from the package"
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert 'data-openapi-url="/schema/openapi.json"' in page.text


@pytest.mark.parametrize("name", ["swagger-editor-bundle.js", "index.html", "LICENSE", "swagger-ui.js.map"])
async def test_only_the_reference_files_are_served(client, name):
    """Input: other files of the package: 404, with the pages' headers; and paths out of its directory."""
    response = await client.get(f"/schema/assets/{name}")
    assert response.status_code == 404
    _same_headers(response)
    for escape in ("..%2F__init__.py", "..%2F..%2Fcore.py", "%2E%2E/static/LICENSE"):
        assert (await client.get(f"/schema/assets/{escape}")).status_code == 404, escape


async def test_schema_table_links_the_reference_and_the_guide_page(client):
    table = (await client.get("/schema")).text
    assert 'href="/schema/reference"' in table and 'href="/schema/guide"' in table
    assert "guide.md" not in table and "api_docs/" not in table
    document = (await client.get("/schema/openapi.json")).json()
    assert "/schema/guide" in document["info"]["description"] and "guide.md" not in document["info"]["description"]


@pytest.mark.parametrize("page, linked", [("feeds", "feed.schema.json"), ("feeds", "feed-example.json"),
                                          ("guide", "trusted-issuer.example.json")])
async def test_files_the_guides_link_are_served_beside_them(client, page, linked):
    """A partner reading /schema/feeds or /schema/guide follows a relative link to a JSON file: it is
    served at /schema/<file>, the file in api_docs/, with the pages' headers."""
    html = (await client.get(f"/schema/{page}")).text
    assert f'href="{linked}"' in html, "the page links the file relative to itself"
    served = await client.get(f"/schema/{linked}")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/json")
    assert served.content == (Path(REPO_ROOT) / "api_docs" / linked).read_bytes()
    _same_headers(served)
