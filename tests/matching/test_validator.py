"""The validator catches every kind of broken assignment on its own."""

from matching.types import Adult, Household, Offer
from matching.validator import validate
from matching_factories import problem, request, unit, woman


def rules_broken(p, pairs):
    return sorted(v.rule for v in validate(p, pairs))


def test_accepts_a_valid_assignment():
    p = problem([request("r1"), request("r2")], [unit("u1"), unit("u2")])
    assert validate(p, [("r1", "u1"), ("r2", "u2")]) == []


def test_same_unit_twice():
    p = problem([request("r1"), request("r2")], [unit("u1")])
    assert rules_broken(p, [("r1", "u1"), ("r2", "u1")]) == ["capacity"]


def test_shared_unit_over_its_beds():
    p = problem([request("r1"), request("r2"), request("r3")], [unit("u1", beds=2, shared=True)])
    assert rules_broken(p, [("r1", "u1"), ("r2", "u1")]) == []
    assert rules_broken(p, [("r1", "u1"), ("r2", "u1"), ("r3", "u1")]) == ["capacity"]


def test_request_placed_twice():
    p = problem([request("r1")], [unit("u1"), unit("u2")])
    assert rules_broken(p, [("r1", "u1"), ("r1", "u2")]) == ["one_unit_per_request"]


def test_intake_limit_counts_today_so_far():
    units = [unit("u1", shelter_id="s", daily_intake_limit=2), unit("u2", shelter_id="s", daily_intake_limit=2)]
    p = problem([request("r1"), request("r2")], units, intake_used={"s": 1})
    assert rules_broken(p, [("r1", "u1")]) == []
    # each pair alone is fine (one intake left); together they exceed the limit
    assert "intake_limit" in rules_broken(p, [("r1", "u1"), ("r2", "u2")])


def test_held_unit_given_to_another_request():
    p = problem([request("r1"), request("r2")], [unit("u1")], open_offers=(Offer("r1", "u1"),))
    assert rules_broken(p, [("r1", "u1")]) == []
    assert rules_broken(p, [("r2", "u1")]) == ["held_by_open_offer", "open_offer"]


def test_pair_breaking_a_hard_rule_is_named():
    man = Household((Adult("male", 30),))
    p = problem([request("r1", household=man)], [unit("u1")])
    assert rules_broken(p, [("r1", "u1")]) == ["target_group"]


def test_unknown_ids():
    p = problem([request("r1")], [unit("u1")])
    assert rules_broken(p, [("r1", "nope")]) == ["unknown_id"]


def test_household_larger_than_the_unit():
    from matching.types import Child

    p = problem([request("r1", household=woman(children=(Child(2, "male"),) * 2))], [unit("u1", beds=2)])
    assert rules_broken(p, [("r1", "u1")]) == ["beds", "capacity"]
