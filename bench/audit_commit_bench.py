"""Audited commits per second from many connections at once, without HTTP: what the audit trail alone
lets through.

    DATABASE_URL=postgresql://... .venv/bin/python bench/audit_commit_bench.py [--seconds 5] [--connections 16]

Creates a throwaway database on DATABASE_URL's server, migrates it with this checkout's sql/, and lets
every connection commit transactions of one audit event each for the given time. Where the schema
chains after commit (sql/0038), one more connection chains every second, as the worker does. Then it
chains what is left, verifies the chain, and writes bench/results/<date>-<commit>-audit-commits.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.results import figure, write_results  # noqa: E402
from skyddat_boende import audit, database, migrations  # noqa: E402
from skyddat_boende.config import REPO_SQL_DIR  # noqa: E402

ACTOR = audit.Actor(issuer="https://idp.example", subject="bench", organisation="operator-bench", role="staff")


async def _committer(url: str, stop: float) -> int:
    conn = await database.connect(url)
    try:
        commits = 0
        while time.monotonic() < stop:
            async with conn.transaction():
                await audit.record(conn, ACTOR, "unit.update", "unit", str(commits), "succeeded")
            commits += 1
        return commits
    finally:
        await conn.close()


async def _chainer(url: str, stop: float) -> None:
    conn = await database.connect(url)
    try:
        while time.monotonic() < stop:
            await conn.fetchval("select audit_chain_pending()")
            await asyncio.sleep(1)
    finally:
        await conn.close()


async def run(server_url: str, seconds: int, connections: int) -> dict[str, dict]:
    name = f"sb_bench_audit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'create database "{name}"')
    url = database.database_url_for(server_url, name)
    try:
        conn = await database.connect(url)
        try:
            await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
            chains_after_commit = await conn.fetchval("select to_regproc('audit_chain_pending') is not null")
            stop = time.monotonic() + seconds
            started = time.monotonic()
            chainer = [_chainer(url, stop)] if chains_after_commit else []
            counts, *_ = await asyncio.gather(
                asyncio.gather(*(_committer(url, stop) for _ in range(connections))), *chainer)
            elapsed = time.monotonic() - started
            pending_at_end = await conn.fetchval("select count(*) from audit_pending")
            report = await audit.verify(conn)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()
    if not report.ok:
        raise SystemExit(f"the chain does not verify: {report.problem}")
    figures = {
        "audited_commits_per_second": figure(round(sum(counts) / elapsed, 1), "commits/s"),
        "events_chained": figure(report.events_checked, "events"),
        "events_pending_at_end_before_final_round": figure(pending_at_end, "events"),
    }
    for key, value in figures.items():
        print(f"  {key:<45} {value['value']:>12,.1f} {value['unit']}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--results-dir", type=Path)
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        raise SystemExit("set DATABASE_URL to a server this benchmark may create a database on")
    load_before = os.getloadavg()[0]
    figures = asyncio.run(run(server_url, args.seconds, args.connections))
    settings = {"seconds": args.seconds, "connections": args.connections,
                "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    extra = {"directory": args.results_dir} if args.results_dir else {}
    print("wrote", write_results("audit-commits", settings, figures, **extra))


if __name__ == "__main__":
    main()
