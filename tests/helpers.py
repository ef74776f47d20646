"""Running the real service as a subprocess, for tests that need a real HTTP server and CLI."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of a started process: production unless the test says otherwise (the test process
    itself runs with SB_ENV=development, see conftest.py)."""
    return {**os.environ, "SB_ENV": "production", **(env or {})}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `skyddat-boende ARGS` as a new process and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "skyddat_boende", *args],
        cwd=REPO_ROOT, env=child_env(env), capture_output=True, text=True, timeout=timeout,
    )


@contextmanager
def running_server(env: Mapping[str, str], *extra_args: str, timeout: float = 30) -> Iterator[str]:
    """Start `skyddat-boende serve` on a free port; yield its base URL; stop it afterwards."""
    with running_servers(env, 1, *extra_args, timeout=timeout) as (base,):
        yield base


@contextmanager
def running_servers(env: Mapping[str, str], count: int, *extra_args: str, timeout: float = 30) -> Iterator[list[str]]:
    """Start `count` processes of `skyddat-boende serve` on one database, each on a free port, all at once
    (their start-up, mostly imports, overlaps); yield their base URLs once every one is healthy; stop
    them afterwards. Their output goes to temporary files, not pipes: nobody reads a pipe while the tests
    run, and a server that has filled one (64 KiB of access log) blocks on its next log line."""
    started: list[tuple[subprocess.Popen, str, typing.IO[str]]] = []
    try:
        ports: set[int] = set()
        for _ in range(count):
            while (port := free_port()) in ports:  # the one before may not be listening yet
                pass
            ports.add(port)
            output = tempfile.TemporaryFile(mode="w+")
            started.append((subprocess.Popen(
                [sys.executable, "-m", "skyddat_boende", "serve", "--port", str(port), *extra_args],
                cwd=REPO_ROOT, env=child_env(env), stdout=output, stderr=subprocess.STDOUT, text=True,
            ), f"http://127.0.0.1:{port}", output))
        deadline = time.monotonic() + timeout
        for process, base, output in started:
            while True:
                if process.poll() is not None:
                    output.seek(0)
                    raise RuntimeError(f"server exited early: {output.read()[-2000:]}")
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not become healthy in time")
                time.sleep(0.1)
        yield [base for _, base, _ in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, output in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            output.close()


@contextmanager
def running_worker(env: Mapping[str, str]) -> Iterator[subprocess.Popen]:
    """Start `skyddat-boende worker`; yield the process; stop it (SIGTERM) afterwards. Its output goes to a
    temporary file (see running_server), readable as `process.log()` while it runs."""
    output = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "skyddat_boende", "worker"],
        cwd=REPO_ROOT, env=child_env(env), stdout=output, stderr=subprocess.STDOUT, text=True,
    )
    process.log = lambda: (output.seek(0), output.read())[1]
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()


async def waiting_for_locks(conn, count: int = 1) -> None:
    """Until `count` other backends of this database wait for a lock."""
    for _ in range(200):
        # inside a transaction pg_stat_activity is read once and kept: clear it to see the present
        await conn.execute("select pg_stat_clear_snapshot()")
        waiting = await conn.fetchval(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} backends never waited for a lock")


async def chain_audit(db) -> None:
    """Chain the committed audit events now, as the worker does every few seconds, so that a test can read
    them in audit_event. `db`: a connection (inside a transaction: that transaction's own events too), a
    pool, or a database URL."""
    from skyddat_boende import audit, database

    if not isinstance(db, str):
        await audit.chain_pending(db)
        return
    conn = await database.connect(db)
    try:
        await audit.chain_pending(conn)
    finally:
        await conn.close()
