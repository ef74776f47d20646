"""Two service processes on one database: onward requests racing for a few apartments while the provider
accepts every offer through both processes at once. The database keeps every invariant: an apartment
is offered to one household at a time and let to one; no answer is a 5xx."""

from __future__ import annotations

import asyncio
import json

import httpx

from skyddat_boende import database
from tests.helpers import running_servers
from tests.housing_support import UMEA, apartment_body, housing_provider, onward_body
from tests.workflow_support import MALMO, organisations

REQUESTS = 12
APARTMENTS = 3


async def test_racing_onward_requests_never_share_an_apartment(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    provider = await housing_provider(url, "north", UMEA)
    env = {"DATABASE_URL": url, "SB_ENV": "development", "SB_RATE_LIMIT_PER_MINUTE": "100000",
           "SB_TRUSTED_ISSUERS": json.dumps([issuer.trusted_issuer_config()]), "SB_BATCH_INTERVAL_MINUTES": "0"}
    staff, worker = tokens.headers("housing_staff", provider), tokens.social_worker(MALMO)
    with running_servers(env, 2) as (first, second):
        bases = [first, second]
        async with httpx.AsyncClient(timeout=30) as http:
            for i in range(APARTMENTS):
                created = await http.post(f"{bases[i % 2]}/api/apartments", headers=staff,
                                          json=apartment_body(UMEA, label=f"Lgh {i}"))
                assert created.status_code == 201, created.text
            filed = await asyncio.gather(*(
                http.post(f"{bases[i % 2]}/api/onward-requests", headers=worker, json=onward_body(f"RACE-ONW-{i}"))
                for i in range(REQUESTS)))
            assert {r.status_code for r in filed} == {201}
            offers = (await http.get(f"{first}/api/onward-offers", headers=staff)).json()
            dates = {"lease_signed_on": "2030-01-01", "move_in_on": "2030-02-01"}
            answers = await asyncio.gather(*(
                http.post(f"{base}/api/onward-offers/{offer['id']}/accept", headers=staff, json=dates)
                for offer in offers for base in bases))
    assert len(offers) == APARTMENTS
    assert {a.status_code for a in answers} == {200}  # the second answer of the same acceptance is a retry
    conn = await database.connect(url)
    try:
        assert await conn.fetchval("select count(*) from onward_offer where status = 'accepted'") == APARTMENTS
        assert await conn.fetchval("select count(*) from apartment where status = 'let'") == APARTMENTS
        assert await conn.fetchval("select count(*) from onward_request where status = 'accepted'") == APARTMENTS
        assert await conn.fetchval("select count(*) from onward_request where status = 'waiting'") == \
            REQUESTS - APARTMENTS
    finally:
        await conn.close()
