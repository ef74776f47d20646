"""A deterministic national demo: operators of every kind, a few hundred shelters spread over the
country with DOMAIN.md's mix (from matching.generate), their units, some waiting requests, and housing
providers with apartments for onward moves (skyddat_boende/housing/demo.py).

Everything here is invented: organisation names say "Demo", addresses are fictitious, and case
references are pseudonyms.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import asyncpg

from matching import generate
from matching.types import Municipality as EngineMunicipality
from matching.types import Request, Unit
from skyddat_boende.geography import repository as geography
from skyddat_boende.housing import demo as housing_demo

HARD_NEEDS = ("wheelchair", "pets", "substance_use", "mental_illness", "intellectual_disability")
# share of shelters by operator kind (Socialstyrelsen 2024: nearly half private)
OPERATOR_KINDS = (("company", 45), ("association", 35), ("municipality", 20))
DEMO_REQUESTS = 40
# the demo's social workers are in these municipalities (Malmö, Stockholm, Göteborg, Uppsala)
PLACING_MUNICIPALITIES = ("1280", "0180", "1480", "0380")


async def present(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from shelter)"))


async def load(
    conn: asyncpg.Connection, *, seed: int = 2024, shelters: int = 260, requests: int = DEMO_REQUESTS
) -> dict[str, int]:
    """Insert the demo (with `requests` waiting requests) in one transaction; refuses to run twice on
    the same database."""
    municipalities = await geography.municipalities(conn)
    engine_municipalities = [EngineMunicipality(m.code, m.county_code, m.latitude, m.longitude) for m in municipalities]
    names = {m.code: m.name for m in municipalities}
    today = dt.date.today()
    units_by_shelter: dict[str, list[Unit]] = defaultdict(list)
    for unit in generate.generate_units(engine_municipalities, shelters * 14, seed=seed, today=today):
        units_by_shelter[unit.shelter_id].append(unit)
    chosen = list(units_by_shelter)[:shelters]
    waiting = generate.generate_requests(engine_municipalities, requests, seed=seed, today=today)

    async with conn.transaction():
        if await present(conn):
            raise DemoDataExists("the database already has shelters; demo data is loaded only into an empty one")
        await _municipality_organisations(conn, names)
        rng = random.Random(f"demo-{seed}")
        operators = await _operators(conn, rng, [units_by_shelter[s][0] for s in chosen])
        unit_count = 0
        for shelter_key in chosen:
            unit_count += await _shelter(conn, rng, operators[shelter_key], units_by_shelter[shelter_key], names)
        for i, request in enumerate(waiting):
            await _request(conn, request, PLACING_MUNICIPALITIES[i % len(PLACING_MUNICIPALITIES)])
        housing = await housing_demo.load(conn, random.Random(f"demo-housing-{seed}"), names)
    return {"municipalities": len(names), "operators": len(set(operators.values())),
            "shelters": len(chosen), "units": unit_count, "waiting requests": len(waiting), **housing}


class DemoDataExists(Exception):
    pass


async def busiest_operators(conn: asyncpg.Connection, n: int = 2) -> list[str]:
    """The n non-municipal operators with the most units (the demo login page's shelter staff)."""
    rows = await conn.fetch(
        """select s.operator_id from shelter s join unit u on u.shelter_id = s.id
            where s.operator_id like 'operator-%' group by 1 order by count(*) desc, 1 limit $1""",
        n,
    )
    return [r["operator_id"] for r in rows]


async def _municipality_organisations(conn: asyncpg.Connection, names: dict[str, str]) -> None:
    await conn.executemany(
        """insert into organisation (id, kind, display_name, municipality_code)
           values ($1, 'municipality', $2, $3) on conflict (id) do nothing""",
        [(f"kommun-{code}", f"{name} kommun", code) for code, name in names.items()],
    )


async def _operators(conn: asyncpg.Connection, rng: random.Random, first_units: list[Unit]) -> dict[str, str]:
    """Pick an operator for each shelter: municipalities run their own; associations mostly one
    shelter each; companies several. Returns shelter key -> organisation id."""
    kinds, weights = zip(*OPERATOR_KINDS)
    owner: dict[str, str] = {}
    companies: list[str] = []
    for unit in first_units:
        kind = rng.choices(kinds, weights)[0]
        code = unit.municipality.code
        if kind == "municipality":
            owner[unit.shelter_id] = f"kommun-{code}"
            continue
        if kind == "company" and companies and rng.random() < 0.6:
            owner[unit.shelter_id] = rng.choice(companies)
            continue
        number = len(owner) + 1
        org_id = f"operator-demo-{kind}-{number}"
        display = f"Demo Omsorg {number} AB" if kind == "company" else f"Demo Kvinnojour {number}"
        await conn.execute(
            """insert into organisation (id, kind, display_name, municipality_code, ivo_permit_ref)
               values ($1, $2, $3, $4, $5)""",
            org_id, kind, display, code, f"IVO 3.5.1-{number:04d}/2025",
        )
        if kind == "company":
            companies.append(org_id)
        owner[unit.shelter_id] = org_id
    return owner


async def _shelter(
    conn: asyncpg.Connection, rng: random.Random, operator_id: str, units: list[Unit], names: dict[str, str]
) -> int:
    first = units[0]
    code = first.municipality.code
    shelter_id = await conn.fetchval(
        """insert into shelter (operator_id, label, municipality_code, target_groups, features, security_level,
                                protected_data_capability, max_age_boys, max_age_girls, staff_languages,
                                daily_rate_sek, daily_intake_limit)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id""",
        operator_id, f"Demoboende {first.shelter_id[1:]} {names[code]}", code, sorted(first.target_groups),
        sorted(first.features), first.security_level, first.protected_data_capability, first.max_age_boys,
        first.max_age_girls, sorted(first.languages), first.daily_rate, first.daily_intake_limit,
    )
    await conn.execute(
        "insert into shelter_address (shelter_id, street, postal_code, city, contact_phone) values ($1, $2, $3, $4, $5)",
        shelter_id, f"Demogatan {rng.randint(1, 99)}", f"{rng.randint(100, 989)} {rng.randint(10, 99)}",
        names[code], f"+46 {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(10, 99)} 00",
    )
    await conn.executemany(
        """insert into unit (shelter_id, label, beds, shareable, available_from)
           values ($1, $2, $3, $4, $5)""",
        [(shelter_id, f"Plats {i}", u.beds, u.shared, u.available_from) for i, u in enumerate(units, start=1)],
    )
    return len(units)


async def _request(conn: asyncpg.Connection, request: Request, placing_municipality: str) -> None:
    household = request.household
    needs = household.needs
    municipality_id = f"kommun-{placing_municipality}"
    request_id = await conn.fetchval(
        """insert into placement_request (
               municipality_id, case_reference, urgency, security_level_needed, protected_data_level, needs,
               honour_related, lgbtq, languages, excluded_municipalities, excluded_counties, threat_municipalities,
               min_distance_km, preferred_counties, preferred_near_municipality, max_distance_km,
               latest_start_date, max_daily_rate_sek, waiting_since)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           returning id""",
        municipality_id, f"DEMO-{request.id.upper()}", request.urgency, request.security_level,
        household.protected_data, [n for n in HARD_NEEDS if getattr(needs, n)], needs.honour_related, needs.lgbtq,
        list(needs.languages), list(request.excluded_municipalities), list(request.excluded_counties),
        [t.code for t in request.threats], int(request.min_distance_km), list(request.preferred_counties),
        request.near.code if request.near else None,
        int(request.max_distance_km) if request.max_distance_km else None,
        request.latest_start, request.max_daily_rate,
        dt.datetime.combine(request.waiting_since, dt.time(8), tzinfo=dt.timezone.utc),
    )
    await conn.executemany(
        "insert into request_adult (request_id, position, gender, age) values ($1, $2, $3, $4)",
        [(request_id, i, a.gender, a.age or 30) for i, a in enumerate(household.adults, start=1)],
    )
    await conn.executemany(
        "insert into request_child (request_id, position, gender, age, decision_reference) values ($1, $2, $3, $4, $5)",
        [(request_id, i, c.gender, c.age, f"DEMO-{request.id.upper()}-B{i}") for i, c in enumerate(household.children, 1)],
    )
