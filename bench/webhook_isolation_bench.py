"""How long a healthy webhook receiver waits behind one that hangs (figures, not pass/fail).

    DATABASE_URL=postgresql://... .venv/bin/python bench/webhook_isolation_bench.py [--repeat 5]

On a throwaway database (created on DATABASE_URL's server, dropped afterwards): 25 events for a
receiver that accepts the connection and never answers, then 5 for a healthy one, and the service's
WebhookWorker (its production timeout) started on them. Measures the time until the healthy receiver
has all 5, and how many calls the hanging one got meanwhile. Writes bench/results/webhook_isolation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skyddat_boende import database, migrations  # noqa: E402
from skyddat_boende.config import REPO_SQL_DIR  # noqa: E402
from skyddat_boende.webhooks import outbox  # noqa: E402
from skyddat_boende.webhooks.delivery import MAX_IN_FLIGHT, PER_DESTINATION, TIMEOUT, WebhookWorker  # noqa: E402

HANGING_EVENTS, HEALTHY_EVENTS = 25, 5


class _Receiver:
    """Counts calls; with `hold`, every call waits for it before answering."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.calls = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls += 1
                if hold is not None:
                    hold.wait(timeout=60)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the worker gave up on this call

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _subscribe(conn, url: str, events: int) -> None:
    org = f"operator-bench-{uuid.uuid4().hex[:8]}"
    await conn.execute("insert into organisation (id, kind, display_name, municipality_code, ivo_permit_ref) "
                       "values ($1, 'association', 'Bench', '0180', 'IVO bench')", org)
    await conn.execute("insert into webhook_subscription (organisation_id, url, secret, event_types) "
                       "values ($1, $2, 'whsec_' || repeat('a', 43), '{offer.created}')", org, url)
    for _ in range(events):
        async with conn.transaction():
            await outbox.enqueue(conn, org, "offer.created", {"offer_id": str(uuid.uuid4())})


async def _once(url: str) -> dict:
    let_go = threading.Event()
    hanging, healthy = _Receiver(hold=let_go), _Receiver()
    conn = await database.connect(url)
    pool = await database.create_pool(url, max_size=4)
    worker = WebhookWorker(pool, allow_loopback_http=True)
    try:
        await conn.execute("update webhook_outbox set given_up_at = now() where delivered_at is null")
        await _subscribe(conn, hanging.url, HANGING_EVENTS)
        await _subscribe(conn, healthy.url, HEALTHY_EVENTS)
        started = time.perf_counter()
        worker.start()
        while healthy.calls < HEALTHY_EVENTS:
            await asyncio.sleep(0.002)
        return {"healthy_all_delivered_ms": round((time.perf_counter() - started) * 1000, 1),
                "hanging_calls_open": hanging.calls}
    finally:
        let_go.set()
        await worker.stop()
        await pool.close()
        await conn.close()
        hanging.close()
        healthy.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    server = os.environ["DATABASE_URL"]
    name = f"sb_bench_{uuid.uuid4().hex[:8]}"
    url = await database.ensure_database(server, name)
    try:
        conn = await database.connect(url)
        try:
            await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
            version = await conn.fetchval("show server_version")
        finally:
            await conn.close()
        runs = [await _once(url) for _ in range(args.repeat)]
    finally:
        admin = await database.connect(server)
        try:
            await admin.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await admin.close()
    waits = [r["healthy_all_delivered_ms"] for r in runs]
    result = {
        "scenario": f"{HANGING_EVENTS} events for a receiver that never answers, then {HEALTHY_EVENTS} for a "
                    "healthy one; time until the healthy one has all of them",
        "settings": {"per_destination": PER_DESTINATION, "max_in_flight": MAX_IN_FLIGHT, "timeout_s": TIMEOUT.read},
        "runs": runs,
        "healthy_wait_ms": {"median": statistics.median(waits), "max": max(waits)},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "postgresql": version},
    }
    out = ROOT / "bench" / "results" / "webhook_isolation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["healthy_wait_ms"]), "->", out.relative_to(ROOT))


if __name__ == "__main__":
    asyncio.run(main())
