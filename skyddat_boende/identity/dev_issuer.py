"""A development OpenID issuer: discovery + JWKS on localhost, and tokens.

For local use and tests only: importing it outside SB_ENV=development raises
`DevelopmentOnly`, so a production process can neither serve it nor mint with
it. It binds only to a loopback address, keeps its
private signing keys as JWK JSON in a directory of its own (mode 0700, files
0600), and mints RFC 9068 access tokens (``typ: at+jwt``). A service trusts it
only through a `TrustedIssuer` with ``development: true``, which
`TokenVerifier` refuses unless told ``allow_development=True``.

Login for the web pages (development only): ``/authorize`` shows a page of test
personas and answers with an authorization code; ``/token`` exchanges the code
(PKCE S256 required) for an at+jwt access token and an id_token. Redirect URIs
must be http(s) on loopback.

Key rotation: `rotate_key()` adds a new signing key and keeps the old ones
published so that tokens already issued stay valid; `remove_key()` withdraws
one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import ipaddress
import json
import secrets
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, JWKRegistry, Key, RSAKey

from .issuers import is_loopback_host, is_valid_organisation_id
from .principal import HOUSING_STAFF, NATIONAL_FOLLOWUP, ROLES, SHELTER_STAFF, SOCIAL_WORKER


class DevelopmentOnly(ImportError):
    """This module mints tokens; a process not started with SB_ENV=development must not have it."""



if os.environ.get("SB_ENV") != "development":
    # Refused at import, before anything below is defined: a production install ships this file, so the
    # environment is what keeps it inert there (the CLI's dev-issuer, token and --demo all import it).
    raise DevelopmentOnly("the development token issuer is for development only; set SB_ENV=development")


KEYS_FILE: Final = "keys.json"
ISSUER_FILE: Final = "issuer.json"
DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
JWKS_PATH: Final = "/jwks.json"
DEFAULT_CLIENT_ID: Final = "skyddat-boende-dev"
DEFAULT_AUDIENCE: Final = "skyddat-boende"
AUTHORIZE_PATH: Final = "/authorize"
TOKEN_PATH: Final = "/token"
CODE_LIFETIME: Final = 60
LOGIN_TOKEN_LIFETIME: Final = 3600

KeyType = Literal["EC", "RSA"]
_ALG_FOR: Final[dict[str, str]] = {"EC": "ES256", "RSA": "RS256"}


class DevKeyStore:
    """Private signing keys in ``<key_dir>/keys.json``; the newest is active."""

    def __init__(self, key_dir: str | os.PathLike[str]) -> None:
        self.key_dir = Path(key_dir)
        if self.key_dir.exists():
            if not self.key_dir.is_dir():
                raise ValueError(f"{self.key_dir} is not a directory")
            if self.key_dir.stat().st_mode & 0o077:
                raise ValueError(f"key directory {self.key_dir} must be private to its owner (chmod 700)")
        else:
            self.key_dir.mkdir(mode=0o700, parents=True)
            os.chmod(self.key_dir, 0o700)  # mkdir's mode is subject to the umask
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.key_dir / KEYS_FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"keys": []}
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError(f"{self.path} is not a key file")
        return data

    def _write(self, data: Mapping[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.key_dir, prefix=".keys-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp creates it 0600
                json.dump(data, f, indent=2)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def private_keys(self) -> list[Key]:
        """All keys, oldest first; the last one signs."""
        with self._lock:
            return [JWKRegistry.import_key(k) for k in self._read()["keys"]]

    def active_key(self, create: KeyType = "EC") -> Key:
        """The signing key, created if the store is empty."""
        with self._lock:
            keys = self._read()["keys"]
            if keys:
                return JWKRegistry.import_key(keys[-1])
        self.add_key(create)
        return self.active_key(create)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False, use="sig", alg=_ALG_FOR[k.key_type]) for k in self.private_keys()]}

    def add_key(self, key_type: KeyType = "EC") -> str:
        """Generate a new signing key; it becomes the active one. Returns its kid."""
        if key_type == "EC":
            key: Key = ECKey.generate_key("P-256", auto_kid=True)
        elif key_type == "RSA":
            key = RSAKey.generate_key(2048, auto_kid=True)
        else:
            raise ValueError(f"unsupported key type {key_type!r}")
        with self._lock:
            data = self._read()
            data["keys"].append(key.as_dict(private=True))
            self._write(data)
        assert key.kid is not None
        return key.kid

    def remove_key(self, kid: str) -> None:
        with self._lock:
            data = self._read()
            remaining = [k for k in data["keys"] if k.get("kid") != kid]
            if len(remaining) == len(data["keys"]):
                raise KeyError(kid)
            data["keys"] = remaining
            self._write(data)


def mint_token(
    key: Key,
    *,
    issuer: str,
    audience: str | list[str],
    subject: str,
    client_id: str,
    org: str | None,
    roles: Iterable[str] = (),
    scopes: Iterable[str] = (),
    lifetime: int = 300,
    now: float | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    typ: str = "at+jwt",
) -> str:
    """A signed RFC 9068 access token.

    ``org`` goes in the ``org`` claim, ``roles`` in ``roles`` and ``scopes``
    as a space-delimited ``scope``; ``extra_claims`` are added last.
    """
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if org is not None:
        claims["org"] = org
    roles = list(roles)
    if roles:
        claims["roles"] = roles
    scopes = list(scopes)
    if scopes:
        claims["scope"] = " ".join(scopes)
    if extra_claims:
        claims.update(extra_claims)
    alg = _ALG_FOR[key.key_type]
    header = {"alg": alg, "kid": key.kid, "typ": typ}
    return jwt.encode(header, claims, key, algorithms=[alg])


def _loopback_bind_address(host: str) -> tuple[str, socket.AddressFamily]:
    if not is_loopback_host(host):
        raise ValueError(f"the development issuer binds only to a loopback address, not {host!r}")
    if host.lower() == "localhost":
        return "127.0.0.1", socket.AF_INET
    address = ipaddress.ip_address(host)
    return str(address), socket.AF_INET6 if address.version == 6 else socket.AF_INET


@dataclass(frozen=True)
class Persona:
    """A test person the login page offers: who they are in the service (role at organisation)."""

    key: str
    label: str
    role: str
    org: str

    @property
    def subject(self) -> str:
        return f"dev-{self.key}"


def demo_personas(operators: Iterable[str] = ("operator-demo-1", "operator-demo-2")) -> list[Persona]:
    """A social worker in Malmö and one in Stockholm, staff at each operator, a housing provider's staff,
    national follow-up."""
    people = [
        Persona("malmo", "Socialsekreterare, Malmö kommun (kommun-1280)", SOCIAL_WORKER, "kommun-1280"),
        Persona("stockholm", "Socialsekreterare, Stockholms kommun (kommun-0180)", SOCIAL_WORKER, "kommun-0180"),
    ]
    for i, operator in enumerate(operators, start=1):
        people.append(Persona(f"staff-{i}", f"Personal på skyddat boende ({operator})", SHELTER_STAFF, operator))
    people.append(Persona("housing", "Bostadsförmedlare, Demo Bostäder Stockholm (housing-demo-1)", HOUSING_STAFF,
                          "housing-demo-1"))
    people.append(Persona("followup", "Nationell uppföljning (nat-socialstyrelsen)", NATIONAL_FOLLOWUP,
                          "nat-socialstyrelsen"))
    return people


class LoginError(ValueError):
    """An authorization or token request the development issuer refuses (an OAuth error code)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


LOGIN_STYLE: Final = (
    "body{font:1.0625rem/1.5 system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}"
    "button{font:inherit;display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem;"
    "border:2px solid #1d4f91;border-radius:.375rem;background:#fff;color:#1d4f91;cursor:pointer}"
    "button:focus,button:hover{background:#1d4f91;color:#fff;outline:3px solid #f0b400}"
)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _loopback_redirect(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname) and not parts.fragment


class DevIssuer:
    """Serves discovery and JWKS for keys in ``key_dir`` on a loopback port.

    ``port=0`` picks a free port; `url` (the issuer identifier) is known after
    `start()`. `request_log` records each request path (for tests).
    """

    def __init__(
        self,
        key_dir: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        key_type: KeyType = "EC",
        personas: Iterable[Persona] | None = None,
    ) -> None:
        self._host, self._family = _loopback_bind_address(host)
        #: Who may log in on the /authorize page (development only).
        self.personas: list[Persona] = list(personas) if personas is not None else demo_personas()
        self._codes: dict[str, dict[str, Any]] = {}
        self._codes_lock = threading.Lock()
        self._port = port
        self.store = DevKeyStore(key_dir)
        self.store.active_key(create=key_type)
        self._key_type = key_type
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self.request_log: list[str] = []
        self._log_lock = threading.Lock()
        self._lifecycle_lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------

    def start(self) -> str:
        if self._server is not None:
            raise RuntimeError("already started")
        issuer = self

        class Server(ThreadingHTTPServer):
            address_family = self._family
            daemon_threads = True

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                issuer._record(self.path)
                path, _, query = self.path.partition("?")
                if self.path == DISCOVERY_PATH:
                    self._json(200, issuer.discovery_document())
                elif self.path == JWKS_PATH:
                    self._json(200, issuer.store.public_jwks())
                elif path == AUTHORIZE_PATH:
                    params = _single_values(query)
                    try:
                        page = issuer.login_page(params)
                    except LoginError as exc:
                        self._page(400, issuer.error_page(exc))
                        return
                    self._page(200, page, redirect_uri=params.get("redirect_uri"))
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                issuer._record(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length > 16 * 1024:
                    self._json(413, {"error": "invalid_request"})
                    return
                form = _single_values(self.rfile.read(length).decode("utf-8", errors="replace"))
                if self.path == AUTHORIZE_PATH:
                    try:
                        location = issuer.authorize(form)
                    except LoginError as exc:
                        self._page(400, issuer.error_page(exc))
                        return
                    self.send_response(303)
                    self.send_header("Location", location)
                    self.send_header("Cache-Control", "no-store")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == TOKEN_PATH:
                    try:
                        self._json(200, issuer.exchange_code(form))
                    except LoginError as exc:
                        self._json(400, {"error": exc.error, "error_description": exc.description})
                else:
                    self._json(404, {"error": "not_found"})

            def _page(self, status: int, body: str, redirect_uri: str | None = None) -> None:
                data = body.encode()
                style = base64.b64encode(hashlib.sha256(LOGIN_STYLE.encode()).digest()).decode()
                form_action = "'self'"
                if redirect_uri and _loopback_redirect(redirect_uri):
                    parts = urlsplit(redirect_uri)
                    form_action += f" {parts.scheme}://{parts.netloc}"
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Security-Policy", f"default-src 'none'; style-src 'sha256-{style}'; "
                                 f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.wfile.write(data)

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = Server((self._host, self._port), Handler)
        self._url = self._format_url()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="dev-issuer", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def __enter__(self) -> DevIssuer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until interrupted (Ctrl-C)."""
        if self._thread is None:
            self.start()
        thread = self._thread
        try:
            while thread is not None and thread.is_alive():
                thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def url(self) -> str:
        """The issuer identifier, ``http://127.0.0.1:<port>`` (kept after `stop()`)."""
        if self._url is None:
            raise RuntimeError("not started")
        return self._url

    def _format_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        if self._family == socket.AF_INET6:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    # --- documents and tokens -------------------------------------------

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.url + JWKS_PATH,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "response_types_supported": ["code"],
            "authorization_endpoint": self.url + AUTHORIZE_PATH,
            "token_endpoint": self.url + TOKEN_PATH,
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid"],
        }

    # --- login (authorization code + PKCE), development only ---------------

    def _check_authorization_request(self, params: Mapping[str, str]) -> None:
        if params.get("response_type") != "code":
            raise LoginError("unsupported_response_type", "Only response_type=code is supported.")
        if not params.get("client_id"):
            raise LoginError("invalid_request", "client_id is missing.")
        if not _loopback_redirect(params.get("redirect_uri", "")):
            raise LoginError("invalid_request", "redirect_uri must be an http(s) URL on this machine.")
        if params.get("code_challenge_method") != "S256" or not 43 <= len(params.get("code_challenge", "")) <= 128:
            raise LoginError("invalid_request", "PKCE with code_challenge_method=S256 is required.")

    def login_page(self, params: Mapping[str, str]) -> str:
        """The persona picker: one button per test person, each a form carrying the request on."""
        self._check_authorization_request(params)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k in ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                     "code_challenge_method", "nonce", "scope")
        )
        buttons = "".join(
            f'<button type="submit" name="persona" value="{html.escape(p.key)}">{html.escape(p.label)}</button>'
            for p in self.personas
        )
        return (
            '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Testinloggning (utveckling)</title><style>{LOGIN_STYLE}</style></head><body><main>"
            "<h1>Testinloggning</h1><p>Utvecklingsinloggning: välj en testperson. "
            "<span lang=\"en\">Development login: choose a test persona.</span></p>"
            f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
            f'<fieldset><legend>Testpersoner</legend>{buttons}</fieldset></form></main></body></html>'
        )

    def error_page(self, error: LoginError) -> str:
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Login error</title></head>'
            f"<body><main><h1>Login error</h1><p>{html.escape(error.description)}</p></main></body></html>"
        )

    def authorize(self, form: Mapping[str, str]) -> str:
        """The persona was chosen: a one-time code, and the redirect back to the client."""
        self._check_authorization_request(form)
        persona = next((p for p in self.personas if p.key == form.get("persona")), None)
        if persona is None:
            raise LoginError("access_denied", "Unknown persona.")
        code = secrets.token_urlsafe(32)
        with self._codes_lock:
            now = time.time()
            self._codes = {k: v for k, v in self._codes.items() if v["expires"] > now}
            self._codes[code] = {
                "client_id": form["client_id"], "redirect_uri": form["redirect_uri"],
                "challenge": form["code_challenge"], "nonce": form.get("nonce"), "persona": persona,
                "expires": now + CODE_LIFETIME,
            }
        query = {"code": code}
        if form.get("state"):
            query["state"] = form["state"]
        separator = "&" if "?" in form["redirect_uri"] else "?"
        return form["redirect_uri"] + separator + urlencode(query)

    def exchange_code(self, form: Mapping[str, str]) -> dict[str, Any]:
        """RFC 6749 §4.1.3 with RFC 7636 PKCE (S256): each code once, within its lifetime."""
        if form.get("grant_type") != "authorization_code":
            raise LoginError("unsupported_grant_type", "Only authorization_code is supported.")
        with self._codes_lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant["expires"] < time.time():
            raise LoginError("invalid_grant", "The code is unknown, used or expired.")
        if form.get("client_id") != grant["client_id"] or form.get("redirect_uri") != grant["redirect_uri"]:
            raise LoginError("invalid_grant", "client_id or redirect_uri does not match the authorization request.")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or not secrets.compare_digest(_s256(verifier), grant["challenge"]):
            raise LoginError("invalid_grant", "The PKCE code_verifier does not match the code_challenge.")
        persona: Persona = grant["persona"]
        access = self.mint_token(subject=persona.subject, org=persona.org, roles=(persona.role,),
                                 client_id=grant["client_id"], lifetime=LOGIN_TOKEN_LIFETIME)
        id_claims: dict[str, Any] = {"auth_time": int(time.time())}
        if grant["nonce"]:
            id_claims["nonce"] = grant["nonce"]
        id_token = mint_token(self.active_key, issuer=self.url, audience=grant["client_id"], subject=persona.subject,
                              client_id=grant["client_id"], org=persona.org, roles=(persona.role,),
                              lifetime=LOGIN_TOKEN_LIFETIME, extra_claims=id_claims, typ="JWT")
        return {"access_token": access, "token_type": "Bearer", "expires_in": LOGIN_TOKEN_LIFETIME,
                "id_token": id_token, "scope": "openid"}

    def announce(self) -> None:
        """Record this issuer's URL in its key directory, where `issue_token` finds it."""
        _write_issuer_file(self.store.key_dir, self.url)

    def trusted_issuer_config(self, audience: str = DEFAULT_AUDIENCE) -> dict[str, Any]:
        """The `TrustedIssuer` entry (as JSON-ready dict) that trusts this issuer."""
        return {
            "issuer": self.url,
            "audience": audience,
            "organisations": ["*"],
            "development": True,
        }

    def rotate_key(self, key_type: KeyType | None = None) -> str:
        """Add a new signing key; old keys stay published. Returns the new kid."""
        return self.store.add_key(key_type or self._key_type)

    def remove_key(self, kid: str) -> None:
        """Stop publishing a key: tokens signed with it stop verifying."""
        self.store.remove_key(kid)

    @property
    def active_key(self) -> Key:
        return self.store.active_key()

    def published_kids(self) -> list[str]:
        return [k.kid for k in self.store.private_keys() if k.kid]

    def mint_token(
        self,
        *,
        subject: str,
        org: str | None,
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
        audience: str | list[str] = DEFAULT_AUDIENCE,
        client_id: str = DEFAULT_CLIENT_ID,
        lifetime: int = 300,
        now: float | None = None,
        extra_claims: Mapping[str, Any] | None = None,
        typ: str = "at+jwt",
    ) -> str:
        return mint_token(
            self.active_key,
            issuer=self.url,
            audience=audience,
            subject=subject,
            client_id=client_id,
            org=org,
            roles=roles,
            scopes=scopes,
            lifetime=lifetime,
            now=now,
            extra_claims=extra_claims,
            typ=typ,
        )

    def _record(self, path: str) -> None:
        with self._log_lock:
            self.request_log.append(path)

    def requests_to(self, path: str) -> int:
        with self._log_lock:
            return sum(1 for p in self.request_log if p == path)


def _single_values(query: str) -> dict[str, str]:
    """Form or query parameters; a parameter given twice is dropped (RFC 6749 §3.1)."""
    parsed = parse_qs(query, keep_blank_values=True, max_num_fields=32)
    return {k: v[0] for k, v in parsed.items() if len(v) == 1}


# --- entry points for the CLI ---------------------------------------------


def serve_dev_issuer(
    host: str,
    port: int,
    key_dir: str | os.PathLike[str],
    *,
    on_ready: Callable[[DevIssuer], None] | None = None,
) -> None:
    """Serve discovery and JWKS until interrupted.

    Writes the issuer URL to ``<key_dir>/issuer.json`` so that `issue_token`
    can find it; ``on_ready`` is called once the server listens (print the URL
    and `DevIssuer.trusted_issuer_config()` there).
    """
    issuer = DevIssuer(key_dir, host, port)
    issuer.start()
    try:
        issuer.announce()
        if on_ready is not None:
            on_ready(issuer)
        issuer.serve_forever()
    finally:
        issuer.stop()


def issue_token(
    key_dir: str | os.PathLike[str],
    issuer_url: str | None,
    audience: str,
    role: str | None,
    org: str,
    *,
    subject: str | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    scopes: Iterable[str] = (),
    lifetime: int = 3600,
) -> str:
    """A token signed with the development issuer's active key.

    ``issuer_url`` None means the URL a running `serve_dev_issuer` recorded in
    the key directory. ``role`` None makes a machine (client-credentials)
    token, whose subject is the client id.
    """
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose from {sorted(ROLES)}")
    if not is_valid_organisation_id(org):
        raise ValueError(f"{org!r} is not an organisation id (e.g. kommun-1280, operator-<name>)")
    store = DevKeyStore(key_dir)
    if issuer_url is None:
        issuer_url = _read_issuer_file(store.key_dir)
    if subject is None:
        subject = client_id if role is None else f"dev-{role}-{org}"
    return mint_token(
        store.active_key(),
        issuer=issuer_url,
        audience=audience,
        subject=subject,
        client_id=client_id,
        org=org,
        roles=() if role is None else (role,),
        scopes=scopes,
        lifetime=lifetime,
    )


def _write_issuer_file(key_dir: Path, url: str) -> None:
    path = key_dir / ISSUER_FILE
    path.write_text(json.dumps({"issuer": url}), encoding="utf-8")
    os.chmod(path, 0o600)


def _read_issuer_file(key_dir: Path) -> str:
    try:
        data = json.loads((key_dir / ISSUER_FILE).read_text(encoding="utf-8"))
        return str(data["issuer"])
    except (FileNotFoundError, KeyError, ValueError, TypeError) as error:
        raise ValueError(
            f"no issuer URL recorded in {key_dir}; start the development issuer first or pass the issuer URL"
        ) from error
