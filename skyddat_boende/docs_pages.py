"""The partner documentation (api_docs/*.md) as pages next to the API reference: /schema/guide,
/schema/feeds, /schema/webhooks, and the JSON files they link (/schema/feed.schema.json and the
examples), so that a partner reading the pages needs no copy of the repository. Rendered once at start-up with markdown-it-py (raw HTML in the
Markdown is escaped, not passed through), served by the schema router with the pages' security
headers; links between the documents point at their pages."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from litestar import MediaType, Request
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from markdown_it import MarkdownIt

PAGES = {"guide": "guide.md", "feeds": "feeds.md", "webhooks": "webhooks.md"}
FILES = ("feed.schema.json", "feed-example.json", "trusted-issuer.example.json")
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


class DocFilePlugin(OpenAPIRenderPlugin):
    """One JSON file of `docs_dir` at /schema/<name>, read at start-up (404 if it is not installed)."""

    def __init__(self, name: str, docs_dir: Path) -> None:
        super().__init__(path=f"/{name}", media_type=MediaType.JSON)
        source = docs_dir / name
        self._body = source.read_bytes() if source.is_file() else None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        if self._body is None:
            raise NotFoundException()
        return self._body


def doc_page_plugins(docs_dir: Path) -> list[OpenAPIRenderPlugin]:
    return [*(DocPagePlugin(name, docs_dir) for name in PAGES), *(DocFilePlugin(name, docs_dir) for name in FILES)]
