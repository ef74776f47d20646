"""Helpers for the identity tests: a scriptable JSON server on 127.0.0.1,
a fake monotonic clock, and hand-made (forged) JWS tokens."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import time
from typing import Any

from joserfc import jws
from joserfc.jwk import Key

from skyddat_boende.identity import TrustedIssuer
from skyddat_boende.identity.dev_issuer import DevIssuer

AUDIENCE = "https://skyddat-boende.test/api"
MALMO = "kommun-1280"
STOCKHOLM = "kommun-0180"

Response = tuple[int, bytes, dict[str, str]]


class JsonServer:
    """Serves whatever `routes` say, on 127.0.0.1 with a free port, and counts requests.

    Used for attackers' key servers and misbehaving identity providers.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[], Response]] = {}
        self.request_log: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.request_log.append(self.path)
                route = outer.routes.get(self.path)
                status, body, headers = route() if route else (404, b"{}", {})
                self.send_response(status)
                headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
                for name, value in headers.items():
                    if value:  # an empty value drops the header (e.g. no Content-Length)
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def json(self, path: str, document: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.routes[path] = lambda: (status, body, headers or {})

    def raw(self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.routes[path] = lambda: (status, body, headers or {})

    def serve_as_issuer(self, jwks: dict[str, Any], issuer: str | None = None) -> None:
        """Discovery + JWKS like an OpenID provider at `url` (or claiming `issuer`)."""
        self.json(
            "/.well-known/openid-configuration",
            {"issuer": issuer or self.url, "jwks_uri": self.url + "/jwks.json"},
        )
        self.json("/jwks.json", jwks)

    def count(self, path: str) -> int:
        return sum(1 for p in self.request_log if p == path)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj: Any) -> str:
    return b64(json.dumps(obj).encode())


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token with whatever header, claims and signature bytes we like."""
    return f"{b64json(header)}.{b64json(claims)}.{b64(signature)}"


def sign(header: dict[str, Any], claims: dict[str, Any] | bytes, key: Key) -> str:
    """A correctly signed JWS with an arbitrary header (jku, x5c, crit, ...).

    Built by hand so that no library check stands between the forger and the token.
    """
    payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    signing_input = f"{b64json(header)}.{b64(payload)}"
    algorithm = jws.JWSRegistry.algorithms[header["alg"]]
    return f"{signing_input}.{b64(algorithm.sign(signing_input.encode(), key))}"


def trusted(url: str, organisations: tuple[str, ...] = (MALMO,), **overrides: Any) -> TrustedIssuer:
    return TrustedIssuer(
        issuer=url, audience=AUDIENCE, organisations=organisations, development=True, **overrides
    )


def good_claims(dev: DevIssuer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": dev.url,
        "sub": "user-123",
        "aud": AUDIENCE,
        "client_id": "malmo-portal",
        "iat": now,
        "exp": now + 300,
        "org": MALMO,
        "roles": ["social_worker"],
        "scope": "placements:read placements:write",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def mint(dev: DevIssuer, **kwargs: Any) -> str:
    """A valid token from `dev` for Malmö's social worker, with overrides."""
    defaults: dict[str, Any] = {
        "subject": "user-123",
        "org": MALMO,
        "roles": ["social_worker"],
        "scopes": ["placements:read"],
        "audience": AUDIENCE,
        "client_id": "malmo-portal",
    }
    defaults.update(kwargs)
    return dev.mint_token(**defaults)
