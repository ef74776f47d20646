"""Conflicting workflow steps through two service processes at once (issue 21): requests, accepts,
declines, withdrawals, units marked occupied and available again, and the national batch, all racing
for a few shared and whole units. No answer is a 5xx, and the database's invariants hold afterwards."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import httpx

from skyddat_boende import database
from tests.helpers import running_server
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, shelter_body

NORTH = "operator-north"
OPERATIONS_PER_WORKER = 50
WORKERS = 8


def _household(i: int) -> dict:
    return mother_with_son_and_dog(f"STORM-{i:04d}", children=[], needs=[], min_distance_km=0, urgency="days")


class Storm:
    def __init__(self, http: httpx.AsyncClient, bases: list[str], tokens, units: list[str]) -> None:
        self.http, self.bases, self.units = http, bases, units
        self.staff, self.malmo = tokens.staff(NORTH), tokens.social_worker(MALMO)
        self.batch = tokens.headers(None, "nat-drift", "batch:run")
        self.requests: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.created = 0

    async def call(self, method: str, path: str, headers: dict, **kwargs) -> httpx.Response:
        response = await self.http.request(method, random.choice(self.bases) + path, headers=headers, **kwargs)
        self.statuses[response.status_code] += 1
        return response

    async def open_offer(self) -> str | None:
        offers = (await self.call("GET", "/api/offers?status=open&limit=50", self.staff)).json()
        return random.choice(offers)["id"] if offers else None

    async def step(self, rng: random.Random) -> None:
        kind = rng.choice(["create", "create", "accept", "accept", "decline", "withdraw", "unit", "batch"])
        if kind == "create":
            self.created += 1
            created = await self.call("POST", "/api/requests", self.malmo, json=_household(self.created))
            if created.status_code == 201:
                self.requests.append(created.json()["id"])
        elif kind in ("accept", "decline") and (offer := await self.open_offer()):
            body = {"json": {"reason": "full"}} if kind == "decline" else {}
            await self.call("POST", f"/api/offers/{offer}/{kind}", self.staff, **body)
        elif kind == "withdraw" and self.requests:
            await self.call("POST", f"/api/requests/{rng.choice(self.requests)}/withdraw", self.malmo)
        elif kind == "unit":
            unit = (await self.call("GET", f"/api/units/{rng.choice(self.units)}", self.staff))
            status = "available" if unit.json()["status"] != "available" else rng.choice(["occupied", "available"])
            await self.call("PATCH", f"/api/units/{unit.json()['id']}", {**self.staff, "If-Match": unit.headers["etag"]},
                            json={"status": status})
        elif kind == "batch":
            await self.call("POST", "/api/batch", self.batch)


async def test_storm_of_conflicting_steps_answers_no_5xx_and_keeps_invariants(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0",
           "SB_SWEEP_INTERVAL_SECONDS": "1", "SB_ACUTE_OFFER_HOLD_MINUTES": "1", "SB_OFFER_HOLD_MINUTES": "1"}
    with running_server(env) as first, running_server(env) as second:
        async with httpx.AsyncClient(timeout=30) as http:
            staff = tokens.staff(NORTH)
            shelter = (await http.post(f"{first}/api/shelters", headers=staff,
                                       json=shelter_body("2480", rate=2000, label="Storm"))).json()
            units = []
            for label, beds, shareable in (("Delad 4", 4, True), ("Delad 3", 3, True), ("Hel 2", 2, False),
                                           ("Hel 3", 3, False)):
                created = await http.post(f"{first}/api/shelters/{shelter['id']}/units", headers=staff,
                                          json={"label": label, "beds": beds, "shareable": shareable})
                units.append(created.json()["id"])
            storm = Storm(http, [first, second], tokens, units)

            async def worker(seed: int) -> None:
                rng = random.Random(seed)
                for _ in range(OPERATIONS_PER_WORKER):
                    await storm.step(rng)

            await asyncio.gather(*(worker(seed) for seed in range(WORKERS)))
    assert not [s for s in storm.statuses if s >= 500], storm.statuses
    assert sum(storm.statuses.values()) >= WORKERS * OPERATIONS_PER_WORKER

    conn = await database.connect(url)
    try:
        assert await conn.fetchval("""
            select count(*) from unit u
             where u.beds_taken <> coalesce((select sum(p.beds) from placement p
                                              where p.unit_id = u.id and p.status <> 'moved_out'), 0)
                or u.beds_taken + coalesce((select sum(o.beds) from offer o
                                             where o.unit_id = u.id and o.status = 'open'), 0) > u.beds
                or (u.status <> 'available' and exists (select 1 from offer o
                                                         where o.unit_id = u.id and o.status = 'open'))""") == 0
        assert await conn.fetchval("""
            select count(*) from placement_request r
             where (r.status = 'placed') <> exists (select 1 from placement p where p.request_id = r.id)
                or (r.status = 'offered') <> exists (select 1 from offer o where o.request_id = r.id
                                                     and o.status = 'open')""") == 0
    finally:
        await conn.close()
