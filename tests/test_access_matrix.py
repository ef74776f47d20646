"""Every API operation x every role x own / other organisation, generated from the app's route table.

A new route without an access rule fails `test_every_api_route_declares_a_rule`; a route whose
guard or object filter lets anyone through outside its rule fails the matrix.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from skyddat_boende.access import Access
from tests.conftest import make_app
from tests.housing_support import apartment_body, housing_provider, onward_body
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body

ROLES = ("social_worker", "shelter_staff", "org_admin", "national_followup", "housing_staff")
# which organisation owns the world's objects, as seen by each role, and a same-role stranger
OWN = {"social_worker": "kommun-1280", "shelter_staff": "operator-north", "org_admin": "kommun-1280",
       "national_followup": "nat-socialstyrelsen", "housing_staff": "housing-north"}
OTHER = {"social_worker": "kommun-0180", "shelter_staff": "operator-east", "org_admin": "kommun-0180",
         "national_followup": "nat-lansstyrelsen-bd", "housing_staff": "housing-west"}
# partner systems: the organisation a scope acts for in this world
SCOPE_OWNER = {"capacity": "operator-north", "offers": "operator-north", "placements": "kommun-1280",
               "statistics": "nat-uppfoljning", "batch": "nat-drift", "audit": "nat-ivo", "feeds": "kommun-1280",
               "apartments": "housing-north", "onward-offers": "housing-north"}
SCOPE_STRANGER = {"capacity": "operator-east", "offers": "operator-east", "placements": "kommun-0180",
                  "statistics": "kommun-0180", "batch": "operator-east", "audit": "kommun-0180",
                  "feeds": "kommun-0180", "apartments": "housing-west", "onward-offers": "operator-north"}
# who a role or scope is for: written out here, independently of access.py
ROLE_ORG_KIND = {"social_worker": "kommun-", "national_followup": "nat-", "housing_staff": "housing-"}
SCOPE_ORG_KIND = {"statistics:read": "nat-", "audit:read": "nat-", "batch:run": "nat-",
                  "apartments:read": "housing-", "apartments:write": "housing-", "onward-offers:read": "housing-",
                  "onward-offers:write": "housing-"}
TERMINAL = ("/move-out", "/withdraw", "/accept", "/decline")
TOMORROW = (dt.date.today() + dt.timedelta(days=30)).isoformat()
TODAY = dt.date.today().isoformat()
BODIES = {
    ("POST", "/api/shelters"): shelter_body("2480", rate=2100, label="Matris"),
    ("PATCH", "/api/shelters/{shelter_id:uuid}"): {"daily_rate_sek": 2200},
    ("PUT", "/api/shelters/{shelter_id:uuid}/address"): {"street": "Ny väg 1", "postal_code": "901 01",
                                                          "city": "Umeå", "contact_phone": "+46 90 111 11 11"},
    ("POST", "/api/shelters/{shelter_id:uuid}/units"): {"label": "Matris", "beds": 1},
    ("PATCH", "/api/units/{unit_id:uuid}"): {"available_from": TOMORROW},
    ("PUT", "/api/availability"): {"units": []},
    ("POST", "/api/requests"): mother_with_son_and_dog("MATRIX-1"),
    ("POST", "/api/offers/{offer_id:uuid}/decline"): {"reason": "other"},
    ("POST", "/api/placements/{placement_id:uuid}/check-in"): {},
    ("PATCH", "/api/placements/{placement_id:uuid}"): {"planned_end_date": TOMORROW},
    ("POST", "/api/webhooks"): {"url": "https://hooks.example/skyddat", "event_types": ["offer.created"]},
    ("POST", "/api/feeds"): {"url": "https://feeds.example/skyddat.json"},
    ("POST", "/api/apartments"): apartment_body("2480", label="Matris"),
    ("PATCH", "/api/apartments/{apartment_id:uuid}"): {"monthly_rent_sek": 7100},
    ("PUT", "/api/apartments/{apartment_id:uuid}/address"): {"street": "Ny väg 2", "postal_code": "901 02",
                                                              "city": "Umeå", "contact_phone": "+46 90 111 11 12"},
    ("PUT", "/api/apartment-availability"): {"apartments": []},
    ("POST", "/api/onward-requests"): onward_body("MATRIX-ONW"),
    ("POST", "/api/onward-offers/{onward_offer_id:uuid}/accept"): {"lease_signed_on": TODAY, "move_in_on": TOMORROW},
    ("POST", "/api/onward-offers/{onward_offer_id:uuid}/decline"): {"reason": "other"},
}


QUERIES = {"/api/placements/{placement_id:uuid}/address": "?purpose=follow_up",
           "/api/onward-requests/{onward_request_id:uuid}/address": "?purpose=follow_up"}


def api_operations(app) -> list[tuple[str, str, object]]:
    operations = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api"):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                operations.append((method, route.path, handler))
    # reads first, state-ending actions last, so every operation still finds the world it expects
    return sorted(operations, key=lambda op: (op[0] != "GET", op[1].endswith(TERMINAL), op[0] == "DELETE", op[1]))



def test_every_api_route_declares_a_rule(database_url, issuer):
    app = make_app(database_url, issuer)
    operations = api_operations(app)
    assert len(operations) >= 30
    missing = [(m, p) for m, p, h in operations if not isinstance(h.opt.get("access"), Access)]
    assert missing == []


def _expected_allowed(rule: Access, role: str | None, scopes: tuple[str, ...], org: str) -> bool:
    """The rule, read independently of Access.allows: people by role, partner systems by scope, each
    only for its kind of organisation."""
    if rule.any_caller:
        return True
    if role is not None:
        return role in rule.roles and org.startswith(ROLE_ORG_KIND.get(role, ""))
    return any(org.startswith(SCOPE_ORG_KIND.get(scope, "")) for scope in set(scopes) & rule.scopes)


@pytest.fixture
async def world(create_migrated_database, issuer, tokens):
    url = await create_migrated_database()
    await organisations(url)
    app = make_app(url, issuer, rate_limit_per_minute=1_000_000)
    async with AsyncTestClient(app=app) as client:
        north = tokens.staff("operator-north")
        shelter, unit = await publish(client, north, shelter_body("2480", rate=2000, label="Norr"))
        await client.post(f"/api/shelters/{shelter['id']}/units", json={"label": "Lgh 2", "beds": 3}, headers=north)
        malmo = tokens.social_worker(MALMO)
        first = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-A"), headers=malmo)).json()
        second = (await client.post("/api/requests", json=mother_with_son_and_dog("MAL-B"), headers=malmo)).json()
        accepted = await client.post(f"/api/offers/{second['offer']['id']}/accept", headers=north)
        webhook = await client.post("/api/webhooks", json=BODIES[("POST", "/api/webhooks")],
                                    headers=tokens.headers("org_admin", "kommun-1280"))
        feed = await client.post("/api/feeds", json=BODIES[("POST", "/api/feeds")],
                                 headers=tokens.headers("org_admin", "kommun-1280"))
        assert first["offer"] and accepted.status_code == 200 and webhook.status_code == 201, webhook.text
        assert feed.status_code == 201, feed.text
        ids = {
            "shelter_id": shelter["id"], "unit_id": unit["id"], "request_id": first["id"],
            "offer_id": first["offer"]["id"], "placement_id": accepted.json()["placement_id"],
            "webhook_id": webhook.json()["id"], "feed_id": feed.json()["id"], **await _onward_world(client, url, tokens),
        }
        yield client, app, ids


async def _onward_world(client, url, tokens) -> dict[str, str]:
    """Housing providers north and west; two onward requests of Malmö, one offered, one accepted (so that
    its address is readable), and an apartment nobody was offered (pets not allowed)."""
    for slug, code in (("north", "2480"), ("west", "1480")):
        await housing_provider(url, slug, code)
    staff = tokens.headers("housing_staff", "housing-north")
    for label in ("Matris A", "Matris B"):
        assert (await client.post("/api/apartments", json=apartment_body("2480", label=label),
                                  headers=staff)).status_code == 201
    spare = await client.post("/api/apartments", json=apartment_body("2480", label="Matris C", pets_allowed=False),
                              headers=staff)
    malmo = tokens.social_worker(MALMO)
    open_one = (await client.post("/api/onward-requests", json=onward_body("MAL-ONW-A"), headers=malmo)).json()
    taken = (await client.post("/api/onward-requests", json=onward_body("MAL-ONW-B"), headers=malmo)).json()
    accepted = await client.post(f"/api/onward-offers/{taken['offers'][0]['id']}/accept",
                                 json={"lease_signed_on": TODAY, "move_in_on": TOMORROW}, headers=staff)
    assert accepted.status_code == 200 and open_one["status"] == "offered", accepted.text
    return {"apartment_id": spare.json()["id"], "onward_request_id": taken["id"],
            "onward_offer_id": open_one["offers"][0]["id"]}


def _personas(tokens, rule: Access, own: bool):
    for role in ROLES:
        org = (OWN if own else OTHER)[role]
        yield f"{role}@{org}", role, (), org, tokens.headers(role, org)
    for scope in sorted(rule.scopes) or ["capacity:read"]:
        family = scope.split(":")[0]
        org = (SCOPE_OWNER if own else SCOPE_STRANGER)[family]
        yield f"system[{scope}]@{org}", None, (scope,), org, tokens.headers(None, org, scope)
    org = "operator-north" if own else "operator-east"
    yield f"system[unrelated]@{org}", None, ("unrelated:scope",), org, tokens.headers(None, org, "unrelated:scope")


async def test_access_matrix(world, tokens):
    client, app, ids = world
    own_ids = set(ids.values())
    failures = []
    for method, template, handler in api_operations(app):
        rule: Access = handler.opt["access"]
        path = re.sub(r"\{(\w+):\w+\}", lambda m: ids[m.group(1)], template) + QUERIES.get(template, "")
        has_object = "{" in template
        body = BODIES.get((method, template), {} if method != "GET" else None)

        async def call(headers):
            extra = {"If-Match": '"v1"'} if method in ("PATCH", "PUT") else {}
            return await client.request(method, path, headers=headers | extra, json=body)

        anonymous = await call({})
        if anonymous.status_code != 401 or "Bearer" not in anonymous.headers.get("www-authenticate", ""):
            failures.append((method, template, "anonymous", anonymous.status_code))
        for own in (False, True):
            for name, role, scopes, org, headers in _personas(tokens, rule, own):
                response = await call(headers)
                status = response.status_code
                if not _expected_allowed(rule, role, scopes, org):
                    ok = status == 403
                elif rule.any_caller:
                    ok = status == 200
                elif has_object and not own:
                    ok = status == 404
                elif not own:
                    # allowed on a list or a creation of their own: never any of the world's objects
                    ok = status not in (401, 403) and not (own_ids & set(re.findall(r"[0-9a-f-]{36}", response.text)))
                else:
                    ok = status not in (401, 403, 404)
                if not ok:
                    failures.append((method, template, name, status))
    assert failures == []
