"""Signing keys of trusted issuers, from their discovery document and JWKS.

Keys come only from ``<issuer>/.well-known/openid-configuration`` →
``jwks_uri``; never from a token. Per issuer the keys are cached; a token with
an unknown ``kid`` triggers a re-fetch, at most once per
``min_refresh_interval`` seconds, and concurrent refreshes share one fetch.
Keys older than ``max_key_age`` are re-fetched the same way, so a key the
issuer removed stops being accepted. If a re-fetch fails the previous keys are
kept, but never beyond ``max_stale_age``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

from ._json import loads_object
from .issuers import TrustedIssuer, check_url

log = logging.getLogger(__name__)

MIN_RSA_BITS: Final = 2048
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ASYMMETRIC_KTY: Final = frozenset({"RSA", "EC", "OKP"})
_MAX_KID_LENGTH: Final = 256


class KeyFetchError(Exception):
    """Discovery or JWKS could not be fetched or was unacceptable.

    The message names the failure kind only, never response content.
    """


@dataclass
class _IssuerState:
    config: TrustedIssuer
    keys: dict[str, list[Key]] = field(default_factory=dict)
    fetched_at: float | None = None
    attempted_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwksCache:
    """Public keys per trusted issuer, fetched over the given httpx client."""

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        http_client: httpx.AsyncClient,
        *,
        min_refresh_interval: float = 30.0,
        max_key_age: float = 3600.0,
        max_stale_age: float = 24 * 3600.0,
        timeout: float = 5.0,
        max_document_bytes: int = 64 * 1024,
        max_keys: int = 32,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http_client
        self._states: dict[str, _IssuerState] = {}
        for cfg in issuers:
            if cfg.issuer in self._states:
                raise ValueError(f"duplicate trusted issuer {cfg.issuer!r}")
            self._states[cfg.issuer] = _IssuerState(cfg)
        self.min_refresh_interval = min_refresh_interval
        self.max_key_age = max_key_age
        self.max_stale_age = max_stale_age
        self._timeout = timeout
        self._max_bytes = max_document_bytes
        self._max_keys = max_keys
        self._monotonic = monotonic

    def known_kids(self, issuer: str) -> frozenset[str]:
        """The key ids currently cached for an issuer (for diagnostics)."""
        return frozenset(self._states[issuer].keys)

    async def get_keys(self, issuer: str, kid: str) -> list[Key]:
        """Keys with this ``kid`` from the issuer's JWKS; empty if none.

        Refreshes first if the kid is unknown or the cache is old, subject
        to the rate limit.
        """
        state = self._states.get(issuer)
        if state is None:
            return []
        now = self._monotonic()
        if state.fetched_at is None or kid not in state.keys or now - state.fetched_at > self.max_key_age:
            await self._refresh(state)
        if state.fetched_at is None or self._monotonic() - state.fetched_at > self.max_stale_age:
            return []
        return list(state.keys.get(kid, ()))

    async def refresh(self, issuer: str, *, force: bool = False) -> None:
        """Fetch an issuer's keys now, e.g. at startup (rate-limited unless `force`)."""
        state = self._states[issuer]
        if force:
            state.attempted_at = None
        await self._refresh(state)

    def _may_attempt(self, state: _IssuerState) -> bool:
        return (
            state.attempted_at is None
            or self._monotonic() - state.attempted_at >= self.min_refresh_interval
        )

    async def _refresh(self, state: _IssuerState) -> None:
        # Rate-limited and nothing in flight: use what we have. If a refresh is
        # in flight, wait for it below rather than answering with stale keys.
        if not state.lock.locked() and not self._may_attempt(state):
            return
        async with state.lock:
            # Whoever held the lock before us may just have refreshed.
            if not self._may_attempt(state):
                return
            state.attempted_at = self._monotonic()
            try:
                async with asyncio.timeout(self._timeout * 3):
                    keys = await self._fetch_keys(state.config)
            except KeyFetchError as error:
                log.warning("could not refresh signing keys of issuer %s: %s", state.config.issuer, error)
                return
            except Exception as error:  # noqa: BLE001 - timeouts, odd URLs: keep the old keys
                log.warning(
                    "could not refresh signing keys of issuer %s: %s", state.config.issuer, type(error).__name__
                )
                return
            state.keys = keys
            state.fetched_at = self._monotonic()
            log.info("fetched %d signing key(s) of issuer %s", sum(map(len, keys.values())), state.config.issuer)

    async def _fetch_keys(self, cfg: TrustedIssuer) -> dict[str, list[Key]]:
        discovery = await self._get_json(cfg.discovery_url, "discovery")
        if discovery.get("issuer") != cfg.issuer:
            raise KeyFetchError("discovery document names a different issuer")
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or len(jwks_uri) > 2048:
            raise KeyFetchError("discovery document has no usable jwks_uri")
        try:
            check_url(jwks_uri, development=cfg.development, what="jwks_uri")
        except ValueError as error:
            raise KeyFetchError(str(error)) from None
        jwks = await self._get_json(jwks_uri, "jwks")
        return self._parse_jwks(jwks, cfg.issuer)

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._http.stream(
                "GET",
                url,
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
            ) as response:
                if response.status_code != 200:
                    raise KeyFetchError(f"{what}: HTTP status {response.status_code}")
                encoding = response.headers.get("content-encoding", "identity").lower()
                if encoding != "identity":
                    raise KeyFetchError(f"{what}: unexpected content encoding")
                declared = response.headers.get("content-length")
                if declared is not None and (not declared.isdigit() or int(declared) > self._max_bytes):
                    raise KeyFetchError(f"{what}: response too large")
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise KeyFetchError(f"{what}: response too large")
        except httpx.HTTPError as error:
            raise KeyFetchError(f"{what}: {type(error).__name__}") from None
        try:
            return loads_object(bytes(body))
        except ValueError:
            raise KeyFetchError(f"{what}: not a JSON object") from None

    def _parse_jwks(self, jwks: Mapping[str, Any], issuer: str) -> dict[str, list[Key]]:
        entries = jwks.get("keys")
        if not isinstance(entries, list):
            raise KeyFetchError("jwks: no keys array")
        if len(entries) > self._max_keys:
            raise KeyFetchError("jwks: too many keys")
        keys: dict[str, list[Key]] = {}
        for entry in entries:
            key = _import_public_key(entry)
            if key is None:
                log.info("ignored an unusable key in the JWKS of issuer %s", issuer)
                continue
            keys.setdefault(key.kid, []).append(key)  # type: ignore[arg-type]
        return keys


def _import_public_key(entry: object) -> Key | None:
    """A public signature key with a kid, or None if the entry is unusable."""
    if not isinstance(entry, dict):
        return None
    if entry.get("kty") not in _ASYMMETRIC_KTY:
        return None  # in particular "oct": never verify with a shared secret
    kid = entry.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_LENGTH:
        return None
    if "use" in entry and entry["use"] != "sig":
        return None
    if _PRIVATE_MEMBERS & entry.keys():
        return None  # a published private key is compromised
    try:
        key = JWKRegistry.import_key(entry)
    except Exception:  # noqa: BLE001 - any malformed key is simply skipped
        return None
    if key.is_private:
        return None
    if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_BITS:
        return None
    if not isinstance(key, (RSAKey, ECKey, OKPKey)):
        return None
    return key
