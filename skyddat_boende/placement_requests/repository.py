"""SQL for placement requests. Every read is filtered by the requesting municipality."""

from __future__ import annotations

import uuid

import asyncpg

from skyddat_boende.matchmaking.adapter import REQUEST_ROWS
from skyddat_boende.placement_requests.schemas import (
    AdultRead, ChildRead, MatchReport, OfferSummary, RequestCreate, RequestRead,
)

OFFER_FIELDS = ("id", "status", "municipality_code", "security_level", "daily_rate_sek", "expires_at", "fit")


def _read_query(where: str, page: str = "") -> str:
    """Requests with their household (adapter.REQUEST_ROWS), current offer (columns offer_<field>) and
    placement, in one query; `where` and `page` are SQL written in this module."""
    return f"""
select q.*, {", ".join(f"o.{field} as offer_{field}" for field in OFFER_FIELDS)}, p.id as placement_id
  from ({REQUEST_ROWS} where {where} order by r.waiting_since, r.id {page}) q
  left join lateral (
      select o.id, o.status, s.municipality_code, s.security_level, s.daily_rate_sek, o.expires_at, o.fit
        from offer o join unit u on u.id = o.unit_id join shelter s on s.id = u.shelter_id
       where o.request_id = q.id and o.status in ('open', 'accepted')
       order by o.created_at desc limit 1) o on true
  left join lateral (select id from placement where request_id = q.id limit 1) p on true
 order by q.waiting_since, q.id
"""


GET = _read_query("r.id = $1 and r.municipality_id = $2")
LIST = _read_query("r.municipality_id = $1 and ($2::text is null or r.status = $2)", page="limit $3 offset $4")


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
    row = await db.fetchrow(GET, request_id, municipality_id)
    return _read(row) if row else None


async def list_for(
    db: asyncpg.Connection, municipality_id: str, status: str | None, limit: int, offset: int
) -> list[RequestRead]:
    return [_read(row) for row in await db.fetch(LIST, municipality_id, status, limit, offset)]


def _read(row: asyncpg.Record) -> RequestRead:
    offer = OfferSummary(**{field: row[f"offer_{field}"] for field in OFFER_FIELDS}) if row["offer_id"] else None
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
        offer=offer,
        placement_id=row["placement_id"],
        match=MatchReport(**match) if match else None,
    )
