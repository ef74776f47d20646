"""A social worker's request page says when a request's window has passed and until when requests still
within theirs go first (matching.scoring.priority's give-way), and says nothing otherwise."""

from __future__ import annotations

import datetime as dt

from skyddat_boende import database
from tests.web_support import logged_in
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations

HEADING = "Tidsramen har gått ut"


async def _waited(url: str, request_id: str, days: int) -> dt.date:
    """Moves the request's waiting start `days` back from now; its date as the batch reads it."""
    conn = await database.connect(url)
    try:
        since = await conn.fetchval("update placement_request set waiting_since = now() - make_interval(days => $2)"
                                    " where id = $1 returning waiting_since", request_id, days)
    finally:
        await conn.close()
    return since.date()


async def test_a_request_past_its_window_says_until_when_others_go_first(create_migrated_database, issuer, tokens):
    """Input: a "days" request (window 7 days) that no shelter can take, waiting for 0, 10 and 30 days
    (the give-way lasts 21 days past the window), and an acute one waiting for 10 days."""
    url = await create_migrated_database()
    await organisations(url)
    worker = tokens.social_worker(MALMO)
    async with logged_in(url, issuer, worker["Authorization"].removeprefix("Bearer ")) as client:
        days = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-W-1", urgency="days"),
                                  headers=worker)).json()
        acute = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-W-2"), headers=worker)).json()
        assert days["status"] == acute["status"] == "waiting"
        page = f"/socialtjanst/arenden/{days['id']}"
        assert HEADING not in (await client.get(page)).text

        since = await _waited(url, days["id"], 10)
        shown = (await client.get(page)).text
        assert HEADING in shown
        ended, until = since + dt.timedelta(days=7), since + dt.timedelta(days=7 + 21)
        assert f"gick ut {ended.isoformat()}. Till och med {until.isoformat()}" in shown, shown

        await _waited(url, days["id"], 30)
        assert HEADING not in (await client.get(page)).text
        await _waited(url, acute["id"], 10)
        assert HEADING not in (await client.get(f"/socialtjanst/arenden/{acute['id']}")).text
