"""Pulling feeds: wall time of one full poll round and of a round where every feed answers 304.

    [DATABASE_URL=postgresql://...] .venv/bin/python bench/feeds_bench.py [--feeds 300] [--units 10] [--smoke]

On a throwaway database (created on DATABASE_URL's server, or the embedded one; dropped afterwards),
through a service-role pool like the worker's: `--feeds` organisations, each with `--units` units and
a feed served by the development feed server (a real HTTP server on 127.0.0.1, in its own process). Round one fetches and applies every document
(each replacing its organisation's availability); round two, with nothing changed, is all 304s.
Writes bench/results/<date>-<commit>-feeds.json with the machine and the settings; `--smoke` runs a
tiny case and writes to --out (the test suite runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from skyddat_boende import database, migrations  # noqa: E402
from skyddat_boende.config import REPO_SQL_DIR  # noqa: E402
from skyddat_boende.feeds import poller  # noqa: E402
from skyddat_boende.feeds.fetch import Limits  # noqa: E402
from skyddat_boende.feeds.secrets import Vault  # noqa: E402

POOL_SIZE = 10


async def _organisation(conn: asyncpg.Connection, i: int, units: int) -> tuple[str, list[uuid.UUID]]:
    org = f"operator-bench-{i:04d}"
    await conn.execute(
        """insert into organisation (id, kind, display_name, municipality_code, ivo_permit_ref)
           values ($1, 'association', $2, '0180', 'IVO 3.5.1-0001/2025')""", org, f"Bench {i}")
    shelter = await conn.fetchval(
        """insert into shelter (operator_id, municipality_code, label, target_groups, features, security_level,
                                protected_data_capability, staff_languages, daily_rate_sek)
           values ($1, '0180', 'Bench', '{women}', '{}', 3, 'skyddad_folkbokforing', '{sv}', 2400) returning id""",
        org)
    rows = await conn.fetch("insert into unit (shelter_id, label, beds) select $1, 'U' || n, 3 "
                            "from generate_series(1, $2) n returning id", shelter, units)
    return org, [r["id"] for r in rows]


def _document(unit_ids: list[uuid.UUID]) -> str:
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    return json.dumps({"format": "skyddat-boende-feed/1", "service_capacity": [
        {"unit": {"id": str(u)}, "available": n % 4, "maximum": 3, "updated": now}
        for n, u in enumerate(unit_ids)]})


class _FeedServerProcess:
    """The development feed server in a process of its own (`skyddat-boende feed serve`), so that serving
    does not share this process's interpreter with the poller being measured."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "SB_ENV": "development", "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-m", "skyddat_boende", "feed", "serve", str(root),
                                         "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL)
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("the feed server did not start")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def _round(pool: asyncpg.Pool, feeds: int) -> float:
    await pool.execute("update availability_feed set next_attempt_at = now()")
    started = time.perf_counter()
    polled = await poller.poll_round(pool, Vault(None), Limits(allow_loopback_http=True), 24, batch=feeds)
    elapsed = time.perf_counter() - started
    assert polled == feeds, (polled, feeds)
    return elapsed


async def run(server_url: str, feeds: int, units: int) -> dict:
    name = f"sbbench_{uuid.uuid4().hex[:12]}"
    url = await database.ensure_database(server_url, name)
    files = tempfile.TemporaryDirectory()
    server = _FeedServerProcess(Path(files.name))
    try:
        conn = await database.connect(url)
        await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
        version = await conn.fetchval("show server_version")
        for i in range(feeds):
            org, unit_ids = await _organisation(conn, i, units)
            (Path(files.name) / f"f{i}.json").write_text(_document(unit_ids))
            await conn.execute("insert into availability_feed (organisation_id, url, interval_seconds) "
                               "values ($1, $2, 300)", org, server.url(f"f{i}.json"))
        await conn.close()
        pool = await database.create_pool(url, max_size=POOL_SIZE, service_role=True)
        full = await _round(pool, feeds)
        applied = await pool.fetchval("select count(*) from availability_feed where documents_applied = 1")
        not_modified = await _round(pool, feeds)
        failures = await pool.fetchval("select count(*) from availability_feed where last_error is not null")
        await pool.close()
    finally:
        server.close()
        files.cleanup()
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()
    assert applied == feeds and failures == 0, (applied, failures)
    return {"what": "one poll round over every feed, wall time in seconds (fetch, validate, apply or confirm)",
            "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
            "postgresql": version, "database_on": "the same machine, TCP on 127.0.0.1",
            "feed_server": "skyddat-boende feed serve (its own process) on 127.0.0.1, the same machine",
            "settings": {"feeds": feeds, "units_per_feed": units, "concurrency": poller.CONCURRENCY,
                         "pool_size": POOL_SIZE},
            "full_round_seconds": round(full, 3), "all_304_round_seconds": round(not_modified, 3),
            "documents_applied": applied}


def _server_url() -> str:
    """DATABASE_URL's server, or (as `make bench` runs it) the embedded one the service would use."""
    from skyddat_boende.config import load_settings

    settings = load_settings()
    return asyncio.run(database.resolve_database_url(settings.database_url, settings.embedded_pgdata))


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="5 feeds of 3 units")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    feeds, units = (5, 3) if args.smoke else (args.feeds, args.units)
    result = asyncio.run(run(_server_url(), feeds, units))
    out = args.out or ROOT / "bench" / "results" / f"{dt.date.today().isoformat()}-{_commit()}-feeds.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
