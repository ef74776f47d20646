"""Where webhooks may be sent: public https endpoints only (no user info, no fragment, no private,
loopback or link-local address). Plain http to 127.0.0.1 or localhost is allowed only when the service
runs with SB_ENV=development, so that tests and local development can run a receiver."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
MAX_URL_LENGTH = 500


def normalised_url(url: str, *, allow_loopback_http: bool) -> str:
    """The URL with scheme and host in lower case, or ValueError saying which rule it breaks
    (the message never quotes the URL)."""
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("the URL is too long or contains spaces or control characters")
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("the URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if "@" in parts.netloc:
        raise ValueError("the URL must not contain a user name or password")
    if parts.fragment or "#" in url:
        raise ValueError("the URL must not contain a fragment")
    if not host:
        raise ValueError("the URL has no host")
    loopback = host in LOOPBACK_HOSTS and allow_loopback_http
    if scheme != "https" and not (scheme == "http" and loopback):
        raise ValueError("the URL must use https")
    if not loopback and not _public_host(host):
        raise ValueError("the URL's host must be a public internet name or address")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("the URL's port is out of range")
    return urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query, ""))


def _public_host(host: str) -> bool:
    try:
        return _public_address(host)
    except ValueError:  # a name, not an address: at least two labels, no local-only suffixes
        labels = host.rstrip(".").split(".")
        return len(labels) >= 2 and labels[-1] not in {"localhost", "local", "internal", "localdomain", "lan", "home"}


def _public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class Destination(NamedTuple):
    """Where to connect (the URL with its host replaced by a checked address) and the name to present
    in the Host header and TLS (SNI and certificate check)."""

    url: str
    host: str
    netloc: str


async def pinned_destination(url: str, *, allow_loopback_http: bool) -> Destination | None:
    """Resolve the URL's host once, just before sending; None unless every address is public. The
    request then goes to the checked address itself, so a name that is re-pointed between the check and
    the connection (DNS rebinding) cannot redirect it inside the network."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if allow_loopback_http and host in LOOPBACK_HOSTS:
        return Destination(url, host, parts.netloc)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_public_address(a) for a in addresses):
        return None
    address = addresses[0].split("%", 1)[0]
    netloc = (f"[{address}]" if ":" in address else address) + (f":{parts.port}" if parts.port else "")
    return Destination(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), host, parts.netloc)
