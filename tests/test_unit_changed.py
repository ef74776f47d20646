"""unit.changed: a webhook subscriber hears of every unit change, whichever path made it (API, bulk
sync, web page; the feed path is in tests/test_feeds.py), and of nothing that only confirms."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from litestar.testing import AsyncTestClient

from skyddat_boende import database
from skyddat_boende.webhooks.delivery import deliver_due
from tests import factories
from tests.conftest import make_app
from tests.test_capacity_api import SHELTER
from tests.web_support import csrf_token, logged_in
from tests.webhook_support import Receiver


@pytest.fixture(scope="module")
async def own_url(create_migrated_database) -> str:
    return await create_migrated_database()


@pytest.fixture
async def setup(own_url, issuer, tokens):
    """An operator with a unit.changed subscription to a real receiver, and the app without its worker."""
    receiver = Receiver()
    pool = await database.create_pool(own_url)
    async with pool.acquire() as conn:
        operator = await factories.operator_org(conn, f"uc-{uuid.uuid4().hex[:8]}")
    async with AsyncTestClient(app=make_app(own_url, issuer, run_jobs=False)) as api:
        created = await api.post("/api/webhooks", json={"url": receiver.url, "event_types": ["unit.changed"]},
                                 headers=tokens.headers("org_admin", operator))
        assert created.status_code == 201, created.text
        yield api, pool, receiver, operator
    await pool.close()
    receiver.close()


async def delivered_units(pool, receiver) -> list[str]:
    """Deliver what is due; the unit ids of the unit.changed events received so far."""
    async with httpx.AsyncClient() as http:
        while await deliver_due(pool, http, allow_loopback_http=True):
            pass
    bodies = [json.loads(body) for _, body, _ in receiver.requests]
    assert all(b["type"] == "unit.changed" and set(b["data"]) == {"unit_id", "shelter_id"} for b in bodies)
    return [b["data"]["unit_id"] for b in bodies]


async def test_every_path_that_changes_a_unit_emits_unit_changed(setup, tokens, own_url, issuer):
    """Input: a unit created and patched over the API, two units synced in bulk (one changed, one the same),
    the same sync again, and a status change on the staff page: one event per actual change."""
    api, pool, receiver, operator = setup
    staff = tokens.staff(operator)
    shelter = (await api.post("/api/shelters", json=SHELTER, headers=staff)).json()
    a = (await api.post(f"/api/shelters/{shelter['id']}/units", json={"label": "A", "beds": 2}, headers=staff)).json()
    b = (await api.post(f"/api/shelters/{shelter['id']}/units", json={"label": "B", "beds": 2}, headers=staff)).json()
    # one subscription's events go out several at once: their arrival order is not theirs
    assert sorted(await delivered_units(pool, receiver)) == sorted([a["id"], b["id"]])

    patched = await api.patch(f"/api/units/{a['id']}", json={"beds": 3}, headers=staff | {"If-Match": '"v1"'})
    assert patched.status_code == 200
    assert (await delivered_units(pool, receiver))[2:] == [a["id"]]

    body = {"units": [{"unit_id": a["id"], "status": "out_of_service"}, {"unit_id": b["id"], "status": "available"}]}
    assert (await api.put("/api/availability", json=body, headers=staff)).json()["changed"] == 1
    assert (await delivered_units(pool, receiver))[3:] == [a["id"]]
    assert (await api.put("/api/availability", json=body, headers=staff)).json()["changed"] == 0
    assert (await delivered_units(pool, receiver))[4:] == []  # an identical sync only confirms

    token = staff["Authorization"].removeprefix("Bearer ")
    async with logged_in(own_url, issuer, token) as web:
        csrf = await csrf_token(web, "/boende")
        version = str((await api.get(f"/api/units/{b['id']}", headers=staff)).json()["version"])
        posted = await web.post(f"/boende/enheter/{b['id']}/status", follow_redirects=False,
                                data={"_csrf_token": csrf, "status": "out_of_service", "version": version})
        assert posted.status_code == 303
    assert (await delivered_units(pool, receiver))[4:] == [b["id"]]
