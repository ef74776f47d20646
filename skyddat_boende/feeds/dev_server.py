"""A development feed server: a small real HTTP server on 127.0.0.1 serving the files of a directory
with an ETag (a digest of the content) and Last-Modified, answering 304 to a matching If-None-Match.
For the demo (`skyddat-boende feed serve DIR`) and the tests, which start it themselves; plain http,
so the service accepts it only with SB_ENV=development."""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FeedFileHandler(BaseHTTPRequestHandler):
    server: "FeedServer"

    def do_GET(self) -> None:  # noqa: N802
        self.server.count(self.path)
        path = (self.server.root / self.path.split("?", 1)[0].lstrip("/")).resolve()
        if self.server.root not in path.parents or not path.is_file():
            self._answer(404, b"")
            return
        body = path.read_bytes()
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == tag:
            self._answer(304, None, {"ETag": tag})
            return
        modified = formatdate(path.stat().st_mtime, usegmt=True)
        self._answer(200, body, {"ETag": tag, "Last-Modified": modified, "Content-Type": "application/json"})

    def _answer(self, status: int, body: bytes | None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class FeedServer(ThreadingHTTPServer):
    """Serves `root` until `close()`; `requests` counts GETs per path."""

    daemon_threads = True
    request_queue_size = 512  # many feeds are polled at once

    def __init__(self, root: Path, handler: type[BaseHTTPRequestHandler] = FeedFileHandler, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.root = Path(root).resolve()
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def count(self, path: str) -> None:
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
