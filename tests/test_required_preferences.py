"""A social worker may require honour-violence competence or staff who speak the household's
languages: hard rules then, named in "why no match"; without the requirement they only rank places."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import make_app
from tests.workflow_support import MALMO, mother_with_son_and_dog, organisations, publish, shelter_body

EAST = "operator-east"


@pytest.fixture
async def world(create_migrated_database, issuer):
    url = await create_migrated_database()
    await organisations(url)
    async with AsyncTestClient(app=make_app(url, issuer)) as client:
        yield client


@pytest.mark.parametrize(("required", "rule"), [
    ({"require_honour_competence": True, "honour_related": True}, "need_honour_competence"),
    ({"require_staff_language": True, "languages": ["ar"]}, "staff_language"),
])
async def test_a_required_preference_excludes_the_places_without_it(world, tokens, required, rule):
    """The only place (Uppsala) has no honour competence and Swedish- and English-speaking staff.
    Required, nothing is offered, the request says which rule excluded the place and that it is
    stored as required; asked as a preference only, the same place is offered."""
    await publish(world, tokens.staff(EAST), shelter_body("0380", rate=3000, label="Öst"))
    malmo = tokens.social_worker(MALMO)
    refused = await world.post("/api/requests", json=mother_with_son_and_dog("MAL-2026-0102", **required),
                               headers=malmo)
    assert refused.status_code == 201, refused.text
    body = refused.json()
    assert body["status"] == "waiting" and body["offer"] is None
    assert all(body[k] == v for k, v in required.items())
    assert body["match"]["excluded"] == {rule: 1}, body["match"]
    preferred = {k: v for k, v in required.items() if not k.startswith("require_")}
    offered = await world.post("/api/requests", json=mother_with_son_and_dog("MAL-2026-0101", **preferred),
                               headers=malmo)
    assert offered.status_code == 201, offered.text
    assert offered.json()["status"] == "offered"


async def test_requiring_a_staff_language_without_naming_one_is_refused(world, tokens):
    """Bad input: require_staff_language with only Swedish in languages: 422, nothing stored."""
    malmo = tokens.social_worker(MALMO)
    response = await world.post("/api/requests", json=mother_with_son_and_dog(
        require_staff_language=True, languages=["sv"]), headers=malmo)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["rule"] == "required_language_missing"
    assert (await world.get("/api/requests", headers=malmo)).json() == []


def test_the_request_form_carries_the_requirements():
    """The social worker's web form: the two boxes become the request's requirements; unticked,
    they stay preferences."""
    import datetime as dt

    from skyddat_boende.web.request_form import Places, request_from_form

    places, today = Places({}, {}), dt.date(2029, 12, 1)

    form = {"case_reference": "MAL-2026-0201", "urgency": "planned", "security_level_needed": "2",
            "protected_data_level": "none", "adult1_gender": "female", "adult1_age": "30",
            "latest_start_date": "2030-01-01", "languages": "ar, sv", "honour_related": "1"}
    plain = request_from_form(form, places, "sv", today)
    assert not plain.require_honour_competence and not plain.require_staff_language
    required = request_from_form(form | {"require_honour_competence": "1", "require_staff_language": "1"}, places,
                                 "sv", today)
    assert required.require_honour_competence and required.require_staff_language
    assert required.languages == ["ar", "sv"]
