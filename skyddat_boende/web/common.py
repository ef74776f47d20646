"""What every page shares: rendering with the language and flash messages, security headers, and the
HTML answers for errors (the API answers problem+json; pages answer pages)."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    NotAuthorizedException,
    PermissionDeniedException,
)
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from skyddat_boende.privacy import PersonalNumberRejected
from skyddat_boende import problems
from skyddat_boende.problems import Problem
from skyddat_boende.web.i18n import language_of, translate

log = logging.getLogger(__name__)
#: Paths that are no page: an unknown one answers problem+json, as the API does.
MACHINE_PATHS = ("^/api(/|$)", "^/health$", "^/ready$", "^/schema", "^/static/", "^/openapi")

#: Nothing from elsewhere, no inline script or style; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"cache-control", b"no-store"),  # pages show case data: never cached, not even the back-forward cache
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    """Every page response (errors too) gets the CSP and `Cache-Control: no-store`."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        await app(scope, receive, with_headers)

    return middleware


def lang(request: Request) -> str:
    return language_of(request.session if "session" in request.scope else None,
                       request.headers.get("accept-language", ""))


def flash(request: Request, key: str, kind: str = "ok", **values: Any) -> None:
    """A message for the next page (after the redirect of a form post), in the reader's language."""
    request.session["flash"] = {"text": translate(lang(request), key, **values), "kind": kind}


class Refused(Exception):
    """A form post that could not be carried out: the request's transaction rolls back (the exception
    leaves the handler), and the person is sent to `path` with the message `key`."""

    def __init__(self, path: str, key: str) -> None:
        super().__init__(key)
        self.path, self.key = path, key


def handle_refused(request: Request, exc: Refused) -> Response:
    flash(request, exc.key, "error")
    return back(exc.path)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    message = request.session.pop("flash", None) if "session" in request.scope else None
    organisation_name = getattr(request.state, "organisation_name", None)
    return Template(template_name=template, status_code=status_code,
                    context={"flash": message, "lang": lang(request), "organisation_name": organisation_name,
                             **context})


async def remember_organisation_name(request: Request) -> None:
    """The signed-in person's organisation by its name ("Malmö stad"), for the page header."""
    user = request.scope.get("user")
    if user is None:
        return
    async with request.app.state.pool.acquire() as conn:
        request.state.organisation_name = await conn.fetchval(
            "select display_name from organisation where id = $1", user.organisation_id)


def back(path: str) -> Redirect:
    """After a form post: see the result with a GET (303), so a reload never posts twice."""
    return Redirect(path=path, status_code=303)


def _error_page(request: Request, status: int, detail_key: str | None = None) -> Response:
    key = f"error_title_{status}"
    title = translate(lang(request), key if key in _KNOWN_TITLES else "error_title_500")
    try:
        return page(request, "error.html", status_code=status, title=title,
                    detail=translate(lang(request), detail_key or "error_generic"))
    except Exception:  # the error page itself failed: a plain answer, never a loop
        return Response(title, status_code=status, media_type="text/plain")


_KNOWN_TITLES = {f"error_title_{s}" for s in (401, 403, 404, 409, 422, 429, 500)}


def handle_not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    """No valid session: log in first, then come back here (GET pages only)."""
    if request.method == "GET":
        from urllib.parse import urlencode

        return Redirect(path="/login?" + urlencode({"next": request.url.path}), status_code=303)
    return _error_page(request, 401)


def handle_denied(request: Request, exc: PermissionDeniedException) -> Response:
    return _error_page(request, 403, "error_403")


def handle_problem(request: Request, exc: Problem) -> Response:
    if isinstance(exc, PersonalNumberRejected):
        return _error_page(request, exc.status, "error_personal_number")
    return _error_page(request, exc.status, "error_404" if exc.status == 404 else None)


def handle_http(request: Request, exc: HTTPException) -> Response:
    return _error_page(request, exc.status_code, "error_404" if exc.status_code == 404 else None)


def handle_unrouted(request: Request, exc: NotFoundException) -> Response:
    """No route for the path: a browser (asking for HTML) outside the API's paths gets a page in the
    reader's language, with the pages' headers; every other client gets problem+json as before."""
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html or any(re.match(pattern, request.url.path) for pattern in MACHINE_PATHS):
        return problems.handle_http(request, exc)
    response = _error_page(request, 404, "error_404")
    response.headers.update({name.decode(): value.decode() for name, value in SECURITY_HEADERS})
    return response


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on a page", extra={"error_type": type(exc).__name__},
              exc_info=exc if request.app.state.settings.development else None)
    return _error_page(request, 500, "error_500")


EXCEPTION_HANDLERS = {
    Refused: handle_refused,
    NotAuthorizedException: handle_not_authorized,
    PermissionDeniedException: handle_denied,
    Problem: handle_problem,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
