"""The "already tried" rule: declined or expired units, and shelters that declined for their own
reasons, are never offered to that request again, by fast-track and the batch alike."""

from __future__ import annotations

import msgspec

from matching.fast_track import FastTrack
from matching.rules import RuleContext, tried_after, violated_rule
from matching.solver import solve
from matching.validator import validate
from matching_factories import TODAY, problem, request, unit


def _tried(r, *answers):
    units, shelters = tried_after(answers)
    return msgspec.structs.replace(r, tried_unit_ids=units, excluded_shelter_ids=shelters)


def test_decline_reason_decides_unit_or_whole_shelter():
    units, shelters = tried_after([("u1", "s1", "full"), ("u2", "s2", "cannot_meet_needs"),
                                   ("u3", "s3", "security_concern"), ("u4", "s4", None), ("u5", "s5", "other")])
    assert units == {"u1", "u2", "u3", "u4", "u5"}
    assert shelters == {"s2", "s3"}  # "full", "other" and an expiry say nothing about the shelter


def test_fast_track_skips_the_tried_unit_and_the_declining_shelter_and_says_so():
    units = [unit("best", shelter_id="a", daily_rate=1000), unit("a-twin", shelter_id="a", daily_rate=1100),
             unit("b", shelter_id="b", daily_rate=3000)]
    ft = FastTrack(units, today=TODAY)
    full = ft.top(_tried(request(), ("best", "a", "full")))
    assert [r.unit_id for r in full.ranked] == ["a-twin", "b"]  # "full": the shelter's other unit still fits
    needs = ft.top(_tried(request(), ("best", "a", "cannot_meet_needs")))
    assert [r.unit_id for r in needs.ranked] == ["b"]
    assert needs.excluded == {"already_tried": 2}
    assert "2 units offered before and declined" in needs.explanation
    # a request that tried nothing is untouched by another request's history (same index)
    assert [r.unit_id for r in ft.top(request("other")).ranked] == ["best", "a-twin", "b"]


def test_batch_places_a_request_whose_best_unit_it_declined_elsewhere():
    """Defect 1 of issue 21: the batch chose the declined unit and then dropped the pair."""
    units = [unit("best", shelter_id="a", daily_rate=1000), unit("other", shelter_id="b", daily_rate=4000)]
    declined = _tried(request("r1"), ("best", "a", "full"))
    p = problem([declined], units)
    result = solve(p, 5.0)
    assert [(m.request_id, m.unit_id) for m in result.matches] == [("r1", "other")]
    assert validate(p, result.matches) == []
    # the validator refuses the tried pair itself
    forced = [msgspec.structs.replace(result.matches[0], unit_id="best", shelter_id="a")]
    assert validate(p, forced) != []


def test_batch_explains_a_request_left_with_only_tried_units():
    units = [unit("u1", shelter_id="a"), unit("u2", shelter_id="a")]
    p = problem([_tried(request("r1"), ("u1", "a", "security_concern"))], units)
    result = solve(p, 5.0)
    assert result.matches == ()
    (unmatched,) = result.unmatched
    assert unmatched.excluded == {"already_tried": 2} and unmatched.fitting_units == 0
    assert "offered before and declined" in unmatched.explanation


def test_violated_rule_agrees_with_the_index():
    ctx = RuleContext(today=TODAY)
    r = _tried(request(), ("u1", "a", "full"), ("x", "b", "cannot_meet_needs"))
    assert violated_rule(r, unit("u1", shelter_id="a"), ctx) == "already_tried"
    assert violated_rule(r, unit("u2", shelter_id="a"), ctx) is None
    assert violated_rule(r, unit("u3", shelter_id="b"), ctx) == "already_tried"


def test_every_rule_has_its_words_on_the_web_pages():
    from matching.rules import EXCLUSION_NAMES
    from skyddat_boende.web.i18n import RULE_TEXTS

    assert set(EXCLUSION_NAMES) <= set(RULE_TEXTS)  # a new rule without words shows its bare name
