"""Property-based tests on generated instances (hypothesis)."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from matching.candidates import UnitIndex
from matching.generate import generate_problem, generate_units
from matching.rules import RuleContext, violated_rule
from matching.scoring import Weights, score
from matching.solver import solve
from matching.types import Problem
from matching.validator import validate
from matching_factories import TODAY, synthetic_municipalities

MUNICIPALITIES = synthetic_municipalities(30, seed=1)
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

instances = st.builds(
    lambda n_r, n_u, seed: generate_problem(
        MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY, open_offer_share=0.05
    ),
    st.integers(1, 14),
    st.integers(1, 45),
    st.integers(0, 10_000),
)


def _all_shared(p: Problem) -> Problem:
    """Scarce shared places: the relaxation overfills them, so CP-SAT has to work."""
    units = tuple(msgspec.structs.replace(u, shared=True, beds=max(2, u.beds)) for u in p.units)
    return msgspec.structs.replace(p, units=units)


scarce_shared = st.builds(
    lambda n_r, n_u, seed: _all_shared(
        generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY, open_offer_share=0.0)
    ),
    st.integers(8, 20),
    st.integers(2, 12),
    st.integers(0, 10_000),
)
instances = st.one_of(instances, scarce_shared)


def run(p: Problem):
    return solve(p, time_limit=20, workers=1, seed=0)


@SETTINGS
@given(instances)
def test_validator_accepts_every_engine_solution_and_no_pair_breaks_a_rule(p):
    result = run(p)
    assert validate(p, result.matches) == []
    ctx = RuleContext.of(p)
    req = {r.id: r for r in p.requests}
    unit = {u.id: u for u in p.units}
    for m in result.matches:
        assert violated_rule(req[m.request_id], unit[m.unit_id], ctx) is None
    assert len(result.matches) + len(result.unmatched) == len(p.requests)
    assert result.status == "optimal" and result.objective == result.bound
    assert result.objective == sum(m.score.total for m in result.matches)


@SETTINGS
@given(instances, st.integers(0, 10_000))
def test_adding_a_unit_never_lowers_the_optimum(p, seed):
    extra = generate_units(MUNICIPALITIES, 1, seed=seed, today=TODAY)[0]
    bigger = Problem(p.today, p.requests, p.units + (extra.__class__(**{
        **{f: getattr(extra, f) for f in extra.__struct_fields__}, "id": "extra", "shelter_id": "extra-s"}),),
        p.open_offers, p.intake_used)
    before, after = run(p), run(bigger)
    assert before.status == after.status == "optimal"
    assert after.objective >= before.objective


@SETTINGS
@given(instances, st.integers(0, 10_000))
def test_removing_the_only_fitting_unit_leaves_the_request_unmatched_with_the_rule_named(p, pick):
    ctx = RuleContext.of(p)
    r = p.requests[pick % len(p.requests)]
    fitting = [u for u in p.units if violated_rule(r, u, ctx) is None]
    if not fitting:
        return
    only = fitting[pick % len(fitting)]
    others = tuple(u for u in p.units if violated_rule(r, u, ctx) is not None)
    alone = Problem(p.today, (r,), others + (only,), p.open_offers, p.intake_used)
    assert [m.unit_id for m in run(alone).matches] == [only.id]
    without = Problem(p.today, (r,), others, p.open_offers, p.intake_used)
    result = run(without)
    assert result.matches == ()
    (u,) = result.unmatched
    expected = Counter(violated_rule(r, x, RuleContext.of(without)) for x in others)
    assert u.excluded == dict(expected) and sum(u.excluded.values()) == len(others)
    assert u.fitting_units == 0


@SETTINGS
@given(instances)
def test_index_agrees_with_the_pair_rule(p):
    ctx = RuleContext.of(p)
    index = UnitIndex(p.units, ctx)
    for r in p.requests:
        verdicts = [violated_rule(r, u, ctx) for u in p.units]
        assert index.fitting(r).tolist() == [i for i, v in enumerate(verdicts) if v is None]
        assert index.exclusions(r) == dict(Counter(v for v in verdicts if v))
        idx = index.fitting(r)
        w = Weights.for_batch(len(p.requests))
        assert index.pair_weights(r, idx, w, p.today).tolist() == [
            score(r, p.units[i], p.today, w).total for i in idx
        ]


def _brute_force_optimum(p: Problem) -> int:
    w = Weights.for_batch(len(p.requests))
    # a unit priced at or above a request's priority is never offered to it (scoring.acute_price)
    options = [[None] + [u for u in p.units if score(r, u, p.today, w).priority > 0] for r in p.requests]
    best = 0
    for choice in itertools.product(*options):
        pairs = [(r.id, u.id) for r, u in zip(p.requests, choice) if u is not None]
        if validate(p, pairs):
            continue
        best = max(best, sum(score(r, u, p.today, w).total for r, u in zip(p.requests, choice) if u is not None))
    return best


tiny = st.builds(
    lambda n_r, n_u, seed, shared: (_all_shared if shared else (lambda p: p))(
        generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY, open_offer_share=0.1)
    ),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 10_000),
    st.booleans(),
)


@settings(max_examples=15, deadline=None)
@given(tiny)
def test_batch_equals_the_brute_force_optimum(p):
    assert run(p).objective == _brute_force_optimum(p)


def _priced(n_r: int, n_u: int, seed: int) -> Problem:
    """Scarce shared units, some in acute or "days" demand: a pair's priority is then its request's
    less the unit's price, so the requests with the most priority are not always the best to place."""
    rng = random.Random(seed)
    p = _all_shared(generate_problem(MUNICIPALITIES, n_r, n_u, seed=seed, today=TODAY, open_offer_share=0.0))
    units = tuple(msgspec.structs.replace(u, acute_demand=rng.choice([0, 0, 0.2, 0.5, 1.0]),
                                          days_demand=rng.choice([0, 0, 0.3, 1.0])) for u in p.units)
    return msgspec.structs.replace(p, units=units)


# the search once fixed its hint's sum of the requests' priorities before looking at the prices, and
# called a worse solution optimal on these
@example(_priced(4, 2, 335)).via("a regression")
@example(_priced(5, 2, 335)).via("a regression")
@settings(max_examples=15, deadline=None)
@given(st.builds(_priced, st.integers(4, 6), st.integers(1, 3), st.integers(0, 10_000)))
def test_batch_equals_the_brute_force_optimum_under_acute_prices(p):
    assert run(p).objective == _brute_force_optimum(p)
