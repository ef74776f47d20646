"""A webhook receiver for tests: a real HTTP server on 127.0.0.1, and the signature check receivers do."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A real HTTP server that records every request and answers with the next scripted status (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = (), delay: float = 0.0, hold: threading.Event | None = None) -> None:
        """`hold`: every request hangs, unanswered and not yet in `requests`, until the event is set
        (`arrived` counts them as they come in)."""
        self.requests: list[tuple[dict[str, str], bytes, str]] = []
        self.statuses = list(statuses)
        self.arrived = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    receiver.arrived += 1
                if hold is not None:
                    hold.wait(timeout=60)
                time.sleep(delay)
                with lock:
                    receiver.requests.append((dict(self.headers), body, self.path))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        # a query string that must never reach a log line
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks?token=querysecret"

    def ids(self) -> list[str]:
        return [headers["Webhook-Id"] for headers, _, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (the snippet in api_docs/webhooks.md)."""
    signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["Webhook-Signature"])
