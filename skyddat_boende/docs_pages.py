"""The partner documentation (api_docs/*.md) as pages next to the API reference: /schema/guide,
/schema/feeds, /schema/webhooks. Rendered once at start-up with markdown-it-py (raw HTML in the
Markdown is escaped, not passed through), served by the schema router with the pages' security
headers; links between the documents point at their pages."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin
from markdown_it import MarkdownIt

PAGES = {"guide": "guide.md", "feeds": "feeds.md", "webhooks": "webhooks.md"}
_MD_LINK = re.compile(r'href="(guide|feeds|webhooks)\.md(#[^"]*)?"')


def render_markdown(text: str) -> str:
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    return _MD_LINK.sub(lambda m: f'href="/schema/{m.group(1)}{m.group(2) or ""}"', html)


class DocPagePlugin(OpenAPIRenderPlugin):
    """One document at /schema/<name>; a document missing from `docs_dir` is a short page saying so."""

    def __init__(self, name: str, docs_dir: Path) -> None:
        super().__init__(path=f"/{name}")
        source = docs_dir / PAGES[name]
        text = source.read_text(encoding="utf-8") if source.is_file() else f"# {name}\n\nNot installed here."
        title = text.splitlines()[0].lstrip("# ").strip() if text else name
        self._page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/static/schema.css">
</head><body>
<nav><a href="/schema">API reference</a> · {" · ".join(f'<a href="/schema/{p}">{p}</a>' for p in PAGES)}</nav>
<main>{render_markdown(text)}</main>
</body></html>""".encode()

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return self._page


def doc_page_plugins(docs_dir: Path) -> list[DocPagePlugin]:
    return [DocPagePlugin(name, docs_dir) for name in PAGES]
