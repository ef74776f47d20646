"""Where webhooks may be sent: public https endpoints only (no user info, no fragment, no private,
loopback or link-local address). Plain http to 127.0.0.1 or localhost is allowed only when the service
runs with SB_ENV=development, so that tests and local development can run a receiver.

One address rule (`_public_address`) decides both at registration (`checked_url`) and just before each
delivery (`pinned_destination`); both resolve the host the same way (`_resolve`), so every spelling the
system's resolver accepts (`127.1`, `0x7f.0.0.1`, `0177.0.0.1`, `2130706433`, IPv6 forms that embed an
IPv4 address, a name that points at 127.0.0.1) is judged by the address it means."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
MAX_URL_LENGTH = 500
#: How long registration waits for a name to resolve; a name that does not resolve in time is accepted,
#: since every delivery resolves and checks it again.
RESOLVE_SECONDS = 3.0
#: A last label of digits or hex (no top-level domain looks like this): the host is meant as an address.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
#: IPv6 ranges that stand for the IPv4 address in their last 32 bits: IPv4-compatible (::/96), SIIT
#: (::ffff:0:0:0/96) and the NAT64 well-known prefix (64:ff9b::/96).
_TRANSLATED_V4 = tuple(ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96"))


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
        if _NUMERIC_LABEL.match(labels[-1]):
            return _public_numeric_host(host)
        return len(labels) >= 2 and labels[-1] not in {"localhost", "local", "internal", "localdomain", "lan", "home"}


def _public_numeric_host(host: str) -> bool:
    """An IPv4 address in one of the old spellings resolvers still accept (`127.1`, `0x7f.0.0.1`,
    `0177.0.0.1`, `2130706433`): judged by the address it means; one that means none is refused."""
    try:
        packed = socket.inet_aton(host.rstrip("."))
    except OSError:
        return False
    return _public_address(str(ipaddress.IPv4Address(packed)))


def _public_address(address: str) -> bool:
    """A globally routable unicast address; ValueError when `address` is not an address literal. An
    IPv6 address that stands for an IPv4 one (mapped, compatible, SIIT, NAT64: what a DNS64 resolver
    answers) is judged by that IPv4 address; a tunnel address (6to4, Teredo) must be public and carry
    a public IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None or any(ip in network for network in _TRANSLATED_V4):
            return _public_ip(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        tunnelled = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if tunnelled is not None and not _public_ip(tunnelled):
            return False
    return _public_ip(ip)


def _public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback
                                 or ip.is_link_local or ip.is_unspecified)


async def _resolve(host: str, port: int | None) -> list[str]:
    """Every address `host` stands for, as the system's resolver reads it (an address literal in any
    spelling stands for itself); OSError, UnicodeError or TimeoutError when it resolves to nothing."""
    infos = await asyncio.wait_for(
        asyncio.get_running_loop().getaddrinfo(host, port or 443, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
    return [str(info[4][0]) for info in infos]


def _all_public(addresses: list[str]) -> bool:
    return bool(addresses) and all(_public_address(a) for a in addresses)


async def checked_url(url: str, *, allow_loopback_http: bool) -> str:
    """Registration: `normalised_url`, and then the host resolved now must stand only for public
    addresses (ValueError otherwise). A name that does not resolve now is accepted: each delivery
    resolves it again and sends nothing to an address that is not public."""
    normalised = normalised_url(url, allow_loopback_http=allow_loopback_http)
    parts = urlsplit(normalised)
    host = parts.hostname or ""
    if allow_loopback_http and host in LOOPBACK_HOSTS:
        return normalised
    try:
        addresses = await _resolve(host, parts.port)
    except (OSError, UnicodeError, TimeoutError):
        return normalised
    if not _all_public(addresses):
        raise ValueError("the URL's host resolves to a private, loopback or otherwise non-public address")
    return normalised


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
        addresses = await _resolve(host, parts.port)
    except (OSError, UnicodeError, TimeoutError):
        return None
    if not _all_public(addresses):
        return None
    address = addresses[0].split("%", 1)[0]
    netloc = (f"[{address}]" if ":" in address else address) + (f":{parts.port}" if parts.port else "")
    return Destination(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), host, parts.netloc)
