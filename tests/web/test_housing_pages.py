"""The housing staff's pages (issue 24): their apartments with one tap for availability, and the onward
offers to accept (lease and move-in dates), decline (a reason from the list) and record the move-in.
Form posts with the CSRF token, through the same services as the API."""

from __future__ import annotations

import datetime as dt

from tests.housing_support import UMEA, apartment_body, housing_provider, onward_body
from tests.web_support import csrf_token, logged_in
from tests.workflow_support import MALMO, organisations


def _token(tokens, role: str, org: str) -> str:
    return tokens.headers(role, org)["Authorization"].removeprefix("Bearer ")


async def test_housing_staff_answer_onward_offers_on_their_pages(create_migrated_database, issuer, tokens):
    """Input: two apartments and an onward request offered the cheaper one; a tap making the offered one
    unavailable (refused), a decline, an accept with a move-in date in the past (refused), then with a
    valid one, and the move-in; a social worker opening the housing pages (403)."""
    url = await create_migrated_database()
    await organisations(url)
    provider = await housing_provider(url, "north", UMEA)
    async with logged_in(url, issuer, _token(tokens, "housing_staff", provider)) as client:
        staff = tokens.headers("housing_staff", provider)
        for label, rent in (("Ett", 6000), ("Två", 7000)):
            await client.post("/api/apartments", json=apartment_body(UMEA, label=label, rent=rent), headers=staff)
        onward = (await client.post("/api/onward-requests", json=onward_body("MAL-WEB-1"),
                                    headers=tokens.social_worker(MALMO))).json()
        board = await client.get("/bostad")
        assert board.status_code == 200 and "Kan erbjudas" in board.text and "Erbjuden till ett hushåll" in board.text
        cheap = next(a for a in (await client.get("/api/apartments", headers=staff)).json() if a["label"] == "Ett")
        csrf = await csrf_token(client, "/bostad")
        tapped = await client.post(f"/bostad/lagenheter/{cheap['id']}/status",
                                   data={"_csrf_token": csrf, "status": "unavailable", "version": cheap["version"]})
        assert tapped.status_code == 200 and "svara på erbjudandet först" in tapped.text

        first = onward["offers"][0]["id"]
        csrf = await csrf_token(client, "/bostad/erbjudanden")
        declined = await client.post(f"/bostad/erbjudanden/{first}/avboj",
                                     data={"_csrf_token": csrf, "reason": "no_rent_guarantee"})
        assert declined.status_code == 200 and "Hushållet erbjuds nästa lägenhet" in declined.text
        second = (await client.get("/api/onward-offers", headers=staff)).json()[0]["id"]
        today, yesterday = dt.date.today(), dt.date.today() - dt.timedelta(days=1)
        late = await client.post(f"/bostad/erbjudanden/{second}/acceptera", data={
            "_csrf_token": csrf, "lease_signed_on": yesterday.isoformat(), "move_in_on": yesterday.isoformat()})
        assert "Inflyttningsdagen har redan passerat" in late.text
        accepted = await client.post(f"/bostad/erbjudanden/{second}/acceptera", data={
            "_csrf_token": csrf, "lease_signed_on": today.isoformat(), "move_in_on": today.isoformat()})
        assert accepted.status_code == 200 and "Socialtjänsten kan nu se adressen" in accepted.text
        moved = await client.post(f"/bostad/erbjudanden/{second}/inflyttning", data={"_csrf_token": csrf})
        assert moved.status_code == 200 and "Inflyttat" in moved.text
        statuses = [o["status"] for o in (await client.get("/api/onward-offers", headers=staff)).json()]
        assert sorted(statuses) == ["accepted", "declined"]
    async with logged_in(url, issuer, _token(tokens, "social_worker", f"kommun-{MALMO}")) as client:
        assert (await client.get("/bostad")).status_code == 403
