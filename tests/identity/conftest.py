from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from skyddat_boende.identity import TokenVerifier, TrustedIssuer
from skyddat_boende.identity.dev_issuer import DevIssuer
from tests.identity.support import FakeClock, JsonServer, trusted

@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[DevIssuer]:
    """Malmö's identity provider: a real HTTP discovery + JWKS server on 127.0.0.1."""
    with DevIssuer(tmp_path / "malmo-keys") as dev:
        yield dev


@pytest.fixture
def other_issuer(tmp_path: Path) -> Iterator[DevIssuer]:
    """Stockholm's identity provider."""
    with DevIssuer(tmp_path / "stockholm-keys") as dev:
        yield dev


@pytest.fixture
def attacker(tmp_path: Path) -> Iterator[DevIssuer]:
    """An attacker's own issuer with its own key, served on another port."""
    with DevIssuer(tmp_path / "attacker-keys") as dev:
        yield dev


@pytest.fixture
def json_server() -> Iterator[JsonServer]:
    server = JsonServer()
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_verifier(http: httpx.AsyncClient, clock: FakeClock) -> Callable[..., TokenVerifier]:
    def make(*issuers: TrustedIssuer, now: Callable[[], float] = time.time, **kwargs: Any) -> TokenVerifier:
        return TokenVerifier(issuers, http, now, allow_development=True, monotonic=clock, **kwargs)

    return make


@pytest.fixture
def verifier(issuer: DevIssuer, make_verifier: Callable[..., TokenVerifier]) -> TokenVerifier:
    """Trusts Malmö's issuer for kommun-1280 only."""
    return make_verifier(trusted(issuer.url))
