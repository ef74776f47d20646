"""Feeds for tests: the development feed server (a real HTTP server) with faults a partner's server may
have, documents built from unit ids, and partners (an operator with units) to publish them."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path

import httpx

from skyddat_boende.feeds.dev_server import FeedFileHandler, FeedServer
from skyddat_boende.feeds.fetch import Limits
from tests import factories

#: short limits so that the slow and huge feeds fail fast
TEST_LIMITS = Limits(allow_loopback_http=True, timeout=httpx.Timeout(1.0), deadline=1.5, max_bytes=1024 * 1024)
BIG_BYTES = 50 * 1024 * 1024


class FaultyHandler(FeedFileHandler):
    """Serves files, or for a path in `server.faults` misbehaves: 'slow' (answers after 10 s), 'error'
    (500), 'huge' (50 MB without Content-Length), 'redirect' (302 to a private address), 'new_etag' (the
    same body under a new ETag each time)."""

    def do_GET(self) -> None:  # noqa: N802
        fault = self.server.faults.get(self.path)
        self.server.headers_seen.append(dict(self.headers))
        if fault is None:
            return super().do_GET()
        self.server.count(self.path)
        if fault == "slow":
            time.sleep(10)
            return self._answer(200, b"{}")
        if fault == "error":
            return self._answer(500, b"oops")
        if fault == "redirect":
            return self._answer(302, b"", {"Location": "http://10.0.0.1/feed.json"})
        if fault == "new_etag":
            body = (self.server.root / self.path.lstrip("/")).read_bytes()
            return self._answer(200, body, {"ETag": f'"{uuid.uuid4().hex}"'})
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(BIG_BYTES // 65536):
                self.wfile.write(b" " * 65536)
        except OSError:
            pass  # the service stopped reading, as it should


class Server(FeedServer):
    def __init__(self, root: Path) -> None:
        self.faults: dict[str, str] = {}
        self.headers_seen: list[dict[str, str]] = []
        super().__init__(root, FaultyHandler)

    def publish(self, name: str, entries: list[tuple[str, int]], **extra) -> str:
        """Write feed file `name` listing (unit reference, beds available) and return its URL."""
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        doc = {"format": "skyddat-boende-feed/1", "updated": now, "service_capacity": [
            {"unit": {"id": ref, "name": "bed"}, "available": free, "maximum": 3, "updated": now} | extra
            for ref, free in entries]}
        (self.root / name).write_text(json.dumps(doc))
        return self.url(name)


async def partner(conn, units: int = 3) -> tuple[str, list[uuid.UUID]]:
    org = await factories.operator_org(conn, f"feed-{uuid.uuid4().hex[:8]}")
    shelter = await factories.shelter(conn, org)
    return org, [await factories.unit(conn, shelter) for _ in range(units)]
