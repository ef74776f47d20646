import pytest

from matching.generate import generate_problem
from matching_factories import TODAY, synthetic_municipalities


@pytest.fixture(scope="session")
def municipalities():
    return synthetic_municipalities()


@pytest.fixture(scope="session")
def generated(municipalities):
    def make(n_requests, n_units, seed=0):
        return generate_problem(municipalities, n_requests, n_units, seed=seed, today=TODAY, open_offer_share=0.05)

    return make
