"""The address page: the reason and the read travel in a form POST with a CSRF token; a GET (which
another site can make a logged-in browser send) never reads the address or records a read."""

from __future__ import annotations

import uuid

from skyddat_boende import database
from tests import factories
from tests.helpers import chain_audit
from tests.web_support import csrf_token, logged_in
from tests.workflow_support import shelter_body

STREET = "Hemliga vägen 4100"


async def _placement_with_address(database_url: str, client, tokens) -> uuid.UUID:
    """Malmö's request placed in a unit of a new operator's shelter, published over the API with an address."""
    conn = await database.connect(database_url)
    try:
        malmo = await factories.municipality_org(conn, "1280")
        await factories.municipality_org(conn, "0180")
        operator = await factories.operator_org(conn, f"addr-{uuid.uuid4().hex[:8]}")
    finally:
        await conn.close()
    staff = tokens.staff(operator)
    shelter = await client.post("/api/shelters", headers=staff, json=shelter_body("2480", rate=4100, label="Huset"))
    unit = await client.post(f"/api/shelters/{shelter.json()['id']}/units", json={"label": "A", "beds": 2},
                             headers=staff)
    conn = await database.connect(database_url)
    try:
        offer = await factories.offer(conn, await factories.request(conn, malmo), uuid.UUID(unit.json()["id"]))
        return await factories.accept(conn, offer)
    finally:
        await conn.close()


async def _reads(database_url: str, placement_id: uuid.UUID) -> list[tuple[str, str | None]]:
    conn = await database.connect(database_url)
    try:
        await chain_audit(conn)
        rows = await conn.fetch("select outcome, purpose from audit_event where object_type = 'shelter_address' "
                                "and object_id = $1 order by seq", str(placement_id))
        return [(row["outcome"], row["purpose"]) for row in rows]
    finally:
        await conn.close()


async def test_the_address_is_read_by_a_form_post_with_csrf_never_by_a_get(database_url, issuer, tokens):
    """Input: a GET of the address page with ?purpose=emergency (as a link on another site would send),
    a POST without the CSRF token, a POST with an unknown reason, then the form's POST with a reason;
    and Stockholm's social worker posting the form for Malmö's placement."""
    token = tokens.social_worker("1280")["Authorization"].removeprefix("Bearer ")
    async with logged_in(database_url, issuer, token) as client:
        placement_id = await _placement_with_address(database_url, client, tokens)
        path = f"/socialtjanst/placeringar/{placement_id}/adress"

        lured = await client.get(path + "?purpose=emergency")
        assert lured.status_code == 200 and STREET not in lured.text
        assert 'method="post"' in lured.text and "_csrf_token" in lured.text
        forged = await client.post(path, data={"purpose": "emergency"})
        assert forged.status_code == 403 and STREET not in forged.text
        csrf = await csrf_token(client, path)
        unknown = await client.post(path, data={"_csrf_token": csrf, "purpose": "curiosity"})
        assert unknown.status_code == 400 and STREET not in unknown.text
        assert await _reads(database_url, placement_id) == []

        read = await client.post(path, data={"_csrf_token": csrf, "purpose": "contact_shelter"})
        assert read.status_code == 200 and STREET in read.text
        assert "purpose" not in str(read.url) and read.headers["cache-control"] == "no-store"
        assert await _reads(database_url, placement_id) == [("allowed", "contact_shelter")]

    other = tokens.social_worker("0180")["Authorization"].removeprefix("Bearer ")
    async with logged_in(database_url, issuer, other) as client:
        csrf = await csrf_token(client, "/socialtjanst")
        refused = await client.post(path, data={"_csrf_token": csrf, "purpose": "emergency"})
        assert refused.status_code == 404 and STREET not in refused.text
    assert await _reads(database_url, placement_id) == [("allowed", "contact_shelter"), ("denied", None)]
