"""The rate limiter's cost per check (figures, not pass/fail).

    DATABASE_URL=postgresql://... .venv/bin/python bench/rate_limit_bench.py [--calls 5000]

On a throwaway database (created on DATABASE_URL's server, dropped afterwards), through a pool running
as the service role like the service's: `--calls` sequential checks of one caller (one hot row), of
`--calls` different callers (a new row each), and the same hot-row checks from 8 concurrent tasks.
Writes bench/results/rate_limit.json: median and p99 per check in milliseconds, the machine, the
PostgreSQL version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from skyddat_boende import database, migrations, rate_limits  # noqa: E402
from skyddat_boende.config import REPO_SQL_DIR  # noqa: E402


async def _timed(limiter: rate_limits.RateLimiter, callers: list[str]) -> list[float]:
    times = []
    for caller in callers:
        started = time.perf_counter()
        await limiter.address_wait(caller)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(times: list[float]) -> dict:
    times = sorted(times)
    return {"checks": len(times), "median_ms": round(statistics.median(times), 4),
            "p99_ms": round(times[int(len(times) * 0.99) - 1], 4)}


async def run(server_url: str, calls: int) -> dict:
    name = f"sbbench_{uuid.uuid4().hex[:12]}"
    url = await database.ensure_database(server_url, name)
    try:
        conn = await database.connect(url)
        await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
        version = await conn.fetchval("show server_version")
        await conn.close()
        pool = await database.create_pool(url, max_size=8, service_role=True)
        limiter = rate_limits.RateLimiter(pool, per_address=10**9, per_client=10**9)
        await _timed(limiter, ["192.0.2.1"] * 200)  # warm-up: connections, prepared statement
        hot = await _timed(limiter, ["192.0.2.1"] * calls)
        fresh = await _timed(limiter, [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(calls)])
        tasks = await asyncio.gather(*(_timed(limiter, ["192.0.2.1"] * (calls // 8)) for _ in range(8)))
        await pool.close()
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()
    return {"what": "one rate-limit check (rate_limits._COUNT) through a service-role pool, in milliseconds",
            "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
            "postgresql": version, "database_on": "the same machine, TCP on 127.0.0.1",
            "one_caller": _summary(hot), "a_new_caller_each_check": _summary(fresh),
            "one_caller_8_concurrent_tasks": _summary([t for ts in tasks for t in ts])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "rate_limit.json"))
    args = parser.parse_args()
    result = asyncio.run(run(os.environ["DATABASE_URL"], args.calls))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
