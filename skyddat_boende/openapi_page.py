"""The operations table at /schema: plain server-side HTML, no JavaScript, nothing from a CDN; the
interactive reference beside it is /schema/reference (skyddat_boende/reference_page.py). The router carries
the pages' security headers (`schema_router`); the style is a static file, since the Content-Security-Policy
allows no inline style."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin

from skyddat_boende.reference_page import reference_asset
from skyddat_boende.web.common import security_headers_middleware

METHODS = ("get", "post", "put", "patch", "delete")


def schema_router(path: str) -> Router:
    """The router Litestar adds the reference and the JSON document to: the same security headers as
    every page (CSP, frame-ancestors and X-Frame-Options, nosniff, Referrer-Policy, no-store), and the
    interactive reference's files."""
    return Router(path, route_handlers=[reference_asset], include_in_schema=False,
                  middleware=[security_headers_middleware])


class PlainHtmlRenderPlugin(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        rows = []
        for path, item in sorted(openapi_schema.get("paths", {}).items()):
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                access = operation.get("x-access", "")
                rows.append(
                    f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
                    f"<td>{escape(operation.get('summary', ''))}</td><td>{escape(str(access))}</td></tr>"
                )
        json_url = escape(self.get_openapi_json_route(request))
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(info.get("title", "API"))}</title>
<link rel="stylesheet" href="/static/schema.css">
</head><body>
<h1>{escape(info.get("title", "API"))} <small>{escape(info.get("version", ""))}</small></h1>
<p>{escape(info.get("description", ""))}</p>
<p>Machine-readable document: <a href="{json_url}">{json_url}</a> (OpenAPI {escape(openapi_schema.get("openapi", ""))}).</p>
<p><a href="/schema/reference">Interactive reference</a>: every operation with its parameters, bodies,
schemas, enums and a worked example, and a form to try it with your token.</p>
<p>Guides: <a href="/schema/guide">partner guide</a> · <a href="/schema/feeds">pull feeds</a> ·
<a href="/schema/webhooks">webhooks</a>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Access</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>"""
        return page.encode()
