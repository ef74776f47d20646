"""The web pages: server-rendered (Jinja2), Swedish first with an English switch, no front-end build and
nothing loaded from elsewhere. Pages use the API's repositories, services, token verifier and access
rules; only the way in differs (a session cookie from an OpenID Connect login instead of a bearer token).

`Pages(settings)` holds what `create_app` registers, outside `/api`.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from skyddat_boende.config import Settings
from skyddat_boende.identity.issuers import is_loopback_host
from skyddat_boende.web import common, i18n
from skyddat_boende.web.auth import PUBLIC, LoginController, authorize_page
from skyddat_boende.web.followup import FollowUpPages
from skyddat_boende.web.home import HomePage
from skyddat_boende.web.housing import HousingStaffPages
from skyddat_boende.web.onward import OnwardPages
from skyddat_boende.web.social import SocialWorkerPages
from skyddat_boende.web.staff import ShelterStaffPages

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SESSION_COOKIE = "sb_session"
CSRF_COOKIE = "sb_csrf"
#: Paths the session cookie is neither read nor written on: the API (bearer tokens only) and the rest.
NOT_PAGES = ["^/api/", "^/api$", "^/health$", "^/ready$", "^/schema", "^/static/"]


def secure_cookies(settings: Settings) -> bool:
    """Secure unless the service is reached on this machine only (http://127.0.0.1 or localhost)."""
    host = urlsplit(settings.public_url).hostname if settings.public_url else settings.host
    return not is_loopback_host(host)


def _keys(settings: Settings) -> tuple[bytes, str]:
    """(session cookie key, CSRF signing secret), both derived from SB_SESSION_SECRET (or a random one)."""
    root = bytes.fromhex(settings.session_secret) if settings.session_secret else secrets.token_bytes(32)
    session_key = hashlib.sha256(b"skyddat-boende session\x00" + root).digest()
    csrf_secret = hashlib.sha256(b"skyddat-boende csrf\x00" + root).hexdigest()
    return session_key, csrf_secret


class Pages:
    """Everything `create_app` registers for the pages: `handlers` (the page router with CSRF, security
    headers and HTML errors, and the static files), `session_middleware` (app level, because Litestar copies
    routers and the cookie cipher cannot be copied; it skips every path that is not a page) and
    `template_config`."""

    def __init__(self, settings: Settings) -> None:
        secure = secure_cookies(settings)
        session_key, csrf_secret = _keys(settings)
        self.session_middleware = CookieBackendConfig(
            secret=session_key, key=SESSION_COOKIE, httponly=True, samesite="lax", secure=secure,
            max_age=settings.session_minutes * 60, exclude=NOT_PAGES,
        ).middleware
        csrf = CSRFConfig(secret=csrf_secret, cookie_name=CSRF_COOKIE, cookie_secure=secure,
                          cookie_httponly=True, cookie_samesite="lax")
        pages = Router(
            path="/",
            route_handlers=[HomePage, LoginController, ShelterStaffPages, SocialWorkerPages, FollowUpPages,
                             HousingStaffPages, OnwardPages],
            guards=[authorize_page],
            before_request=common.remember_organisation_name,
            middleware=[common.security_headers_middleware, DefineMiddleware(CSRFMiddleware, config=csrf)],
            exception_handlers=common.EXCEPTION_HANDLERS,
            opt={"audit_namespace": "web"},
            include_in_schema=False,
        )
        static = create_static_files_router(
            path="/static", directories=[STATIC], name="static", include_in_schema=False, opt=PUBLIC,
            cache_control=CacheControlHeader(max_age=3600),
        )
        self.handlers: list[Any] = [pages, static]
        self.template_config = template_config()


def template_config() -> TemplateConfig:
    def setup(engine: JinjaTemplateEngine) -> None:
        def t(context, key: str, **values: Any) -> str:
            return i18n.translate(context.get("lang", i18n.DEFAULT_LANGUAGE), key, **values)

        def rule(context, name: str) -> str:
            return i18n.rule_text(context.get("lang", i18n.DEFAULT_LANGUAGE), name)

        def tn(context, key: str, n: int, **values: Any) -> str:
            return i18n.translate_count(context.get("lang", i18n.DEFAULT_LANGUAGE), key, n, **values)

        def shown_status(context, unit: Any) -> str:
            return i18n.shown_status(unit.status, unit.beds_taken, unit.beds)

        engine.register_template_callable("t", t)
        engine.register_template_callable("tn", tn)
        engine.register_template_callable("shown_status", shown_status)
        engine.register_template_callable("rule_text", rule)

    return TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=setup)
