"""A social worker's "Ny bostad" (issue 24): from a placed case to an onward request (household and risk
assessment carried over), its offers and their history, and the address by a form post once accepted."""

from __future__ import annotations

import datetime as dt

from tests.housing_support import UMEA, apartment_body, housing_provider
from tests.web_support import csrf_token, logged_in
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body


async def test_ny_bostad_from_a_placement_to_the_address(create_migrated_database, issuer, tokens):
    """Input: a rent ceiling below every rent (refused with the reason), then a valid one; the provider
    accepts; the address read with a purpose; Stockholm's social worker asking for Malmö's request."""
    url = await create_migrated_database()
    await organisations(url)
    provider = await housing_provider(url, "north", UMEA)
    worker = tokens.social_worker(MALMO)["Authorization"].removeprefix("Bearer ")
    async with logged_in(url, issuer, worker) as client:
        staff, housing = tokens.staff("operator-north"), tokens.headers("housing_staff", provider)
        await publish(client, staff, shelter_body("2480", rate=2000, label="Norr"))
        placed = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-NY-1"),
                                    headers=tokens.social_worker(MALMO))).json()
        placement = (await client.post(f"/api/offers/{placed['offer']['id']}/accept", headers=staff)).json()
        await client.post("/api/apartments", json=apartment_body(UMEA, label="Ett", rent=6000), headers=housing)
        case = await client.get(f"/socialtjanst/arenden/{placed['id']}")
        link = f"/socialtjanst/bostad/ny?placement={placement['placement_id']}"
        assert link.replace("&", "&amp;") in case.text

        csrf = await csrf_token(client, link)
        today = dt.date.today().isoformat()
        cheap = await client.post(link, data={"_csrf_token": csrf, "case_reference": "MAL-NY-1",
                                              "max_rent_sek": "100", "earliest_move_in": today})
        assert cheap.status_code == 400 and "lägre än alla hyror" in cheap.text
        created = await client.post(link, data={"_csrf_token": csrf, "case_reference": "MAL-NY-1",
                                                "max_rent_sek": "8000", "earliest_move_in": today})
        assert created.status_code == 200 and "Erbjuden en lägenhet" in created.text, created.text
        onward_path = str(created.url.path)
        offer = (await client.get("/api/onward-offers", headers=housing)).json()[0]
        await client.post(f"/api/onward-offers/{offer['id']}/accept", headers=housing,
                          json={"lease_signed_on": today, "move_in_on": today})
        shown = await client.get(onward_path)
        assert "Kontrakt klart" in shown.text and "Nya hemmet" not in shown.text
        read = await client.post(onward_path + "/adress", data={"_csrf_token": csrf, "purpose": "arrange_move"})
        assert read.status_code == 200 and "Nya hemmet 6000" in read.text
    other = tokens.social_worker("0180")["Authorization"].removeprefix("Bearer ")
    async with logged_in(url, issuer, other) as client:
        assert (await client.get(onward_path)).status_code == 404
