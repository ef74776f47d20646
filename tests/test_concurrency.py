"""Two service processes on one database, 100 requests racing for a few units while shelter staff
accept (the same offers through both processes at once) and decline: the database keeps every
invariant."""

from __future__ import annotations

import asyncio
import json

import httpx

from skyddat_boende import database
from tests.helpers import running_servers
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, shelter_body

NORTH = "operator-north"
REQUESTS = 100


def _single_woman(i: int) -> dict:
    return mother_with_son_and_dog(f"RACE-{i:03d}", children=[], needs=[], min_distance_km=0,
                                   threat_municipalities=[MALMO], urgency="days")


async def _accept_everything(base_urls, headers, stop: asyncio.Event, results: list[int], decline=True) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        while not stop.is_set():
            listed = await http.get(f"{base_urls[0]}/api/offers?status=open&limit=200", headers=headers)
            assert listed.status_code == 200, listed.text
            offers = listed.json()
            for n, offer in enumerate(offers):
                if decline and n % 4 == 3:  # decline some: the next candidate is offered
                    r = await http.post(f"{base_urls[1]}/api/offers/{offer['id']}/decline", headers=headers,
                                        json={"reason": "cannot_meet_needs"})
                    results.append(r.status_code)
                    continue
                # the same offer accepted through both processes at once: one placement, whoever answers
                answers = await asyncio.gather(*(
                    http.post(f"{base}/api/offers/{offer['id']}/accept", headers=headers) for base in base_urls))
                results.extend(a.status_code for a in answers)
            await asyncio.sleep(0.05)


async def test_two_processes_100_requests_never_overbook(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0"}
    staff = tokens.staff(NORTH)
    social_worker = tokens.social_worker(MALMO)
    with running_servers(env, 2) as (first, second):
        bases = [first, second]
        async with httpx.AsyncClient(timeout=30) as http:
            shelter = (await http.post(f"{first}/api/shelters", headers=staff,
                                       json=shelter_body("2480", rate=2000, label="Race"))).json()
            for label, beds, shareable in (("Delad 4", 4, True), ("Delad 3", 3, True), ("Hel 2", 2, False)):
                created = await http.post(f"{second}/api/shelters/{shelter['id']}/units", headers=staff,
                                          json={"label": label, "beds": beds, "shareable": shareable})
                assert created.status_code == 201
            stop, answers = asyncio.Event(), []
            acceptor = asyncio.create_task(_accept_everything(bases, staff, stop, answers))
            sem = asyncio.Semaphore(20)

            async def request(i: int) -> int:
                async with sem:
                    r = await http.post(f"{bases[i % 2]}/api/requests", headers=social_worker, json=_single_woman(i))
                    return r.status_code

            statuses = await asyncio.gather(*(request(i) for i in range(REQUESTS)))
            await asyncio.sleep(1.0)
            stop.set()
            await acceptor
            # requests that came while every place was held, or were declined, wait for the national batch:
            # run it through both processes at once (one runs; the other is told so, or finds nothing left)
            operations = tokens.headers(None, "nat-drift", "batch:run")
            for _ in range(4):
                batches = await asyncio.gather(*(http.post(f"{b}/api/batch", headers=operations) for b in bases))
                assert sorted(b.status_code for b in batches) in ([200, 200], [200, 409])
                if not any(b.status_code == 200 and b.json()["offers_made"] for b in batches):
                    break
                stop = asyncio.Event()
                acceptor = asyncio.create_task(_accept_everything(bases, staff, stop, answers, decline=False))
                await asyncio.sleep(1.0)
                stop.set()
                await acceptor
    assert statuses == [201] * REQUESTS
    # the same offer accepted through both processes: both answer its one placement (accept is
    # idempotent), or the loser of a race for the last beds is refused; never double-booked
    assert 200 in answers
    assert not set(answers) - {200, 409}

    conn = await database.connect(url)
    try:
        over = await conn.fetch("""
            select u.label, u.beds, u.beds_taken,
                   coalesce(sum(p.beds) filter (where p.status <> 'moved_out'), 0) as placed_beds,
                   count(p.id) filter (where p.status <> 'moved_out') as households, u.shareable
              from unit u left join placement p on p.unit_id = u.id group by u.id""")
        for unit in over:
            assert unit["placed_beds"] == unit["beds_taken"] <= unit["beds"], dict(unit)
            assert unit["shareable"] or unit["households"] <= 1, dict(unit)
        assert sum(u["households"] for u in over) == 4 + 3 + 1  # every place filled, none beyond
        # open offers hold beds: taken plus held never beyond the beds, one open offer on a whole unit
        assert await conn.fetchval("""
            select count(*) from unit u
             where u.beds_taken + coalesce((select sum(o.beds) from offer o
                                             where o.unit_id = u.id and o.status = 'open'), 0) > u.beds
                or (not u.shareable and (select count(*) from offer o
                                          where o.unit_id = u.id and o.status = 'open') > 1)""") == 0
        inconsistent = await conn.fetchval("""
            select count(*) from placement_request r
             where (r.status = 'placed') <> exists (select 1 from placement p where p.request_id = r.id)
                or (r.status = 'offered') <> exists (select 1 from offer o where o.request_id = r.id
                                                     and o.status = 'open')
                or r.status not in ('placed', 'offered', 'waiting')""")
        assert inconsistent == 0
        assert await conn.fetchval("select count(*) from offer where status = 'accepted'") == \
            await conn.fetchval("select count(*) from placement")
    finally:
        await conn.close()
