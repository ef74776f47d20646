"""Service benchmark: the running API as its users feel it (figures, and a failure if a phase errs).

    .venv/bin/python bench/service_bench.py [--smoke] [--seconds 8] [--sizes 3000,10000]

Starts a throwaway PostgreSQL (the embedded one; DATABASE_URL's server when set), builds a national data
set per size once as a template database, and gives every phase its own copy of it. Each phase starts
real `skyddat-boende serve` processes trusting a development issuer, and drives them over HTTP with real
signed tokens: wrk (bench/wrk_scenarios.lua) for the rates and latencies under load, an asyncio client
for the one-off calls (accept an offer, read an address) and the national batch. A phase with more than
10% of its answers outside 2xx fails the run.

Writes bench/results/<date>-<commit>-service.json (bench/results.py) and prints every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the benchmark signs its callers' tokens with the development issuer, which loads only in development;
# the services it starts run in development too
os.environ.setdefault("SB_ENV", "development")

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.results import figure, write_results  # noqa: E402
from skyddat_boende import database, demo_data, migrations  # noqa: E402
from skyddat_boende.config import REPO_SQL_DIR  # noqa: E402
from skyddat_boende.identity.dev_issuer import DevIssuer  # noqa: E402

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_scenarios.lua"
UNITS_PER_SHELTER = 14
UNITS_PER_OPERATOR = 100
MAX_FAILED_SHARE = 0.10
TOKEN_LIFETIME = 3 * 3600
WORKER_MUNICIPALITIES = 20
PHASES = ("baseline_and_updates", "request_to_offer", "answers", "batch", "mixed")


@dataclass
class Config:
    """What one run measures; --smoke shrinks everything to seconds."""

    sizes: tuple[int, ...] = (3000, 10000)
    seconds: int = 8
    baseline_connections: int = 50
    update_connections: int = 50
    sync_connections: int = 20
    request_connections: tuple[int, ...] = (10, 50)
    mixed_connections: int = 20
    answer_calls: int = 100
    answer_concurrency: int = 10
    batch_waiting: int = 300
    phases: tuple[str, ...] = PHASES
    smoke: bool = False

    @classmethod
    def smoke_run(cls) -> Config:
        return cls(sizes=(150,), seconds=1, baseline_connections=4, update_connections=4, sync_connections=2,
                   request_connections=(3,), mixed_connections=4, answer_calls=6, answer_concurrency=3,
                   batch_waiting=20, smoke=True)


class BenchFailed(Exception):
    pass


def expected_figures(config: Config) -> list[str]:
    """Every figure a run writes (the smoke test checks them all)."""
    names = ["health_rps", "unit_update_rps", "availability_sync_rps"]
    for units in config.sizes:
        for c in config.request_connections:
            names += [f"request_offer_{units}u_c{c}_{m}" for m in ("rps", "p50_ms", "p99_ms")]
    names += ["accept_offer_p50_ms", "accept_offer_p99_ms", "read_address_p50_ms", "read_address_p99_ms",
              "batch_wall_seconds", "mixed_one_process_rps", "mixed_two_processes_rps"]
    return names


# the database -------------------------------------------------------------------------------------------

async def build_template(server_url: str, name: str, units: int, waiting: int) -> dict:
    """A migrated database with a national data set: shelters regrouped into operators of at least
    UNITS_PER_OPERATOR units (so that an availability sync covers that many) and a third of units occupied."""
    await _recreate(server_url, name)
    conn = await database.connect(database.database_url_for(server_url, name))
    try:
        await migrations.migrate(conn, migrations.discover(REPO_SQL_DIR))
        counts = await demo_data.load(conn, seed=2026, shelters=max(1, units // UNITS_PER_SHELTER), requests=waiting)
        operators = await _regroup_operators(conn)
        await conn.execute("update unit set status = 'occupied' where abs(hashtext(id::text)) % 3 = 0")
    finally:
        await conn.close()
    return {**counts, "bench operators": operators}


async def _regroup_operators(conn: asyncpg.Connection) -> int:
    shelters = await conn.fetch(
        "select s.id, s.municipality_code, count(u.id) as units from shelter s join unit u on u.shelter_id = s.id "
        "group by s.id order by s.id")
    groups: list[list] = [[]]
    for shelter in shelters:
        if sum(s["units"] for s in groups[-1]) >= UNITS_PER_OPERATOR:
            groups.append([])
        groups[-1].append(shelter)
    for number, group in enumerate(groups, start=1):
        org_id = f"operator-bench-{number}"
        await conn.execute(
            "insert into organisation (id, kind, display_name, municipality_code, ivo_permit_ref) "
            "values ($1, 'company', $2, $3, $4)",
            org_id, f"Bench Omsorg {number} AB", group[0]["municipality_code"], f"IVO 9.9.9-{number:04d}/2026")
        await conn.execute("update shelter set operator_id = $1 where id = any($2::uuid[])",
                           org_id, [s["id"] for s in group])
    return len(groups)


async def _recreate(server_url: str, name: str, template: str | None = None) -> str:
    conn = await database.connect(server_url)
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
        suffix = f' template "{template}"' if template else ""
        await conn.execute(f'create database "{name}"{suffix}')
    finally:
        await conn.close()
    return database.database_url_for(server_url, name)


async def _fetch(url: str, query: str, *args) -> list[asyncpg.Record]:
    conn = await database.connect(url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


# the service --------------------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def running_service(database_url: str, issuer: DevIssuer, data_dir: Path, processes: int = 1) -> Iterator[list[Served]]:
    """`processes` service processes on one database, as behind a load balancer, and one worker as deployed
    (it chains the audit trail, sql/0038; the batch, sweeps and feed polls are off)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "SB_ENV": "development",
           "SB_DATA_DIR": str(data_dir), "SB_LOG_LEVEL": "WARNING",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]),
           "SB_RATE_LIMIT_PER_MINUTE": "1000000", "SB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "1000000",
           "SB_BATCH_INTERVAL_MINUTES": "0",
           "SB_MAX_OPEN_REQUESTS": "100000"}
    started = []
    worker = subprocess.Popen([sys.executable, "-m", "skyddat_boende", "worker"], cwd=ROOT,
                              env=env | {"SB_SWEEP_INTERVAL_SECONDS": "3600", "SB_FEED_POLL_SECONDS": "0"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(processes):
            port = _free_port()
            process = subprocess.Popen([sys.executable, "-m", "skyddat_boende", "serve", "--port", str(port)],
                                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True)
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, base in started:
            _wait_healthy(process, base)
        yield [Served(base, process.pid) for process, base in started]
    finally:
        for process in (*(p for p, _ in started), worker):
            process.terminate()
        for process in (*(p for p, _ in started), worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_healthy(process: subprocess.Popen, base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise BenchFailed(f"the service exited early: {process.stderr.read()[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise BenchFailed("the service did not become healthy in time")
        time.sleep(0.1)


# tokens and the load generator's data ---------------------------------------------------------------------

def staff_token(issuer: DevIssuer, operator: str, subject: str) -> str:
    return issuer.mint_token(subject=subject, org=operator, roles=("shelter_staff",), lifetime=TOKEN_LIFETIME)


def worker_token(issuer: DevIssuer, municipality_org: str, subject: str) -> str:
    return issuer.mint_token(subject=subject, org=municipality_org, roles=("social_worker",), lifetime=TOKEN_LIFETIME)


async def load_data(url: str, issuer: DevIssuer, shares: int) -> list[dict]:
    """The wrk scenarios' data, split into `shares` disjoint parts (one per load generator): occupied units
    to update (never offered, so a new request cannot change them), each operator's full availability to
    sync, and social workers of several municipalities."""
    units = await _fetch(url, "select u.id, u.version, s.operator_id from unit u join shelter s on s.id = u.shelter_id "
                              "where u.status = 'occupied' order by u.id")
    owned = await _fetch(url, "select s.operator_id, json_agg(json_build_object('unit_id', u.id, 'status', u.status) "
                              "order by u.id) as units from unit u join shelter s on s.id = u.shelter_id "
                              "group by 1 order by 1")
    places = await _fetch(url, "select id from organisation where kind = 'municipality' order by id limit $1",
                          WORKER_MUNICIPALITIES)
    parts = []
    for share in range(shares):
        parts.append({
            "units": [{"id": str(u["id"]), "version": u["version"],
                       "token": staff_token(issuer, u["operator_id"], f"bench-staff-{u['operator_id']}")}
                      for u in units[share::shares]],
            "syncs": [{"token": staff_token(issuer, o["operator_id"], f"bench-sync-{o['operator_id']}"),
                       "body": json.dumps({"units": o["units"]})} for o in owned[share::shares]],
            "workers": [worker_token(issuer, p["id"], f"bench-worker-{p['id']}-{share}") for p in places],
        })
    return parts


def _lua(value) -> str:
    """A Lua literal for plain data (strings, numbers, lists, string-keyed tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes for this data
    if isinstance(value, list):
        return "{" + ",".join(_lua(v) for v in value) + "}"
    return "{" + ",".join(f"[{json.dumps(k)}]={_lua(v)}" for k, v in value.items()) + "}"


# wrk ----------------------------------------------------------------------------------------------------

@dataclass
class Load:
    scenario: str
    connections: int
    seconds: int
    data: dict = field(default_factory=dict)


def wrk_command(base: str, load: Load) -> list[str]:
    return ["wrk", "-t", str(load.connections), "-c", str(load.connections), "-d", f"{load.seconds}s",
            "--timeout", "10s", "-s", str(LUA_SCRIPT), base]


def run_wrk(bases: list[str], loads: list[Load], workdir: Path, run_tag: str) -> list[dict]:
    """One wrk per (base, load), all at once; their SB_RESULT lines."""
    import datetime as dt

    today = dt.date.today()
    processes = []
    for i, (base, load) in enumerate(zip(bases, loads)):
        data_file = workdir / f"{run_tag}-{i}.lua"
        data = {**load.data, "threads": load.connections, "today": today.isoformat(),
                "later": (today + dt.timedelta(days=30)).isoformat(), "run": f"{run_tag}{i}"}
        data_file.write_text("return " + _lua(data) + "\n")
        env = {**os.environ, "SB_SCENARIO": load.scenario, "SB_BENCH_DATA": str(data_file)}
        processes.append(subprocess.Popen(wrk_command(base, load), env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    return [_wrk_result(p, load.seconds) for p, load in zip(processes, loads)]


def _wrk_result(process: subprocess.Popen, seconds: int) -> dict:
    out, err = process.communicate(timeout=seconds + 60)
    for line in out.splitlines():
        if line.startswith("SB_RESULT "):
            return json.loads(line.removeprefix("SB_RESULT "))
    raise BenchFailed(f"wrk gave no result (exit {process.returncode}): {err.strip()[-500:]}")


def check_statuses(name: str, result: dict) -> None:
    statuses = {int(k): v for k, v in result["statuses"].items()}
    total = sum(statuses.values()) + result.get("socket_errors", 0)
    failed = total - sum(n for code, n in statuses.items() if 200 <= code < 300)
    if total == 0 or failed > MAX_FAILED_SHARE * total:
        raise BenchFailed(f"{name}: {failed} of {total} answers were not 2xx ({statuses})")


# phases -------------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, config: Config, server_url: str, issuer: DevIssuer, workdir: Path) -> None:
        self.config, self.server_url, self.issuer, self.workdir = config, server_url, issuer, workdir
        self.figures: dict[str, dict] = {}
        self.phases: dict[str, dict] = {}
        self.prefix = f"sb_bench_{uuid.uuid4().hex[:8]}"  # runs sharing a server do not collide
        self.databases: list[str] = []
        self.datasets: dict[int, dict] = {}

    def template(self, units: int) -> str:
        return f"{self.prefix}_tmpl_{units}"

    async def copy(self, units: int) -> str:
        """A fresh copy of the data set of this size (built the first time it is needed)."""
        if units not in self.datasets:
            print(f"building the {units:,}-unit data set", flush=True)
            waiting = self.config.batch_waiting if units == self.config.sizes[0] else 0
            self.datasets[units] = await build_template(self.server_url, self.template(units), units, waiting)
        name = f"{self.prefix}_phase_{len(self.databases) + 1}"
        self.databases.append(name)
        return await _recreate(self.server_url, name, self.template(units))

    def record(self, name: str, value: float, unit: str, baseline: float | None = None) -> None:
        self.figures[name] = figure(round(value, 3), unit, baseline)
        print(f"  {name:<40} {value:>12,.2f} {unit}" + (f"  ({value / baseline:.1%} of baseline)" if baseline else ""),
              flush=True)

    async def wrk_phase(self, name: str, units: int, loads: list[Load], processes: int = 1) -> list[dict]:
        url = await self.copy(units)
        parts = await load_data(url, self.issuer, len(loads))
        for load, part in zip(loads, parts):
            load.data = part
        with running_service(url, self.issuer, self.workdir, processes) as served:
            cpu_before = sum(s.cpu_seconds() for s in served)
            results = run_wrk([s.base for s in served] * (len(loads) // processes), loads, self.workdir,
                              name.replace("_", "")[:12])
            cpu = sum(s.cpu_seconds() for s in served) - cpu_before
        offers = await _fetch(url, "select count(*) as n from offer")
        answered = sum(r["requests"] for r in results)
        for i, result in enumerate(results):
            check_statuses(name, result)
            # CPU per request: a steadier guide than rates on a machine shared with other work
            self.phases[f"{name}#{i}"] = {**result, "connections": loads[i].connections, "offers_in_database":
                                          offers[0]["n"], "service_cpu_ms_per_request": round(1000 * cpu / answered, 3)}
        print(f"  ({name}: service CPU {1000 * cpu / answered:.2f} ms per request, load average "
              f"{os.getloadavg()[0]:.1f})", flush=True)
        return results

    async def baseline_and_updates(self) -> None:
        c, small = self.config, self.config.sizes[0]
        health = (await self.wrk_phase("health", small, [Load("health", c.baseline_connections, c.seconds)]))[0]
        self.record("health_rps", health["requests_per_second"], "requests/s")
        base = health["requests_per_second"]
        updates = (await self.wrk_phase("unit_update", small, [Load("unit_update", c.update_connections, c.seconds)]))[0]
        self.record("unit_update_rps", updates["requests_per_second"], "requests/s", base)
        syncs = (await self.wrk_phase("availability_sync", small,
                                      [Load("availability_sync", c.sync_connections, c.seconds)]))[0]
        self.record("availability_sync_rps", syncs["requests_per_second"], "syncs/s", base)

    async def request_to_offer(self) -> None:
        for units in self.config.sizes:
            for connections in self.config.request_connections:
                name = f"request_offer_{units}u_c{connections}"
                result = (await self.wrk_phase(name, units, [Load("new_request", connections, self.config.seconds)]))[0]
                self.record(f"{name}_rps", result["requests_per_second"], "requests/s")
                self.record(f"{name}_p50_ms", result["p50_ms"], "ms")
                self.record(f"{name}_p99_ms", result["p99_ms"], "ms")

    async def mixed(self) -> None:
        c, small = self.config, self.config.sizes[0]
        one = await self.wrk_phase("mixed_one", small, [Load("mixed", c.mixed_connections, c.seconds)])
        half = max(1, c.mixed_connections // 2)
        two = await self.wrk_phase("mixed_two", small, [Load("mixed", half, c.seconds), Load("mixed", half, c.seconds)],
                                   processes=2)
        one_rps = one[0]["requests_per_second"]
        self.record("mixed_one_process_rps", one_rps, "requests/s")
        self.record("mixed_two_processes_rps", sum(r["requests_per_second"] for r in two), "requests/s", one_rps)

    async def batch(self) -> None:
        url = await self.copy(self.config.sizes[0])
        token = self.issuer.mint_token(subject="bench-operations", org="nat-drift", scopes=("batch:run",),
                                       client_id="bench-operations", lifetime=TOKEN_LIFETIME)
        with running_service(url, self.issuer, self.workdir) as (served,):
            base = served.base
            started = time.perf_counter()
            response = httpx.post(base + "/api/batch", headers={"Authorization": f"Bearer {token}"}, timeout=600)
            wall = time.perf_counter() - started
        if response.status_code != 200:
            raise BenchFailed(f"batch: {response.status_code} {response.text[:300]}")
        self.phases["batch"] = response.json()
        self.record("batch_wall_seconds", wall, "s")

    async def answers(self) -> None:
        """Accept offers and read addresses, each call by its own caller on its own offer."""
        url = await self.copy(self.config.sizes[0])
        with running_service(url, self.issuer, self.workdir) as (served,):
            async with httpx.AsyncClient(base_url=served.base, timeout=30) as client:
                offers = await self._make_offers(client, url)
                accept = await self._timed(client, [self._accept_call(o) for o in offers], "accept_offer")
                reads = [self._address_call(o, accept[o["offer_id"]]) for o in offers if o["offer_id"] in accept]
                await self._timed(client, reads, "read_address")

    async def _make_offers(self, client: httpx.AsyncClient, url: str) -> list[dict]:
        places = await _fetch(url, "select id from organisation where kind = 'municipality' order by id limit $1",
                              WORKER_MUNICIPALITIES)
        made = []
        for i in range(self.config.answer_calls * 2):
            if len(made) == self.config.answer_calls:
                break
            org = places[i % len(places)]["id"]
            token = worker_token(self.issuer, org, f"bench-answer-worker-{i}")
            body = {"case_reference": f"ANS-{i}-X", "urgency": "days", "security_level_needed": 1,
                    "protected_data_level": "none", "adults": [{"gender": "female", "age": 30 + i % 20}],
                    "latest_start_date": time.strftime("%Y-%m-%d")}
            created = await client.post("/api/requests", json=body, headers={"Authorization": f"Bearer {token}"})
            offer = created.json().get("offer") if created.status_code == 201 else None
            if offer:
                made.append({"offer_id": offer["id"], "worker": token})
        rows = await _fetch(url, "select o.id, s.operator_id from offer o join unit u on u.id = o.unit_id "
                                 "join shelter s on s.id = u.shelter_id where o.id = any($1::uuid[])",
                            [m["offer_id"] for m in made])
        operator = {str(r["id"]): r["operator_id"] for r in rows}
        return [{**m, "operator": operator[m["offer_id"]]} for m in made]

    def _accept_call(self, offer: dict):
        token = staff_token(self.issuer, offer["operator"], f"bench-accept-{offer['offer_id']}")
        return offer["offer_id"], "POST", f"/api/offers/{offer['offer_id']}/accept", token

    def _address_call(self, offer: dict, accepted: dict):
        return offer["offer_id"], "GET", f"/api/placements/{accepted['placement_id']}/address?purpose=arrange_arrival", \
            offer["worker"]

    async def _timed(self, client: httpx.AsyncClient, calls: list, name: str) -> dict[str, dict]:
        """Run the calls `answer_concurrency` at a time; record median and p99; the answers by key."""
        gate = asyncio.Semaphore(self.config.answer_concurrency)
        latencies, answers, statuses = [], {}, {}

        async def one(key, method, path, token):
            async with gate:
                started = time.perf_counter()
                response = await client.request(method, path, headers={"Authorization": f"Bearer {token}"})
                latencies.append((time.perf_counter() - started) * 1000)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if response.status_code == 200:
                answers[key] = response.json()

        await asyncio.gather(*(one(*call) for call in calls))
        check_statuses(name, {"statuses": statuses})
        self.phases[name] = {"calls": len(calls), "statuses": statuses}
        latencies.sort()
        self.record(f"{name}_p50_ms", latencies[len(latencies) // 2], "ms")
        self.record(f"{name}_p99_ms", latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "ms")
        return answers


# the run ------------------------------------------------------------------------------------------------

async def run(config: Config, server_url: str, workdir: Path) -> tuple[dict, dict]:
    with DevIssuer(workdir / "issuer-keys") as issuer:
        bench = Bench(config, server_url, issuer, workdir)
        try:
            for phase in config.phases:
                await getattr(bench, phase)()
        finally:
            await database.drop_databases(server_url, *[bench.template(u) for u in bench.datasets], *bench.databases)
    settings = {**asdict(config), "datasets": bench.datasets, "load_tool": "wrk (one connection per thread)",
                "processes": "1 (2 for mixed_two_processes)", "phase_results": bench.phases}
    return settings, bench.figures


def server_url_or_embedded(workdir: Path) -> str:
    """DATABASE_URL's server (its admin database) or a throwaway embedded PostgreSQL."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    return database.start_embedded_server(workdir / "pgdata", throwaway=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny data, one second per phase (for the test)")
    parser.add_argument("--seconds", type=int, help="seconds per load phase (default 8)")
    parser.add_argument("--sizes", help="unit counts, comma-separated (default 3000,10000); the first for every phase")
    parser.add_argument("--only", help="comma-separated phases to run (default all: " + ",".join(PHASES) + ")")
    parser.add_argument("--results-dir", type=Path, help="where to write the results file (default bench/results)")
    args = parser.parse_args(argv)
    config = Config.smoke_run() if args.smoke else Config()
    if args.seconds:
        config.seconds = args.seconds
    if args.sizes:
        config.sizes = tuple(int(s) for s in args.sizes.split(","))
    if args.only:
        config.phases = tuple(p for p in args.only.split(",") if p in PHASES)
    if shutil.which("wrk") is None:
        print("service_bench: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    try:
        settings, figures = asyncio.run(run(config, server_url_or_embedded(workdir), workdir))
    except BenchFailed as exc:
        print(f"service_bench: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    extra = {"directory": args.results_dir} if args.results_dir else {}
    path = write_results("service-smoke" if config.smoke else "service", settings, figures, **extra)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
