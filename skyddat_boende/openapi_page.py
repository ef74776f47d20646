"""The rendered API reference at /schema: plain server-side HTML, no JavaScript, nothing from a CDN."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

METHODS = ("get", "post", "put", "patch", "delete")


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
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}}code{{font-size:.95em}}</style>
</head><body>
<h1>{escape(info.get("title", "API"))} <small>{escape(info.get("version", ""))}</small></h1>
<p>{escape(info.get("description", ""))}</p>
<p>Machine-readable document: <a href="{json_url}">{json_url}</a> (OpenAPI {escape(openapi_schema.get("openapi", ""))}).</p>
<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Access</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>"""
        return page.encode()
