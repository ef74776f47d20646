"""Fast-track: the ranked top N for one request, explained."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.fast_track import FastTrack
from matching.rules import RuleContext, violated_rule
from matching.scoring import Weights, score
from matching.types import Offer
from matching_factories import GOTEBORG, TODAY, request, unit


def test_ranks_fit_then_cost_and_explains():
    units = [
        unit("far", daily_rate=1500),
        unit("pref", daily_rate=4000, municipality=GOTEBORG),
        unit("pref-cheap", daily_rate=3000, municipality=GOTEBORG),
        unit("too-low", security_level=1),
    ]
    ft = FastTrack(units, today=TODAY)
    got = ft.top(request(preferred_counties=("14",), security_level=2), n=2)
    assert [r.unit_id for r in got.ranked] == ["pref-cheap", "pref"]
    assert got.fitting_units == 3
    assert got.excluded == {"security_level": 1}
    assert "1 units below the security level needed" in got.explanation
    assert got.ranked[0].score.fit.preferred_region == 3


def test_respects_holds_and_intake():
    units = [unit("u1", shelter_id="s1", daily_intake_limit=1), unit("u2"), unit("u3")]
    ft = FastTrack(units, today=TODAY, open_offers=[Offer("other", "u2")], intake_used={"s1": 1})
    got = ft.top(request(), n=10)
    assert [r.unit_id for r in got.ranked] == ["u3"]
    assert got.excluded == {"intake_limit": 1, "held_by_open_offer": 1}


def test_no_fitting_unit():
    got = FastTrack([unit(beds=1)], today=TODAY).top(request(security_level=4))
    assert got.ranked == () and got.fitting_units == 0 and got.excluded == {"security_level": 1}


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(0, 29))
def test_top_n_is_the_best_n_by_score_among_fitting_units(generated_seed, n, which):
    from matching.generate import generate_problem
    from matching_factories import synthetic_municipalities

    p = generate_problem(synthetic_municipalities(30), 30, 80, seed=generated_seed, today=TODAY)
    r = p.requests[which]
    got = FastTrack.from_problem(p).top(r, n)
    ctx = RuleContext.of(p)
    w = Weights.for_batch(1)
    fitting = [u for u in p.units if violated_rule(r, u, ctx) is None]
    expected = sorted(fitting, key=lambda u: -score(r, u, p.today, w).total)[:n]
    assert [x.score.total for x in got.ranked] == [score(r, u, p.today, w).total for u in expected]
    assert all(violated_rule(r, next(u for u in p.units if u.id == x.unit_id), ctx) is None for x in got.ranked)
    assert got.fitting_units == len(fitting)
    assert sum(got.excluded.values()) == len(p.units) - len(fitting)


def test_with_offers_ranks_as_a_fresh_build_with_those_offers():
    units = [unit("u1", shelter_id="s1", daily_intake_limit=1), unit("u2"), unit("u3", daily_rate=4000)]
    built_without = FastTrack(units, today=TODAY)
    offers, intake = [Offer("other", "u2")], {"s1": 1}
    rebased = built_without.with_offers(offers, intake).top(request(), n=10)
    fresh = FastTrack(units, today=TODAY, open_offers=offers, intake_used=intake).top(request(), n=10)
    assert rebased == fresh
    assert [r.unit_id for r in rebased.ranked] == ["u3"]
    # the snapshot it came from is unchanged: all three units still fit there
    assert built_without.top(request(), n=10).fitting_units == 3


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 29), st.integers(0, 40))
def test_with_offers_equals_building_anew(generated_seed, which, held):
    from matching.generate import generate_problem
    from matching_factories import synthetic_municipalities

    p = generate_problem(synthetic_municipalities(30), 30, 80, seed=generated_seed, today=TODAY)
    offers = [Offer(f"other-{i}", u.id) for i, u in enumerate(p.units[:held])]
    intake = {u.shelter_id: 5 for u in p.units[::7]}
    fresh = FastTrack(p.units, today=TODAY, open_offers=offers, intake_used=intake)
    rebased = FastTrack(p.units, today=TODAY).with_offers(offers, intake)
    assert rebased.top(p.requests[which], 10) == fresh.top(p.requests[which], 10)
