"""The Litestar application: `create_app()` wires settings, the database pool, routes and error handling."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar, Router
from litestar.exceptions import NotFoundException
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send

from skyddat_boende import __version__, database, migrations, rate_limits, web
from skyddat_boende.access import authorize
from skyddat_boende.api import API_CONTROLLERS
from skyddat_boende.config import ConfigError, Settings
from skyddat_boende.dependencies import provide_connection
from skyddat_boende.health import HealthController
from skyddat_boende.statistics.open_data import OpenDataController
from skyddat_boende.identity import TokenVerifier, TrustedIssuer, load_trusted_issuers
from skyddat_boende.input_guard import input_guard_middleware
from skyddat_boende.jobs import Jobs
from skyddat_boende.matchmaking import adapter as matchmaking_adapter
from skyddat_boende.matchmaking import snapshot as unit_snapshot
from skyddat_boende.openapi_contract import ClosedStructSchemaPlugin
from skyddat_boende.docs_pages import doc_page_plugins
from skyddat_boende.openapi_page import PlainHtmlRenderPlugin, schema_router
from skyddat_boende.reference_page import ReferencePagePlugin
from skyddat_boende.problems import exception_handlers

log = logging.getLogger("skyddat_boende.http")

DESCRIPTION = (
    "Finds protected housing (skyddat boende) for people fleeing violence in close relationships and "
    "honour-related violence. For partner developers: the guide at /schema/guide."
)


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    """One log line a request: method, route template (not the raw path), status, duration."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            handler = scope.get("route_handler")
            log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": next(iter(handler.paths), None) if handler is not None else None,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    return middleware


def create_app(
    settings: Settings | None = None,
    database_url: str | None = None,
    trusted_issuers: list[TrustedIssuer] | None = None,
) -> Litestar:
    """The application. `database_url` is an already-resolved URL; without it the lifespan resolves
    one from settings (DATABASE_URL or the embedded server) and applies pending migrations.
    `trusted_issuers` defaults to the configured ones (SB_TRUSTED_ISSUERS)."""
    settings = settings or Settings()
    try:
        issuers = trusted_issuers if trusted_issuers is not None else load_trusted_issuers(settings.trusted_issuers_json)
    except ValueError as exc:
        raise ConfigError(f"trusted issuers: {exc}") from None
    if not settings.development and any(issuer.development for issuer in issuers):
        raise ConfigError("a development token issuer is configured, but SB_ENV is not 'development'")

    @asynccontextmanager
    async def database_lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        url = database_url or await database.resolve_database_url(settings.database_url, settings.embedded_pgdata)
        app.state.migrations = migrations.discover(settings.sql_dir)
        if database_url is None:
            conn = await database.connect(url)
            try:
                await migrations.migrate(conn, app.state.migrations)
            finally:
                await conn.close()
        app.state.pool = await database.create_pool(url, max_size=settings.db_pool_max, service_role=True,
                                                    require_service_role=not settings.development)
        http = httpx.AsyncClient(follow_redirects=False)
        app.state.verifier = TokenVerifier(
            issuers, http, allow_development=settings.development,
            min_refresh_interval=settings.jwks_min_refresh_seconds,
        )
        # counts have a pool of their own: one statement each, nothing to reset between them, and a burst
        # of calls waiting for a count does not take the connections the requests they admit need
        counts = await database.create_pool(url, max_size=rate_limits.POOL_SIZE, service_role=True,
                                            require_service_role=not settings.development, single_statements=True)
        app.state.rate_limiter = rate_limits.RateLimiter(
            counts, per_address=settings.rate_limit_per_address_per_minute,
            per_client=settings.rate_limit_per_minute, pool_wait=settings.db_pool_wait_seconds)
        async with app.state.pool.acquire() as conn:
            app.state.places = await matchmaking_adapter.municipalities(conn)
        app.state.unit_snapshot = unit_snapshot.UnitSnapshot(app.state.pool, url, app.state.places,
                                                             settings.stale_after_hours)
        await app.state.unit_snapshot.start()
        unit_snapshot.register(app.state.places, app.state.unit_snapshot)
        # a web process serves requests only, unless it is the demo or a small install's only process
        app.state.jobs = Jobs(app.state.pool, settings, app.state.places) if settings.run_jobs else None
        app.state.webhook_worker = app.state.jobs.webhooks if app.state.jobs else None
        if app.state.jobs:
            app.state.jobs.start()
        try:
            yield
        finally:
            if app.state.jobs:
                await app.state.jobs.stop()
            unit_snapshot.unregister(app.state.places)
            await app.state.unit_snapshot.stop()
            await http.aclose()
            await counts.close()
            await app.state.pool.close()

    pages = web.Pages(settings)  # the web pages: session, CSRF, templates (skyddat_boende/web)
    return Litestar(
        route_handlers=[HealthController, OpenDataController,
                        Router("/api", route_handlers=API_CONTROLLERS, guards=[authorize]),
                        *pages.handlers],
        template_config=pages.template_config,
        dependencies={"db": Provide(provide_connection)},
        lifespan=[database_lifespan],
        state=State({"settings": settings}),
        exception_handlers={**exception_handlers, NotFoundException: web.common.handle_unrouted},
        plugins=[ClosedStructSchemaPlugin()],
        middleware=[access_log_middleware, input_guard_middleware, pages.session_middleware],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="skyddat-boende",
            version=__version__,
            description=DESCRIPTION,
            openapi_router=schema_router("/schema"),
            render_plugins=[PlainHtmlRenderPlugin(), ReferencePagePlugin(), JsonRenderPlugin(path="/openapi.json"),
                            *doc_page_plugins(settings.docs_dir)],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", bearer_format="JWT",
                        description="An OAuth 2.0 access token (RFC 9068 at+jwt) from a trusted issuer.",
                    )
                }
            ),
        ),
        debug=False,
    )
