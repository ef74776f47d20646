"""Seeded generator of realistic national instances (for benchmarks, tests and demo data).

Public API (everything takes a `seed`; the same arguments give the same output):

    load_municipalities(path) -> list[Municipality]
        Read sql/data/municipalities.csv (code,name,county_code,latitude,longitude;
        lines starting with '#' are comments).
    generate_units(municipalities, n_units, *, seed=0, today) -> list[Unit]
        Shelters (about 12 units each, in random municipalities) with the mix of Swedish protected housing:
        women's shelters (most; many also take families), young adults 18-25 with
        honour competence, men's, LGBTQ+ and general municipal shelters; security
        levels 1-4; protected-data capability; about a quarter of the shelters that
        take families have a boys' age limit (12-16); features and staff languages;
        daily rates 1,500-4,500 SEK; daily intake limits of 1-3 for most shelters.
        Unit ids are "u<n>", shelter ids "s<n>".
    generate_requests(municipalities, n_requests, *, seed=0, today) -> list[Request]
        Households: women alone or with children (each child its own entry),
        men, young adults fleeing honour-related violence, LGBTQ+ people; needs,
        languages, protected-data levels, threat municipalities with minimum
        distances, exclusions, preferences, urgency and waiting time.
        Request ids are "r<n>".
    generate_problem(municipalities, n_requests, n_units, *, seed=0, today,
                     open_offer_share=0.005) -> Problem
        Both of the above plus a few open offers (units held for requests outside
        the batch) and today's intake so far.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path

from .geo import distance_km
from .types import (
    Adult,
    Child,
    Household,
    Municipality,
    Needs,
    Offer,
    Problem,
    Request,
    Unit,
)

DEFAULT_TODAY = dt.date(2025, 6, 2)
LANGUAGES = ("en", "ar", "so", "fa", "ti", "ku", "tr", "bs", "pl", "es", "fr", "ru", "uk")
_LANGUAGE_WEIGHTS = (30, 14, 9, 8, 6, 5, 4, 3, 3, 3, 2, 2, 4)

# shelter kind -> (share, target groups)
_SHELTER_KINDS = (
    ("women_families", 0.45, frozenset({"women", "families"})),
    ("women", 0.15, frozenset({"women"})),
    ("young_adults", 0.10, frozenset({"young_adults", "women"})),
    ("men", 0.07, frozenset({"men"})),
    ("men_families", 0.03, frozenset({"men", "families"})),
    ("lgbtq", 0.05, frozenset({"lgbtq"})),
    ("general", 0.15, frozenset({"women", "men", "families", "lgbtq"})),
)
_DATA_CAPABILITY = (
    ("none", 0.05),
    ("sekretessmarkering", 0.35),
    ("skyddad_folkbokforing", 0.45),
    ("fingerade_personuppgifter", 0.15),
)


def load_municipalities(path: str | Path) -> list[Municipality]:
    rows = [
        line for line in Path(path).read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
    ]
    return [
        Municipality(r["code"], r["county_code"], float(r["latitude"]), float(r["longitude"]))
        for r in csv.DictReader(rows)
    ]


def _pick(rng: random.Random, weighted):
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _languages(rng: random.Random, k: int) -> set[str]:
    return set(rng.choices(LANGUAGES, weights=_LANGUAGE_WEIGHTS, k=k))


def generate_units(
    municipalities: Sequence[Municipality],
    n_units: int,
    *,
    seed: int = 0,
    today: dt.date = DEFAULT_TODAY,
) -> list[Unit]:
    rng = random.Random(f"units-{seed}")
    units: list[Unit] = []
    s = 0
    while len(units) < n_units:
        s += 1
        kind, _, groups = rng.choices(_SHELTER_KINDS, weights=[k[1] for k in _SHELTER_KINDS])[0]
        security = rng.choices((1, 2, 3, 4), weights=(20, 35, 30, 15))[0]
        features = {
            f
            for f, p in (
                ("wheelchair", 0.30),
                ("pets", 0.15),
                ("substance_use", 0.15),
                ("mental_illness", 0.20),
                ("intellectual_disability", 0.10),
                ("honour_competence", 0.35),
                ("lgbtq_competence", 0.20),
            )
            if rng.random() < p
        }
        if kind == "young_adults":
            features.add("honour_competence")
        if kind == "lgbtq":
            features.add("lgbtq_competence")
        takes_children = "families" in groups
        max_age_boys = rng.randint(12, 16) if takes_children and rng.random() < 0.25 else None
        max_age_girls = 17 if takes_children and rng.random() < 0.03 else None
        rate = rng.randrange(1500, 3200, 10) + 300 * (security - 1)
        shelter = dict(
            shelter_id=f"s{s}",
            municipality=rng.choice(municipalities),
            target_groups=groups,
            security_level=security,
            protected_data_capability=_pick(rng, _DATA_CAPABILITY),
            daily_rate=min(4500, rate),
            features=frozenset(features),
            languages=frozenset({"sv"} | _languages(rng, rng.randint(0, 3))),
            max_age_boys=max_age_boys,
            max_age_girls=max_age_girls,
            daily_intake_limit=rng.choice((1, 2, 2, 3)) if rng.random() < 0.7 else None,
        )
        for _ in range(min(max(2, int(rng.gauss(12, 5))), n_units - len(units))):
            shared = rng.random() < 0.15
            if shared:
                beds = rng.randint(2, 6)
            elif takes_children:
                beds = rng.choices((1, 2, 3, 4, 5, 6), weights=(15, 20, 25, 20, 12, 8))[0]
            else:
                beds = rng.choices((1, 2), weights=(80, 20))[0]
            free_in = 0 if rng.random() < 0.6 else rng.randint(1, 30)
            units.append(
                Unit(
                    id=f"u{len(units) + 1}",
                    beds=beds,
                    shared=shared,
                    available_from=today + dt.timedelta(days=free_in),
                    **shelter,
                )
            )
    return units


def _child(rng: random.Random) -> Child:
    gender = "other" if rng.random() < 0.02 else rng.choice(("female", "male"))
    return Child(age=rng.randint(0, 17), gender=gender)


def generate_requests(
    municipalities: Sequence[Municipality],
    n_requests: int,
    *,
    seed: int = 0,
    today: dt.date = DEFAULT_TODAY,
) -> list[Request]:
    rng = random.Random(f"requests-{seed}")
    by_county: dict[str, list[Municipality]] = {}
    for m in municipalities:
        by_county.setdefault(m.county_code, []).append(m)
    requests = []
    for i in range(n_requests):
        kind = rng.choices(
            ("woman", "woman_children", "man", "young_adult", "lgbtq"), weights=(42, 36, 7, 10, 5)
        )[0]
        honour = kind == "young_adult" or rng.random() < 0.08
        if kind == "woman":
            adults = (Adult("female", rng.randint(20, 70)),)
            children = ()
        elif kind == "woman_children":
            adults = (Adult("female", rng.randint(20, 50)),)
            children = tuple(_child(rng) for _ in range(rng.choices((1, 2, 3, 4), weights=(45, 35, 15, 5))[0]))
        elif kind == "man":
            adults = (Adult("male", rng.randint(20, 70)),)
            children = tuple(_child(rng) for _ in range(rng.random() < 0.2))
        elif kind == "young_adult":
            adults = (Adult(rng.choices(("female", "male"), weights=(80, 20))[0], rng.randint(18, 25)),)
            children = ()
        else:
            adults = (Adult(rng.choice(("female", "male", "other")), rng.randint(18, 60)),)
            children = ()
        languages = tuple(sorted(_languages(rng, 1))) if rng.random() < 0.35 else ()
        needs = Needs(
            wheelchair=rng.random() < 0.05,
            pets=rng.random() < 0.08,
            substance_use=rng.random() < 0.07,
            mental_illness=rng.random() < 0.10,
            intellectual_disability=rng.random() < 0.03,
            languages=languages,
            lgbtq=kind == "lgbtq",
            honour_related=honour,
        )
        protected = rng.choices(
            ("none", "sekretessmarkering", "skyddad_folkbokforing", "fingerade_personuppgifter"),
            weights=(40, 35, 20, 5),
        )[0]
        security = rng.choices((1, 2, 3, 4), weights=(25, 35, 28, 12) if not honour else (5, 25, 40, 30))[0]
        home = rng.choice(municipalities)
        threats = [home]
        if honour:
            others = [m for m in by_county[home.county_code] if m != home]
            threats += rng.sample(others, min(len(others), rng.randint(1, 2)))
        min_distance = 0.0 if rng.random() < 0.2 else float(rng.choice((50, 100, 150, 200, 300)))
        excluded_counties = (home.county_code,) if honour or rng.random() < 0.5 else ()
        urgency = rng.choices(("acute", "days", "planned"), weights=(30, 40, 30))[0]
        waited = rng.randint(0, 1) if urgency == "acute" else rng.randint(0, 40)
        latest = {
            "acute": today,
            "days": today + dt.timedelta(days=rng.randint(2, 7)),
            "planned": today + dt.timedelta(days=rng.randint(14, 45)),
        }[urgency]
        allowed = [
            m
            for m in municipalities
            if m.county_code not in excluded_counties
            and all(distance_km(t.lat, t.lon, m.lat, m.lon) >= min_distance for t in threats)
            and m not in threats
        ]
        preferred_counties: tuple[str, ...] = ()
        near = None
        max_distance = None
        if allowed and rng.random() < 0.4:
            preferred_counties = tuple(sorted({rng.choice(allowed).county_code for _ in range(rng.randint(1, 2))}))
        if allowed and rng.random() < 0.3:
            near = rng.choice(allowed)
            max_distance = float(rng.choice((50, 100, 200)))
        requests.append(
            Request(
                id=f"r{i + 1}",
                household=Household(adults, children, needs, protected),
                waiting_since=today - dt.timedelta(days=waited),
                urgency=urgency,
                security_level=security,
                excluded_municipalities=(),
                excluded_counties=excluded_counties,
                threats=tuple(threats),
                min_distance_km=min_distance,
                latest_start=latest,
                preferred_counties=preferred_counties,
                near=near,
                max_distance_km=max_distance,
                max_daily_rate=rng.choice((2500, 3000, 3500, 4000)) if rng.random() < 0.3 else None,
            )
        )
    return requests


def generate_problem(
    municipalities: Sequence[Municipality],
    n_requests: int,
    n_units: int,
    *,
    seed: int = 0,
    today: dt.date = DEFAULT_TODAY,
    open_offer_share: float = 0.005,
) -> Problem:
    units = generate_units(municipalities, n_units, seed=seed, today=today)
    requests = generate_requests(municipalities, n_requests, seed=seed, today=today)
    rng = random.Random(f"problem-{seed}")
    held = rng.sample(units, int(len(units) * open_offer_share))
    offers = tuple(Offer(request_id=f"held-{i}", unit_id=u.id) for i, u in enumerate(held))
    shelters = sorted({u.shelter_id for u in units if u.daily_intake_limit}, key=lambda s: int(s[1:]))
    intake_used = {s: 1 for s in shelters if rng.random() < 0.1}
    return Problem(today=today, requests=tuple(requests), units=tuple(units), open_offers=offers,
                   intake_used=intake_used)
