"""Fetching one feed document: the webhook address rules (https only in production, public addresses
only, the resolved address pinned for the connection), conditional GET, no redirects followed, short
timeouts with an overall deadline, and a body read in chunks that stops past the size limit.

Failures are FeedError with a `kind` (a short code recorded on the feed): never the URL, the
response or a secret, which may be in the URL's query or the headers."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import httpx

from skyddat_boende.webhooks.delivery import requests_unlogged
from skyddat_boende.webhooks.destinations import Destination, pinned_destination

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE_SECONDS = 30.0
"""The whole fetch (token, connection, every byte of the body) ends by then: a slow drip is a timeout."""
MAX_BODY_BYTES = 2 * 1024 * 1024
USER_AGENT = "skyddat-boende-feeds/1"
MAX_VALIDATOR_LENGTH = 200


class FeedError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Fetched(NamedTuple):
    body: bytes | None
    """None for 304 Not Modified."""
    etag: str | None
    last_modified: str | None


class Credentials(NamedTuple):
    header: tuple[str, str] | None = None
    oauth: tuple[str, str, str, str | None] | None = None
    """(token URL, client id, client secret, scope)."""


class Limits(NamedTuple):
    allow_loopback_http: bool = False
    timeout: httpx.Timeout = TIMEOUT
    deadline: float = DEADLINE_SECONDS
    max_bytes: int = MAX_BODY_BYTES


async def fetch(client: httpx.AsyncClient, url: str, validators: tuple[str | None, str | None],
                credentials: Credentials, limits: Limits) -> Fetched:
    try:
        with requests_unlogged():
            async with asyncio.timeout(limits.deadline):
                return await _fetch(client, url, validators, credentials, limits)
    except (TimeoutError, httpx.TimeoutException):
        raise FeedError("timeout") from None
    except httpx.HTTPError:
        raise FeedError("connection") from None


async def _fetch(client, url, validators, credentials: Credentials, limits: Limits) -> Fetched:
    destination = await _pinned(url, limits)
    headers = {"Host": destination.netloc, "Accept": "application/json", "User-Agent": USER_AGENT}
    etag, last_modified = validators
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if credentials.header:
        headers[credentials.header[0]] = credentials.header[1]
    if credentials.oauth:
        headers["Authorization"] = "Bearer " + await _access_token(credentials.oauth, limits)
    async with client.stream("GET", destination.url, headers=headers, timeout=limits.timeout,
                             follow_redirects=False, extensions={"sni_hostname": destination.host}) as response:
        if response.status_code == 304:
            return Fetched(None, etag, last_modified)
        _check_status(response.status_code)
        body = await _read_limited(response, limits.max_bytes)
        headers = response.headers
        return Fetched(body, _validator(headers.get("etag")), _validator(headers.get("last-modified")))


async def _pinned(url: str, limits: Limits) -> Destination:
    destination = await pinned_destination(url, allow_loopback_http=limits.allow_loopback_http)
    if destination is None:
        raise FeedError("address_refused")
    return destination


def _check_status(status: int) -> None:
    if 300 <= status < 400:
        raise FeedError("redirect_not_followed")
    if status in (401, 403):
        raise FeedError("unauthorised")
    if status != 200:
        raise FeedError(f"http_{status}")


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FeedError("too_large")
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise FeedError("too_large")  # leaving the stream closes the connection: nothing more is read
        chunks.append(chunk)
    return b"".join(chunks)


def _validator(value: str | None) -> str | None:
    return value if value and len(value) <= MAX_VALIDATOR_LENGTH and value.isprintable() else None


async def _access_token(oauth: tuple[str, str, str, str | None], limits: Limits) -> str:
    """Client credentials against the partner's issuer with authlib's client, to the pinned address of
    the token endpoint (same rules as the feed)."""
    from authlib.integrations.httpx_client import AsyncOAuth2Client  # only feeds with OAuth need it

    token_url, client_id, client_secret, scope = oauth
    destination = await _pinned(token_url, limits)

    async def present_name(request: httpx.Request) -> None:
        request.extensions["sni_hostname"] = destination.host

    async with AsyncOAuth2Client(client_id=client_id, client_secret=client_secret, scope=scope,
                                 timeout=limits.timeout, follow_redirects=False,
                                 event_hooks={"request": [present_name]}) as oauth_client:
        try:
            token = await oauth_client.fetch_token(destination.url, grant_type="client_credentials",
                                                   headers={"Host": destination.netloc, "Accept": "application/json"})
        except (TimeoutError, httpx.TimeoutException):
            raise
        except Exception:  # an OAuth error body may echo what was sent: the type only
            raise FeedError("oauth_token_refused") from None
    access = token.get("access_token") if isinstance(token, dict) else None
    if not isinstance(access, str) or not access:
        raise FeedError("oauth_token_refused")
    return access
