"""Logging in to the pages: OpenID Connect authorization code flow with PKCE (authlib's client) against
the configured issuer. The session holds the access token, in an encrypted HttpOnly cookie; every page
verifies it with the API's TokenVerifier and applies the API's rules (access.admit), so pages and API
can never disagree about who may do what."""

from __future__ import annotations

import base64
import json
import hashlib
import logging
import secrets
import time
import warnings
from typing import Annotated, Any
from urllib.parse import urlencode

import asyncpg
import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():  # authlib 1.9 announces a future httpx2 move on import; nothing to act on yet
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect

from skyddat_boende.access import admit
from skyddat_boende.identity import InvalidToken, Principal, TrustedIssuer
from skyddat_boende.identity.issuers import check_url
from skyddat_boende.web.common import back, lang, page
from skyddat_boende.web.i18n import LANGUAGES, translate

log = logging.getLogger(__name__)

ACCESS_TOKEN = "access_token"
LOGIN = "oidc"
PUBLIC = {"public": True}
ID_TOKEN_ALGORITHMS = ["ES256", "RS256"]


async def authorize_page(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The guard of every page that is not public: the session's token, verified, then the page's rule."""
    if handler.opt.get("public"):
        return
    principal = await session_principal(connection)
    if principal is None:
        raise NotAuthorizedException("Log in first.")
    await admit(connection, handler, principal)


async def session_principal(connection: ASGIConnection) -> Principal | None:
    token = connection.session.get(ACCESS_TOKEN) if "session" in connection.scope else None
    if not isinstance(token, str):
        return None
    try:
        principal = await connection.app.state.verifier.verify(token)
    except InvalidToken as exc:
        log.info("session token rejected", extra={"reason": exc.reason})
        return None
    # the guard runs before the page takes its own connection, so this short one cannot starve the pool
    async with connection.app.state.pool.acquire(timeout=10) as conn:
        if await conn.fetchval("select 1 from ended_web_session where token_digest = $1", _digest(token)):
            return None
    return principal


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def forget_expired_sessions(conn: asyncpg.Connection) -> None:
    """Housekeeping: an ended session's token need not be remembered past its own expiry."""
    await conn.execute("delete from ended_web_session where expires_at < now()")


def _login_issuer(request: Request) -> TrustedIssuer | None:
    """SB_WEB_LOGIN_ISSUER among the trusted issuers, or the first trusted issuer."""
    issuers = request.app.state.verifier.issuers
    configured = request.app.state.settings.web_login_issuer
    if configured:
        return next((i for i in issuers if i.issuer == configured), None)
    return issuers[0] if issuers else None


def safe_next(value: str | None) -> str:
    """Only a path on this service (never //host or a scheme): no open redirect after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class LoginController(Controller):
    """/login starts the flow, /auth/callback finishes it, /logout ends the session."""

    opt = PUBLIC
    include_in_schema = False

    @get("/login", name="login")
    async def login(self, request: Request, next: FromQuery[str | None] = None) -> Redirect:  # noqa: A002
        issuer, client_id = _login_issuer(request), request.app.state.settings.web_client_id
        if issuer is None:
            raise NotAuthorizedException("No login issuer is configured.")
        metadata = await _metadata(request, issuer)
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        async with _client(request, client_id) as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        request.session[LOGIN] = {"state": state, "verifier": verifier, "nonce": nonce, "next": safe_next(next)}
        return Redirect(path=url, status_code=303)

    @get("/auth/callback", name="login_callback")
    async def callback(
        self, request: Request, code: FromQuery[str | None] = None,
        returned_state: Annotated[str | None, QueryParameter(name="state")] = None,
    ) -> Any:
        state = returned_state
        pending = request.session.pop(LOGIN, None)
        issuer, client_id = _login_issuer(request), request.app.state.settings.web_client_id
        if (not isinstance(pending, dict) or not code or not state or issuer is None
                or not secrets.compare_digest(state, pending.get("state", ""))):
            return _failed(request, "state", pending.get("next") if isinstance(pending, dict) else None)
        try:
            metadata = await _metadata(request, issuer)
            async with _client(request, client_id) as client:
                token = await client.fetch_token(metadata["token_endpoint"], code=code,
                                                 code_verifier=pending["verifier"])
            await _check_id_token(request, issuer, client_id, token.get("id_token"), pending["nonce"])
            principal = await request.app.state.verifier.verify(token["access_token"])
        except (InvalidToken, httpx.HTTPError, KeyError, ValueError, JoseError, AuthlibBaseError) as exc:
            # AuthlibBaseError: the issuer refused the code (invalid, used or expired: OAuthError)
            log.info("login failed", extra={"error_type": type(exc).__name__})
            return _failed(request, "exchange", pending.get("next"))
        lang = request.session.get("lang")
        request.session.clear()
        request.session.update({ACCESS_TOKEN: token["access_token"], "lang": lang if lang in LANGUAGES else "sv"})
        return back(pending["next"] if pending["next"] != "/" else home_of(principal))

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Redirect:
        """End the session here too: the token is remembered as ended, so a copy of the cookie is dead."""
        token = request.session.get(ACCESS_TOKEN)
        principal = await session_principal(request) if isinstance(token, str) else None
        if principal is not None:
            async with request.app.state.pool.acquire(timeout=10) as conn:
                await conn.execute(
                    """insert into ended_web_session (token_digest, expires_at) values ($1, to_timestamp($2))
                       on conflict do nothing""",
                    _digest(token), principal.expires_at,
                )
        lang = request.session.get("lang")
        request.session.clear()
        if lang:
            request.session["lang"] = lang
        return back("/")

    @post("/sprak", name="language")
    async def language(self, request: Request) -> Redirect:
        form = await request.form()
        chosen = form.get("lang")
        request.session["lang"] = chosen if chosen in LANGUAGES else "sv"
        return back(safe_next(form.get("next")))


def home_of(principal: Principal) -> str:
    if "social_worker" in principal.roles:
        return "/socialtjanst"
    if "shelter_staff" in principal.roles:
        return "/boende"
    if "national_followup" in principal.roles:
        return "/uppfoljning"
    if "housing_staff" in principal.roles:
        return "/bostad"
    return "/"


def _failed(request: Request, why: str, next_path: Any = None):
    """The login did not complete: a page saying so, with a link that starts a fresh login."""
    log.info("login refused", extra={"reason": why})
    language = lang(request)
    again = "/login?" + urlencode({"next": safe_next(next_path if isinstance(next_path, str) else None)})
    return page(request, "error.html", status_code=400, title=translate(language, "error_title_401"),
                detail=translate(language, "login_failed"), login_again=again)


def _redirect_uri(request: Request) -> str:
    base = request.app.state.settings.public_url or str(request.base_url).rstrip("/")
    return base + "/auth/callback"


def _client(request: Request, client_id: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client_id, token_endpoint_auth_method="none", redirect_uri=_redirect_uri(request),
        scope="openid", code_challenge_method="S256", timeout=10, follow_redirects=False,
    )


_METADATA: dict[str, tuple[float, dict[str, Any]]] = {}


async def _metadata(request: Request, issuer: TrustedIssuer) -> dict[str, Any]:
    """The issuer's discovery document (cached 10 minutes); its endpoints must be URLs we may call."""
    cached = _METADATA.get(issuer.issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    async with httpx.AsyncClient(timeout=10, follow_redirects=False) as http:
        response = await http.get(issuer.discovery_url)
        response.raise_for_status()
        metadata = response.json()
    if metadata.get("issuer") != issuer.issuer:
        raise ValueError("discovery document names another issuer")
    for endpoint in ("authorization_endpoint", "token_endpoint"):
        check_url(str(metadata.get(endpoint, "")), development=issuer.development, what=endpoint)
    _METADATA[issuer.issuer] = (time.monotonic() + 600, metadata)
    return metadata


async def _check_id_token(request: Request, issuer: TrustedIssuer, client_id: str, id_token: Any, nonce: str) -> None:
    """OIDC Core 3.1.3.7: signed by the issuer's key, for this client, with our nonce, not expired."""
    if not isinstance(id_token, str):
        raise ValueError("no id_token")
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    keys = await request.app.state.verifier.keys.get_keys(issuer.issuer, str(header.get("kid", "")))
    for key in keys:
        try:
            claims = jwt.decode(id_token, key, algorithms=ID_TOKEN_ALGORITHMS).claims
            break
        except JoseError:
            continue
    else:
        raise ValueError("id_token signature")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if (claims.get("iss") != issuer.issuer or client_id not in audiences or claims.get("nonce") != nonce
            or not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time() - 60):
        raise ValueError("id_token claims")
