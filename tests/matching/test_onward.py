"""Apartments as a second kind of place: the engine's rules that mean the same, the rules a home adds,
the ranking and "why no match" in numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from matching import onward
from matching.onward import Apartment, OnwardRequest, impossible, rank, rooms_needed
from matching.rules import RULES_BY_NAME, RuleContext
from matching.types import Adult, Child, Household, Needs
from tests.matching.matching_factories import GOTEBORG, LUND, MALMO, STOCKHOLM, TODAY, UMEA


def apartment(id: str, **kw) -> Apartment:
    base = dict(id=id, provider_id="housing-x", municipality=STOCKHOLM, rooms=3, monthly_rent=7000,
                available_from=TODAY, protected_data_capability="skyddad_folkbokforing",
                features=frozenset({"pets"}))
    return Apartment(**(base | kw))


def request(**kw) -> OnwardRequest:
    base = dict(id="r1", household=Household(adults=(Adult("female", 38),), children=(Child(15, "male"),),
                                              needs=Needs(pets=True), protected_data="skyddad_folkbokforing"),
                waiting_since=TODAY, threats=(MALMO,), min_distance_km=200.0, max_rent=8000,
                earliest_move_in=TODAY)
    return OnwardRequest(**(base | kw))


@pytest.mark.parametrize(("people", "rooms"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (16, 9)])
def test_crowding_norm_two_to_a_bedroom_plus_a_living_room(people, rooms):
    assert rooms_needed(people) == rooms


def test_the_engines_own_rules_are_used_not_copies():
    for name in onward.SHARED_RULES:
        assert onward.ONWARD_RULES_BY_NAME[name] is RULES_BY_NAME[name]


def test_each_rule_excludes_and_is_counted_in_why_no_match():
    """Input: one apartment breaking each rule, and one that fits."""
    breaking = [
        apartment("threat", municipality=MALMO),
        apartment("close", municipality=LUND),
        apartment("identity", protected_data_capability="sekretessmarkering"),
        apartment("no-pets", features=frozenset()),
        apartment("one-room", rooms=1),
        apartment("dear", monthly_rent=8001),
        apartment("later", available_from=TODAY + dt.timedelta(days=1)),
    ]
    result = rank(request(), [*breaking, apartment("fits")], TODAY)
    assert [r.apartment_id for r in result.ranked] == ["fits"]
    assert result.excluded == {"excluded_area": 1, "too_close_to_threat": 1, "protected_data": 1, "need_pets": 1,
                               "rooms": 1, "rent": 1, "not_available_in_time": 1}
    assert result.explanation.startswith("1 apartments fit; excluded: 1 apartments in an excluded or threat")
    assert "with a rent above the maximum" in result.explanation


def test_wheelchair_need_needs_an_accessible_apartment():
    needs = request(household=Household(adults=(Adult("female", 70),), needs=Needs(wheelchair=True)))
    result = rank(needs, [apartment("stairs"), apartment("ramp", features=frozenset({"wheelchair"}))], TODAY)
    assert [r.apartment_id for r in result.ranked] == ["ramp"] and result.excluded == {"need_wheelchair": 1}


def test_preferred_county_then_lower_rent_ranks_first_and_offered_ones_are_skipped():
    options = [apartment("cheap", monthly_rent=5000), apartment("umea", municipality=UMEA, monthly_rent=7900),
               apartment("gbg", municipality=GOTEBORG, monthly_rent=6000)]
    ranked = rank(request(preferred_counties=("24",)), options, TODAY)
    assert [r.apartment_id for r in ranked.ranked] == ["umea", "cheap", "gbg"]
    assert ranked.ranked[0].fit == {"preferred_county": 1, "rent_margin_sek": 100, "spare_rooms": 1}
    again = rank(request(preferred_counties=("24",)), options, TODAY, skip=["umea"])
    assert [r.apartment_id for r in again.ranked] == ["cheap", "gbg"]


def test_impossible_only_when_every_apartment_in_the_allowed_area_is_too_small_or_too_dear():
    ctx = RuleContext(today=TODAY)
    small = [apartment("a", rooms=2), apartment("b", rooms=3), apartment("threat", municipality=MALMO, rooms=9)]
    five = request(household=Household(adults=(Adult("female", 40),), children=tuple(Child(5, "male") for _ in range(4))))
    assert impossible(five, small, ctx) == "rooms"  # the big flat is in the threat municipality: not counted
    assert impossible(request(max_rent=100), small, ctx) == "rent"
    assert impossible(request(), small, ctx) is None
    assert impossible(five, [apartment("threat", municipality=MALMO)], ctx) is None  # nothing there yet: it waits
