"""A PostgreSQL restart or an exhausted pool under the running service (issue 21, defect 5): every answer
is then 503 problem+json with Retry-After (and /ready 503), never 500; afterwards the service recovers
by itself. For the restart a PostgreSQL server of the test's own is stopped and started, so no other
test's database goes away."""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
import time
import uuid
import warnings
from collections import Counter
from pathlib import Path

import httpx
import pytest

from skyddat_boende import database
from tests.helpers import running_server, waiting_for_locks
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body


@pytest.fixture(scope="module")
def own_postgres_server():
    """The module's own PostgreSQL server, made once (initdb and start take seconds): each test that
    stops it starts it again, and gets a database of its own on it (see own_postgres)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs on a machine without XDG_RUNTIME_DIR; harmless here
        import pgserver

    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="skyddat-outage-pg-")), cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture
def own_postgres(own_postgres_server):
    from pgserver._commands import pg_ctl

    server = own_postgres_server
    server.ensure_postgres_running()  # a test that failed while it was stopped leaves it stopped

    class Control:
        url = server.get_uri()
        # a new database for each test: the service applies the migrations to it as it starts
        database = f"skyddat_outage_{uuid.uuid4().hex[:8]}"

        @staticmethod
        def stop() -> None:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)

        @staticmethod
        def start() -> None:
            server.ensure_postgres_running()

    yield Control


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1


class Load:
    """Clients that keep reading and writing through a restart: each creates a request, reads it and the
    lists, has the shelter accept its offer and the household move out, or withdraws it. Every answer is
    kept; after a 503 to a write the client starts over with a new request, since it cannot know whether
    the change was made."""

    def __init__(self, http: httpx.AsyncClient, malmo: dict, staff: dict) -> None:
        self.http, self.malmo, self.staff = http, malmo, staff
        self.answers: list[httpx.Response] = []
        self.running = True

    async def call(self, method: str, path: str, headers: dict, **kwargs) -> httpx.Response:
        response = await self.http.request(method, path, headers=headers, **kwargs)
        self.answers.append(response)
        return response

    async def client(self, n: int) -> None:
        for k in itertools.count():
            if not self.running:
                return
            created = await self.call("POST", "/api/requests", self.malmo,
                                      json=mother_with_son_and_dog(f"LOAD-{n}-{k}"))
            await self.call("GET", "/api/requests?limit=5", self.malmo)
            await self.call("GET", "/ready", {})
            if created.status_code != 201:
                await asyncio.sleep(0.05)
                continue
            request = created.json()
            await self.call("GET", f"/api/requests/{request['id']}", self.malmo)
            if request["offer"] is None or n % 2:
                await self.call("POST", f"/api/requests/{request['id']}/withdraw", self.malmo)
                continue
            accepted = await self.call("POST", f"/api/offers/{request['offer']['id']}/accept", self.staff)
            if accepted.status_code == 200:
                await self.call("POST", f"/api/placements/{accepted.json()['placement_id']}/move-out", self.staff)


async def test_restart_under_load_answers_503_with_retry_after_then_recovers(own_postgres, issuer, tokens):
    """Input: six clients reading and writing while PostgreSQL stops for two seconds and starts again.
    Every answer is 2xx or 503 problem+json with Retry-After: no 500, no 4xx from a broken connection."""
    url = await database.ensure_database(own_postgres.url, own_postgres.database)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "100000", "SB_DB_POOL_WAIT_SECONDS": "2",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0"}
    malmo, staff = tokens.social_worker(MALMO), tokens.staff("operator-north")
    with running_server(env) as base:  # applies the migrations to the new database
        await organisations(url)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            await publish(http, staff, shelter_body("2480", rate=2000, label="Norr"), beds=4)
            load = Load(http, malmo, staff)
            clients = [asyncio.create_task(load.client(n)) for n in range(6)]
            while len(load.answers) < 24:  # the load is under way before the outage
                await asyncio.sleep(0.05)
            before = len(load.answers)
            await asyncio.to_thread(own_postgres.stop)
            await asyncio.sleep(2)
            await asyncio.to_thread(own_postgres.start)
            deadline = time.monotonic() + 20
            while (ready := await http.get("/ready")).status_code != 200:
                _assert_unavailable(ready)
                assert time.monotonic() < deadline, "the service did not recover"
                await asyncio.sleep(0.2)
            recovered = len(load.answers)
            await asyncio.sleep(1)
            load.running = False
            await asyncio.gather(*clients)
    # before the outage the load works (a 503 busy under contention is allowed, and checked below)
    assert {a.request.method for a in load.answers[:before] if a.is_success} == {"GET", "POST"}, \
        [a.status_code for a in load.answers[:before]]
    for answer in load.answers:
        if not answer.is_success:
            _assert_unavailable(answer)
    assert sum(a.status_code == 503 for a in load.answers) >= 6, "the load did not meet the outage"
    assert any(a.is_success for a in load.answers[recovered:]), "nothing succeeded after the restart"
    assert any(a.is_success and a.request.method == "POST" for a in load.answers[recovered:]), "no write after"
    print(Counter(a.status_code for a in load.answers), before, recovered, len(load.answers))


async def test_restart_answers_503_with_retry_after_then_recovers(own_postgres, issuer, tokens):
    url = await database.ensure_database(own_postgres.url, own_postgres.database)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0"}
    malmo = tokens.social_worker(MALMO)
    with running_server(env) as base:  # applies the migrations to the new database
        await organisations(url)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            assert (await http.get("/api/requests", headers=malmo)).status_code == 200
            await asyncio.to_thread(own_postgres.stop)
            for _ in range(3):  # pooled connections broken, then new ones refused
                _assert_unavailable(await http.get("/ready"))
                _assert_unavailable(await http.get("/api/requests", headers=malmo))
                _assert_unavailable(await http.post("/api/requests", headers=malmo, json=mother_with_son_and_dog()))
            await asyncio.to_thread(own_postgres.start)
            deadline = time.monotonic() + 20
            while (ready := await http.get("/ready")).status_code != 200:
                _assert_unavailable(ready)
                assert time.monotonic() < deadline, "the service did not recover"
                await asyncio.sleep(0.2)
            created = await http.post("/api/requests", headers=malmo, json=mother_with_son_and_dog())
            assert created.status_code == 201, created.text


async def test_exhausted_pool_answers_503_with_retry_after(create_migrated_database, issuer, tokens):
    """One pooled connection, held by an accept that waits for a lock (a test transaction holds the
    shelter): other calls wait SB_DB_POOL_WAIT_SECONDS for a connection, then get 503, not 500."""
    url = await create_migrated_database()
    await organisations(url)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0",
           "SB_DB_POOL_MAX": "1", "SB_DB_POOL_WAIT_SECONDS": "1"}
    staff, malmo = tokens.staff("operator-north"), tokens.social_worker(MALMO)
    with running_server(env) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            shelter, _ = await publish(http, staff, shelter_body("2480", rate=2000, label="Norr"))
            request = (await http.post("/api/requests", headers=malmo, json=mother_with_son_and_dog())).json()
            holder = await database.connect(url)
            try:
                async with holder.transaction():
                    await holder.execute("select 1 from shelter where id = $1 for update", uuid.UUID(shelter["id"]))
                    accept = asyncio.create_task(http.post(f"/api/offers/{request['offer']['id']}/accept",
                                                           headers=staff))
                    await waiting_for_locks(holder)
                    _assert_unavailable(await http.get("/api/requests", headers=malmo))
                    _assert_unavailable(await http.get("/ready"))
            finally:
                await holder.close()
            assert (await accept).status_code == 200
            assert (await http.get("/api/requests", headers=malmo)).status_code == 200
