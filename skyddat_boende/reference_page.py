"""The interactive API reference at /schema/reference: Swagger UI, whose files ship in the swagger-ui-py
package and are served by the service itself from /schema/assets/ (no CDN), under the pages'
Content-Security-Policy. The CSP allows no inline script, so the page starts Swagger UI from a static
file (/static/reference.js) that reads the document's address from the page."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import swagger_ui
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.response import File

#: The files of the Swagger UI distribution the page uses; nothing else in the package is served.
ASSET_DIR = Path(swagger_ui.__file__).parent / "static"
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}


@get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
def reference_asset(name: FromPath[str]) -> File:
    if name not in ASSETS:
        raise NotFoundException()
    return File(ASSET_DIR / name, media_type=ASSETS[name], content_disposition_type="inline")


class ReferencePagePlugin(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/reference")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(openapi_schema.get("info", {}).get("title", "API"))
        json_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: API reference</title>
<link rel="stylesheet" href="/schema/assets/swagger-ui.css">
</head><body>
<nav><a href="/schema">Operations</a> · <a href="/schema/guide">guide</a> · <a href="/schema/feeds">feeds</a> ·
<a href="/schema/webhooks">webhooks</a> · <a href="{json_url}">OpenAPI document</a></nav>
<div id="reference" data-openapi-url="{json_url}"></div>
<script src="/schema/assets/swagger-ui-bundle.js"></script>
<script src="/static/reference.js"></script>
</body></html>""".encode()
