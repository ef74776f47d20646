from collections import Counter

import pytest

from matching.generate import generate_problem, generate_units, load_municipalities
from matching.geo import distance_km
from matching_factories import KIRUNA, MALMO, STOCKHOLM, TODAY, synthetic_municipalities


def test_distance_known_pairs():
    assert distance_km(MALMO.lat, MALMO.lon, STOCKHOLM.lat, STOCKHOLM.lon) == pytest.approx(513, abs=2)
    assert distance_km(MALMO.lat, MALMO.lon, KIRUNA.lat, KIRUNA.lon) == pytest.approx(1412, abs=5)
    assert distance_km(MALMO.lat, MALMO.lon, MALMO.lat, MALMO.lon) == 0
    a = distance_km(MALMO.lat, MALMO.lon, KIRUNA.lat, KIRUNA.lon)
    assert a == distance_km(KIRUNA.lat, KIRUNA.lon, MALMO.lat, MALMO.lon)


def test_generator_is_seeded():
    ms = synthetic_municipalities()
    assert generate_problem(ms, 20, 60, seed=7, today=TODAY) == generate_problem(ms, 20, 60, seed=7, today=TODAY)
    assert generate_problem(ms, 20, 60, seed=7, today=TODAY) != generate_problem(ms, 20, 60, seed=8, today=TODAY)


def test_generated_shelters_have_the_national_mix():
    units = generate_units(synthetic_municipalities(), 6000, seed=1, today=TODAY)
    shelters = {u.shelter_id: u for u in units}
    assert all(1500 <= u.daily_rate <= 4500 for u in units)
    families = [s for s in shelters.values() if "families" in s.target_groups]
    with_limit = [s for s in families if s.max_age_boys is not None]
    assert 0.15 < len(with_limit) / len(families) < 0.35
    assert all(12 <= s.max_age_boys <= 16 for s in with_limit)
    levels = Counter(s.security_level for s in shelters.values())
    assert set(levels) == {1, 2, 3, 4}
    groups = Counter(g for s in shelters.values() for g in s.target_groups)
    assert groups["women"] > groups["men"] > 0 and groups["young_adults"] > 0 and groups["lgbtq"] > 0
    assert len({u.id for u in units}) == len(units) == 6000


def test_load_municipalities_skips_comments(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("# source\ncode,name,county_code,latitude,longitude\n1280,Malmö,12,55.605,13.0038\n")
    (m,) = load_municipalities(f)
    assert (m.code, m.county_code, m.lat) == ("1280", "12", 55.605)


def test_weights_are_lexicographic_and_fit_the_flow_cost_range_well_beyond_the_service_scale():
    from matching.scoring import COST_MAX, FIT_MAX, Weights

    for n in (1, 300, 5000):
        w = Weights.for_batch(n)
        assert w.fit > n * COST_MAX
        assert w.priority > n * (FIT_MAX * w.fit + COST_MAX)
    biggest_pair = Weights.for_batch(5000).total(240, FIT_MAX, COST_MAX)
    assert biggest_pair * 60_000 < 2**63  # min-cost flow scales costs by the node count
