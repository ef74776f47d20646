"""Minimal valid rows for schema tests. Ids and codes only; no names of people, no real addresses."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import asyncpg

_counter = itertools.count(1)


async def municipality_org(conn: asyncpg.Connection, code: str = "1280") -> str:
    org_id = f"kommun-{code}"
    await conn.execute(
        """insert into organisation (id, kind, display_name, municipality_code)
           values ($1, 'municipality', $2, $3) on conflict (id) do nothing""",
        org_id, f"Kommun {code}", code,
    )
    return org_id


async def operator_org(conn: asyncpg.Connection, slug: str = "test-jour", code: str = "0180") -> str:
    org_id = f"operator-{slug}"
    await conn.execute(
        """insert into organisation (id, kind, display_name, municipality_code, ivo_permit_ref)
           values ($1, 'association', $2, $3, 'IVO 3.5.1-0001/2025') on conflict (id) do nothing""",
        org_id, f"Testjouren {slug}", code,
    )
    return org_id


async def shelter(conn: asyncpg.Connection, operator_id: str, code: str = "0180", **overrides) -> uuid.UUID:
    values = {
        "label": f"Boende {next(_counter)}",
        "target_groups": ["women", "families"],
        "features": [],
        "security_level": 3,
        "protected_data_capability": "skyddad_folkbokforing",
        "max_age_boys": 15,
        "max_age_girls": None,
        "staff_languages": ["sv", "en"],
        "daily_rate_sek": 2400,
        "daily_intake_limit": 2,
    } | overrides
    return await conn.fetchval(
        """insert into shelter (operator_id, municipality_code, label, target_groups, features, security_level,
                                protected_data_capability, max_age_boys, max_age_girls, staff_languages,
                                daily_rate_sek, daily_intake_limit)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id""",
        operator_id, code, *values.values(),
    )


async def unit(conn: asyncpg.Connection, shelter_id: uuid.UUID, beds: int = 3, shareable: bool = False) -> uuid.UUID:
    return await conn.fetchval(
        "insert into unit (shelter_id, label, beds, shareable) values ($1, $2, $3, $4) returning id",
        shelter_id, f"Lgh {next(_counter)}", beds, shareable,
    )


async def request(conn: asyncpg.Connection, municipality_id: str, **overrides) -> uuid.UUID:
    values = {
        "case_reference": f"CASE-{next(_counter):05d}",
        "urgency": "acute",
        "security_level_needed": 2,
        "protected_data_level": "none",
        "latest_start_date": date.today() + timedelta(days=1),
    } | overrides
    return await conn.fetchval(
        """insert into placement_request (municipality_id, case_reference, urgency, security_level_needed,
                                          protected_data_level, latest_start_date)
           values ($1, $2, $3, $4, $5, $6) returning id""",
        municipality_id, *values.values(),
    )


async def offer(conn: asyncpg.Connection, request_id: uuid.UUID, unit_id: uuid.UUID, beds: int = 1) -> uuid.UUID:
    return await conn.fetchval(
        """insert into offer (request_id, unit_id, beds, expires_at)
           values ($1, $2, $3, now() + interval '2 hours') returning id""",
        request_id, unit_id, beds,
    )


async def accept(conn: asyncpg.Connection, offer_id: uuid.UUID) -> uuid.UUID:
    row = await conn.fetchrow(
        "update offer set status = 'accepted', answered_at = now() where id = $1 returning request_id, unit_id, beds",
        offer_id,
    )
    return await conn.fetchval(
        "insert into placement (request_id, offer_id, unit_id, beds) values ($1, $2, $3, $4) returning id",
        row["request_id"], offer_id, row["unit_id"], row["beds"],
    )
