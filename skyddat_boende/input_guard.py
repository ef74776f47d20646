"""One check of every write's input before any handler decodes it, API and web pages alike.

Every POST, PUT, PATCH and DELETE passes here (app-level middleware): its stored headers
(Idempotency-Key) and every text of its body, JSON or form, at any depth and in keys too.

- JSON nested deeper than `MAX_DEPTH` is refused (400) from the bytes, before anything decodes it
  (a decoder's recursion ends in RecursionError on a thousand brackets).
- U+0000 in any text is refused (400) with the field named: PostgreSQL text cannot hold it.
- Anything shaped like a personal identity number is refused (422; `skyddat_boende.privacy`), also
  when percent-encoded (a URL's query). Fields named like `*phone` get the phone rule. A page may
  instead show its form again with a message (`SHOWS_REFUSAL`, `refused_fields`): the long request
  form, so that a social worker does not lose what was typed.

A body that is not JSON is read as text, so a wrong Content-Type does not skip the check; the
handlers' own decoding then refuses it as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.types import ASGIApp, Receive, Scope, Send

from skyddat_boende import privacy
from skyddat_boende.problems import Problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STORED_HEADERS = ("idempotency-key",)
#: Form fields checked by the framework and never stored: the CSRF token is random and may hold any digits.
NOT_STORED_FIELDS = frozenset({"_csrf_token"})
FORMS = (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART)
#: The deepest body the API takes is 3 levels (a request's children); 32 leaves room and refuses abuse.
MAX_DEPTH = 32
#: A page's opt: it shows a refused form again itself (asking `refused_fields`), rather than an error page.
SHOWS_REFUSAL = "shows_personal_number_refusal"
REFUSED_FIELDS = "skyddat_boende.refused_fields"
_JSON_TOKENS = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)


class NestedTooDeep(Problem):
    status, slug, title = 400, "nested-too-deep", "JSON nested too deep"


class NulCharacter(Problem):
    status, slug, title = 400, "invalid-input", "Invalid input"


def input_guard_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in WRITE_METHODS:
            await check(Request(scope, receive))  # the body is kept in the scope for the handler
        await app(scope, receive, send)

    return middleware


async def check(request: Request) -> None:
    texts = [(name, text) for name in STORED_HEADERS for value in request.headers.getall(name, [])
             for text in (value, _as_utf8(value))]
    form = request.content_type[0] in FORMS
    if form:
        for key, value in (await request.form()).multi_items():  # keys too: a JSON body sent as a form
            texts.append((key, key))
            if isinstance(value, str) and key not in NOT_STORED_FIELDS:
                texts.append((key, value))
    else:
        texts += list(_body_texts(await request.body()))
    for field, text in texts:
        _refuse_nul(field, text)
    refused = {field for field, text in texts if _has_personal_number(field, text)}
    if refused and form and request.route_handler.opt.get(SHOWS_REFUSAL):
        request.scope.setdefault("state", {})[REFUSED_FIELDS] = refused
    elif refused:
        raise privacy.refuse()


def refused_fields(request: Request) -> set[str]:
    """For a page with `opt={SHOWS_REFUSAL: True}`: the form fields that hold a personal identity
    number. The page must show its form again without them and store nothing."""
    return request.scope.get("state", {}).get(REFUSED_FIELDS, set())


def _as_utf8(header_value: str) -> str:
    """Header bytes are read as latin-1; a client may have meant UTF-8 (a full-width digit, say)."""
    return header_value.encode("latin-1").decode("utf-8", errors="replace")


def _body_texts(body: bytes) -> Iterator[tuple[str, str]]:
    if not body.strip():
        return
    if nesting_depth(body) > MAX_DEPTH:
        raise NestedTooDeep(f"JSON bodies may nest at most {MAX_DEPTH} levels.")
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        yield "body", body.decode("utf-8", errors="replace")
        return
    yield from _texts("", value)


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of [ and { outside strings; quick when there are few brackets at all."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    in_string = False
    for token in _JSON_TOKENS.finditer(body):
        char = token.group()
        if char == b'"':
            in_string = not in_string
        elif in_string or len(char) == 2:
            continue
        elif char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        else:
            depth -= 1
    return deepest


def _texts(path: str, value: Any) -> Iterator[tuple[str, str]]:
    """(field path, text) for every string, key and number in a decoded JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, str(key)
            yield from _texts(inner, item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(f"{path}[{index}]", item)
    elif value is not None and not isinstance(value, bool):
        yield path or "body", str(value)


def _refuse_nul(field: str, text: str) -> None:
    if "\x00" in text:
        # the field's name, cut short, unless the name itself carries a number
        name = field.replace("\x00", "\\u0000")[:100]
        name = "body" if privacy.looks_like_personal_number(name) else name
        raise NulCharacter(f"{name} contains the character U+0000, which is not accepted.",
                           errors=[{"field": name, "message": "contains U+0000"}])


def _has_personal_number(field: str, text: str) -> bool:
    rule = privacy.phone_looks_like_personal_number if field.endswith("phone") else privacy.looks_like_personal_number
    return rule(text) or ("%" in text and rule(unquote(text)))
