"""Demo housing providers and their apartments (issue 24): municipal housing companies in a few large
municipalities and two private landlords, each with apartments in and around its seat. Invented like
the rest of the demo: names say "Demo", addresses are fictitious."""

from __future__ import annotations

import datetime as dt
import random

import asyncpg

# seat of each demo provider (Stockholm, Göteborg, Umeå, Örebro, Luleå, Jönköping); the last two private
PROVIDERS = (("0180", "municipal"), ("1480", "municipal"), ("2480", "municipal"), ("1880", "municipal"),
             ("2580", "private"), ("0680", "private"))
APARTMENTS_EACH = 18
LEASES = (("first_hand", 6), ("trial_lease", 3), ("sublet", 1))
IDENTITY = (("none", 2), ("sekretessmarkering", 4), ("skyddad_folkbokforing", 3), ("fingerade_personuppgifter", 1))


async def load(conn: asyncpg.Connection, rng: random.Random, names: dict[str, str]) -> dict[str, int]:
    """Insert the providers and apartments (the caller holds the transaction)."""
    apartments = 0
    for number, (seat, kind) in enumerate(PROVIDERS, start=1):
        provider = f"housing-demo-{number}"
        display = f"Demo Bostäder {names[seat]} AB" if kind == "municipal" else f"Demo Fastigheter {number} AB"
        await conn.execute(
            "insert into organisation (id, kind, display_name, municipality_code) values ($1, 'housing_provider', $2, $3)",
            provider, display, seat,
        )
        county = seat[:2]
        nearby = [code for code in names if code[:2] == county]
        for i in range(1, APARTMENTS_EACH + 1):
            await _apartment(conn, rng, provider, rng.choice(nearby), i, names)
            apartments += 1
    return {"housing providers": len(PROVIDERS), "apartments": apartments}


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


async def _apartment(conn, rng: random.Random, provider: str, code: str, i: int, names: dict[str, str]) -> None:
    rooms = rng.choices((1, 2, 3, 4, 5), (2, 4, 4, 2, 1))[0]
    apartment_id = await conn.fetchval(
        """insert into apartment (provider_id, label, municipality_code, rooms, area_m2, floor, lift,
                                  wheelchair_accessible, pets_allowed, monthly_rent_sek, available_from,
                                  lease_type, protected_data_capability, status)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning id""",
        provider, f"Demolägenhet {i} {names[code]}", code, rooms, 22 + rooms * rng.randint(18, 26),
        rng.randint(0, 8), rng.random() < 0.6, rng.random() < 0.2, rng.random() < 0.5,
        3000 + rooms * rng.randint(1500, 2600), dt.date.today() + dt.timedelta(days=rng.choice((0, 0, 7, 14, 30))),
        _pick(rng, LEASES), _pick(rng, IDENTITY), "available" if rng.random() < 0.85 else "unavailable",
    )
    await conn.execute(
        """insert into apartment_address (apartment_id, street, postal_code, city, contact_phone)
           values ($1, $2, $3, $4, $5)""",
        apartment_id, f"Demovägen {rng.randint(1, 99)}", f"{rng.randint(100, 989)} {rng.randint(10, 99)}",
        names[code], f"+46 {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(10, 99)} 00",
    )
