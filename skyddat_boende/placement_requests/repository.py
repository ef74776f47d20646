"""SQL for placement requests. Every read is filtered by the requesting municipality."""

from __future__ import annotations

import uuid

import asyncpg

from skyddat_boende.matchmaking.adapter import request_rows
from skyddat_boende.placement_requests.schemas import (
    AdultRead, ChildRead, MatchReport, OfferSummary, RequestCreate, RequestRead,
)

CURRENT_OFFER = """
select o.id, o.status, s.municipality_code, s.security_level, s.daily_rate_sek, o.expires_at, o.fit
  from offer o join unit u on u.id = o.unit_id join shelter s on s.id = u.shelter_id
 where o.request_id = $1 and o.status in ('open', 'accepted')
 order by o.created_at desc limit 1
"""


async def create(db: asyncpg.Connection, municipality_id: str, data: RequestCreate) -> uuid.UUID:
    request_id = await db.fetchval(
        """insert into placement_request (
               municipality_id, case_reference, urgency, security_level_needed, protected_data_level, needs,
               honour_related, lgbtq, languages, excluded_municipalities, excluded_counties, threat_municipalities,
               min_distance_km, preferred_counties, preferred_near_municipality, max_distance_km,
               latest_start_date, max_daily_rate_sek, require_honour_competence, require_staff_language)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
           returning id""",
        municipality_id, data.case_reference, data.urgency, data.security_level_needed, data.protected_data_level,
        sorted(set(data.needs)), data.honour_related, data.lgbtq, sorted(set(data.languages)),
        sorted(set(data.excluded_municipalities)), sorted(set(data.excluded_counties)),
        sorted(set(data.threat_municipalities)), data.min_distance_km, sorted(set(data.preferred_counties)),
        data.preferred_near_municipality, data.max_distance_km, data.latest_start_date, data.max_daily_rate_sek,
        data.require_honour_competence, data.require_staff_language,
    )
    await db.executemany(
        "insert into request_adult (request_id, position, gender, age) values ($1, $2, $3, $4)",
        [(request_id, i, a.gender, a.age) for i, a in enumerate(data.adults, start=1)],
    )
    await db.executemany(
        """insert into request_child (request_id, position, gender, age, decision_reference)
           values ($1, $2, $3, $4, $5)""",
        [(request_id, i, c.gender, c.age, c.decision_reference) for i, c in enumerate(data.children, start=1)],
    )
    return request_id


async def get(db: asyncpg.Connection, municipality_id: str, request_id: uuid.UUID) -> RequestRead | None:
    rows = await request_rows(db, "r.id = $1 and r.municipality_id = $2", request_id, municipality_id)
    return await _read(db, rows[0]) if rows else None


async def list_for(
    db: asyncpg.Connection, municipality_id: str, status: str | None, limit: int, offset: int
) -> list[RequestRead]:
    rows = await request_rows(
        db, "r.municipality_id = $1 and ($2::text is null or r.status = $2)", municipality_id, status, limit, offset,
        page="limit $3 offset $4",
    )
    return [await _read(db, row) for row in rows]


async def _read(db: asyncpg.Connection, row: asyncpg.Record) -> RequestRead:
    offer = await db.fetchrow(CURRENT_OFFER, row["id"])
    placement_id = await db.fetchval(
        "select id from placement where request_id = $1", row["id"]
    )
    match = row["last_match"]
    return RequestRead(
        id=row["id"], case_reference=row["case_reference"], status=row["status"], urgency=row["urgency"],
        security_level_needed=row["security_level_needed"], protected_data_level=row["protected_data_level"],
        adults=[AdultRead(**a) for a in row["adults"]], children=[ChildRead(**c) for c in row["children"]],
        needs=list(row["needs"]), honour_related=row["honour_related"], lgbtq=row["lgbtq"],
        languages=list(row["languages"]), require_honour_competence=row["require_honour_competence"],
        require_staff_language=row["require_staff_language"], excluded_municipalities=list(row["excluded_municipalities"]),
        excluded_counties=list(row["excluded_counties"]), threat_municipalities=list(row["threat_municipalities"]),
        min_distance_km=row["min_distance_km"], preferred_counties=list(row["preferred_counties"]),
        preferred_near_municipality=row["preferred_near_municipality"], max_distance_km=row["max_distance_km"],
        latest_start_date=row["latest_start_date"], max_daily_rate_sek=row["max_daily_rate_sek"],
        waiting_since=row["waiting_since"], version=row["version"],
        offer=OfferSummary(**dict(offer)) if offer else None,
        placement_id=placement_id,
        match=MatchReport(**match) if match else None,
    )
