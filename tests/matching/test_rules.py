"""Hand-written cases for every hard rule, with their edges."""

from __future__ import annotations

import datetime as dt

import pytest

from matching.geo import distance_km
from matching.rules import RULE_NAMES, RuleContext, violated_rule
from matching.types import Adult, Child, Household, Needs
from matching_factories import (
    GOTEBORG,
    LUND,
    MALMO,
    STOCKHOLM,
    TODAY,
    UPPSALA,
    request,
    unit,
    woman,
)

CTX = RuleContext(today=TODAY)


def rule(req, u, ctx=CTX):
    return violated_rule(req, u, ctx)


def test_a_plain_fitting_pair_passes():
    assert rule(request(), unit()) is None


# ---------------------------------------------------------------- children and age limits


def test_boy_exactly_at_the_age_limit_is_accepted():
    hh = woman(children=(Child(14, "male"),))
    assert rule(request(household=hh), unit(max_age_boys=14, beds=2)) is None


def test_boy_one_year_over_the_age_limit_is_excluded():
    hh = woman(children=(Child(15, "male"),))
    assert rule(request(household=hh), unit(max_age_boys=14, beds=2)) == "boys_age_limit"


def test_boys_limit_does_not_apply_to_girls():
    hh = woman(children=(Child(17, "female"),))
    assert rule(request(household=hh), unit(max_age_boys=12, beds=2)) is None


def test_girls_age_limit_edges():
    at = woman(children=(Child(17, "female"),))
    over = woman(children=(Child(18, "female"),))
    assert rule(request(household=at), unit(max_age_girls=17)) is None
    assert rule(request(household=over), unit(max_age_girls=17)) == "girls_age_limit"


def test_child_of_gender_other_is_held_to_both_limits():
    hh = woman(children=(Child(15, "other"),))
    assert rule(request(household=hh), unit(max_age_boys=14)) == "boys_age_limit"
    assert rule(request(household=hh), unit(max_age_girls=14)) == "girls_age_limit"
    assert rule(request(household=hh), unit(max_age_boys=15, max_age_girls=15)) is None


# ---------------------------------------------------------------- geography


def test_threat_municipality_exactly_at_the_minimum_distance_is_accepted():
    d = distance_km(MALMO.lat, MALMO.lon, GOTEBORG.lat, GOTEBORG.lon)
    req = request(threats=(MALMO,), min_distance_km=d)
    assert rule(req, unit(municipality=GOTEBORG)) is None


def test_just_inside_the_minimum_distance_is_excluded():
    d = distance_km(MALMO.lat, MALMO.lon, GOTEBORG.lat, GOTEBORG.lon)
    req = request(threats=(MALMO,), min_distance_km=d + 0.001)
    assert rule(req, unit(municipality=GOTEBORG)) == "too_close_to_threat"


def test_every_threat_municipality_counts():
    req = request(threats=(MALMO, UPPSALA), min_distance_km=100)
    assert rule(req, unit(municipality=STOCKHOLM)) == "too_close_to_threat"  # 64 km from Uppsala
    assert rule(req, unit(municipality=GOTEBORG)) is None


def test_never_in_a_threat_municipality_even_without_minimum_distance():
    req = request(threats=(MALMO,), min_distance_km=0)
    assert rule(req, unit(municipality=MALMO)) == "excluded_area"
    assert rule(req, unit(municipality=LUND)) is None


def test_excluded_municipality_and_county():
    assert rule(request(excluded_municipalities=("0180",)), unit(municipality=STOCKHOLM)) == "excluded_area"
    assert rule(request(excluded_counties=("01",)), unit(municipality=STOCKHOLM)) == "excluded_area"
    assert rule(request(excluded_counties=("03",)), unit(municipality=STOCKHOLM)) is None


# ---------------------------------------------------------------- security and protected data


@pytest.mark.parametrize("unit_level,needed,ok", [(2, 2, True), (3, 2, True), (2, 3, False), (1, 4, False)])
def test_security_level_at_least_the_level_needed(unit_level, needed, ok):
    got = rule(request(security_level=needed), unit(security_level=unit_level))
    assert got == (None if ok else "security_level")


@pytest.mark.parametrize(
    "capability,level,ok",
    [
        ("sekretessmarkering", "none", True),
        ("sekretessmarkering", "sekretessmarkering", True),
        ("sekretessmarkering", "skyddad_folkbokforing", False),
        ("skyddad_folkbokforing", "fingerade_personuppgifter", False),
        ("fingerade_personuppgifter", "fingerade_personuppgifter", True),
        ("none", "sekretessmarkering", False),
    ],
)
def test_protected_data_level_only_where_it_can_be_kept(capability, level, ok):
    got = rule(request(household=woman(protected=level)), unit(protected_data_capability=capability))
    assert got == (None if ok else "protected_data")


# ---------------------------------------------------------------- who the shelter takes


def test_target_groups():
    man = Household((Adult("male", 40),))
    assert rule(request(household=man), unit(target_groups=frozenset({"women", "families"}))) == "target_group"
    assert rule(request(household=man), unit(target_groups=frozenset({"men"}))) is None
    mother = woman(children=(Child(5, "female"),))
    assert rule(request(household=mother), unit(target_groups=frozenset({"women"}))) == "target_group"
    assert rule(request(household=mother), unit(target_groups=frozenset({"women", "families"}))) is None


def test_young_adults_shelter_takes_18_to_25_with_honour_context():
    honour = Needs(honour_related=True)
    ya = frozenset({"young_adults"})
    for age, ok in ((17, False), (18, True), (25, True), (26, False)):
        hh = Household((Adult("male", age),), needs=honour)
        assert (rule(request(household=hh), unit(target_groups=ya)) is None) is ok, age
    no_honour = Household((Adult("male", 20),))
    assert rule(request(household=no_honour), unit(target_groups=ya)) == "target_group"


def test_young_adults_group_does_not_override_the_gender_rule():
    """A man of 19 in an honour-related case was offered a shelter for women and young adults: the
    young adults' group must not let him in. A young woman in the same case may go there, and a
    shelter for young adults alone takes either."""
    honour = Needs(honour_related=True)
    young_man = Household((Adult("male", 19),), needs=honour)
    young_woman = Household((Adult("female", 19),), needs=honour)
    women_and_young = frozenset({"women", "young_adults"})
    assert rule(request(household=young_man), unit(target_groups=women_and_young)) == "target_group"
    assert rule(request(household=young_woman), unit(target_groups=women_and_young)) is None
    assert rule(request(household=young_woman), unit(target_groups=frozenset({"men", "young_adults"}))) \
        == "target_group"
    assert rule(request(household=young_man), unit(target_groups=frozenset({"men", "young_adults"}))) is None


def test_lgbtq_shelter():
    other = Household((Adult("other", 30),))
    assert rule(request(household=other), unit(target_groups=frozenset({"women", "men"}))) == "target_group"
    assert rule(request(household=other), unit(target_groups=frozenset({"lgbtq"}))) is None
    gay_man = Household((Adult("male", 30),), needs=Needs(lgbtq=True))
    assert rule(request(household=gay_man), unit(target_groups=frozenset({"lgbtq"}))) is None


# ---------------------------------------------------------------- needs, beds, time


@pytest.mark.parametrize("need", ["wheelchair", "pets", "substance_use", "mental_illness", "intellectual_disability"])
def test_every_required_need_met(need):
    req = request(household=woman(needs=Needs(**{need: True})))
    assert rule(req, unit(features=frozenset())) == f"need_{need}"
    assert rule(req, unit(features=frozenset({need}))) is None


def test_language_and_competence_are_preferences_unless_required():
    req = request(household=woman(needs=Needs(languages=("ar",), honour_related=True)))
    assert rule(req, unit(languages=frozenset({"sv"}), features=frozenset())) is None


def test_required_honour_competence_is_a_hard_rule():
    req = request(household=woman(needs=Needs(honour_related=True, require_honour_competence=True)))
    assert rule(req, unit(features=frozenset())) == "need_honour_competence"
    assert rule(req, unit(features=frozenset({"honour_competence"}))) is None


def test_required_staff_language_needs_every_language_but_swedish():
    """Required: staff must speak Arabic and Somali; Swedish needs no mention. A unit speaking only
    one of them is excluded."""
    needs = Needs(languages=("ar", "so", "sv"), require_languages=True)
    req = request(household=woman(needs=needs))
    assert rule(req, unit(languages=frozenset({"sv", "ar"}))) == "staff_language"
    assert rule(req, unit(languages=frozenset({"sv", "ar", "so"}))) is None


def test_beds_suffice():
    family = woman(children=(Child(3, "female"), Child(6, "male")))
    assert rule(request(household=family), unit(beds=2)) == "beds"
    assert rule(request(household=family), unit(beds=3)) is None


def test_unit_free_one_day_after_the_latest_start_is_excluded():
    latest = TODAY + dt.timedelta(days=5)
    req = request(latest_start=latest)
    assert rule(req, unit(available_from=latest)) is None
    assert rule(req, unit(available_from=latest + dt.timedelta(days=1))) == "not_available_in_time"


def test_acute_request_needs_a_unit_free_today():
    req = request(urgency="acute", latest_start=None)
    assert rule(req, unit(available_from=TODAY)) is None
    assert rule(req, unit(available_from=TODAY + dt.timedelta(days=1))) == "not_available_in_time"


def test_open_offer_holds_the_unit_for_its_request_only():
    ctx = RuleContext(today=TODAY, holds={"u1": "r1"})
    assert rule(request("r1"), unit("u1"), ctx) is None
    assert rule(request("r2"), unit("u1"), ctx) == "held_by_open_offer"


def test_shelter_at_its_daily_intake_limit():
    ctx = RuleContext(today=TODAY, intake_remaining={"s-u1": 0})
    assert rule(request(), unit("u1"), ctx) == "intake_limit"
    assert rule(request(), unit("u1"), RuleContext(today=TODAY, intake_remaining={"s-u1": 1})) is None


def test_rule_names_are_unique_and_cover_the_issue_list():
    assert len(set(RULE_NAMES)) == len(RULE_NAMES)
    for name in ("beds", "target_group", "boys_age_limit", "security_level", "protected_data",
                 "excluded_area", "too_close_to_threat", "need_wheelchair", "not_available_in_time",
                 "intake_limit", "held_by_open_offer", "need_honour_competence", "staff_language"):
        assert name in RULE_NAMES
