"""Reading onward requests and onward offers, and turning rows into the engine's types. A social worker
sees their municipality's requests; housing staff see the offers made on their provider's apartments."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
from matching.onward import Apartment, OnwardRequest, rooms_needed
from matching.types import Adult, Child, Household, Municipality, Needs
from skyddat_boende.housing.schemas import (
    ApartmentAddress, HouseholdSummary, OnwardOfferRead, OnwardOfferSummary, OnwardRequestCreate, OnwardRequestRead,
)
from skyddat_boende.placement_requests.schemas import AdultRead, ChildRead, MatchReport

# apartments free to offer: available, and neither held by an open offer nor let under an accepted one
FREE_APARTMENTS = """
select a.id, a.provider_id, a.municipality_code, a.rooms, a.monthly_rent_sek,
       greatest(a.available_from, current_date) as available_from, a.protected_data_capability,
       a.wheelchair_accessible, a.pets_allowed
  from apartment a
 where a.status = 'available'
   and not exists (select 1 from onward_offer o where o.apartment_id = a.id and o.status in ('open', 'accepted'))
 order by a.id
"""

ALL_APARTMENTS = """
select a.id, a.provider_id, a.municipality_code, a.rooms, a.monthly_rent_sek, a.available_from,
       a.protected_data_capability, a.wheelchair_accessible, a.pets_allowed
  from apartment a
"""

OFFER_SUMMARY = """
select o.id, o.status, a.municipality_code, a.rooms, a.monthly_rent_sek, a.lease_type, o.created_at, o.expires_at,
       o.decline_reason, o.lease_signed_on, o.move_in_on, o.moved_in_at, o.fit
  from onward_offer o join apartment a on a.id = o.apartment_id
 where o.onward_request_id = $1
 order by o.created_at desc, o.id
"""

PROVIDER_OFFERS = """
select o.id, o.status, o.apartment_id, r.municipality_id as requesting_municipality, r.adults, r.children,
       r.needs, r.protected_data_level, o.created_at, o.expires_at, o.answered_at, o.decline_reason,
       o.lease_signed_on, o.move_in_on, o.moved_in_at
  from onward_offer o join apartment a on a.id = o.apartment_id join onward_request r on r.id = o.onward_request_id
 where a.provider_id = $1
"""


async def insert_request(db: asyncpg.Connection, municipality_id: str, data: OnwardRequestCreate) -> uuid.UUID:
    return await db.fetchval(
        """insert into onward_request (municipality_id, placement_id, case_reference, urgency, protected_data_level,
                                       adults, children, needs, excluded_municipalities, excluded_counties,
                                       threat_municipalities, min_distance_km, preferred_counties, max_rent_sek,
                                       earliest_move_in)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
           returning id""",
        municipality_id, data.placement_id, data.case_reference, data.urgency, data.protected_data_level,
        data.adults, data.children, sorted(set(data.needs)),
        sorted(set(data.excluded_municipalities)), sorted(set(data.excluded_counties)),
        sorted(set(data.threat_municipalities)), data.min_distance_km, sorted(set(data.preferred_counties)),
        data.max_rent_sek, data.earliest_move_in,
    )


async def request_row(db: asyncpg.Connection, municipality_id: str | None, request_id: uuid.UUID):
    return await db.fetchrow(
        "select * from onward_request where id = $1 and ($2::text is null or municipality_id = $2)",
        request_id, municipality_id,
    )


async def get_request(db: asyncpg.Connection, municipality_id: str, request_id: uuid.UUID) -> OnwardRequestRead | None:
    row = await request_row(db, municipality_id, request_id)
    return None if row is None else await _request_read(db, row)


async def list_requests(db: asyncpg.Connection, municipality_id: str, limit: int, offset: int) -> list[OnwardRequestRead]:
    rows = await db.fetch(
        """select * from onward_request where municipality_id = $1 order by waiting_since desc, id
           limit $2 offset $3""",
        municipality_id, limit, offset,
    )
    return [await _request_read(db, row) for row in rows]


async def _request_read(db: asyncpg.Connection, row: asyncpg.Record) -> OnwardRequestRead:
    offers = [OnwardOfferSummary(**dict(r)) for r in await db.fetch(OFFER_SUMMARY, row["id"])]
    match = MatchReport(**row["last_match"]) if row["last_match"] else None
    fields = {k: row[k] for k in OnwardRequestRead.__struct_fields__ if k in row.keys() and k not in
              ("adults", "children")}
    return OnwardRequestRead(
        **fields, adults=[AdultRead(**a) for a in row["adults"]], children=[ChildRead(**c) for c in row["children"]],
        offers=offers, match=match,
    )


async def provider_offers(db: asyncpg.Connection, provider_id: str, limit: int, offset: int) -> list[OnwardOfferRead]:
    rows = await db.fetch(PROVIDER_OFFERS + " order by o.created_at desc, o.id limit $2 offset $3",
                          provider_id, limit, offset)
    return [_offer_read(r) for r in rows]


async def provider_offer(db: asyncpg.Connection, provider_id: str, offer_id: uuid.UUID) -> OnwardOfferRead | None:
    row = await db.fetchrow(PROVIDER_OFFERS + " and o.id = $2", provider_id, offer_id)
    return _offer_read(row) if row else None


def _offer_read(row: asyncpg.Record) -> OnwardOfferRead:
    size = len(row["adults"]) + len(row["children"])
    household = HouseholdSummary(len(row["adults"]), len(row["children"]), rooms_needed(size), list(row["needs"]),
                                 row["protected_data_level"])
    fields = {k: row[k] for k in OnwardOfferRead.__struct_fields__ if k != "household"}
    return OnwardOfferRead(**fields, household=household)


async def address(db: asyncpg.Connection, municipality_id: str, offer_id: uuid.UUID) -> ApartmentAddress | None:
    row = await db.fetchrow("select * from onward_address($1, $2)", offer_id, municipality_id)
    return ApartmentAddress(**dict(row)) if row else None


# ------------------------------------------------------------------------------ rows to engine types


async def free_apartments(db: asyncpg.Connection, places: dict[str, Municipality]) -> list[Apartment]:
    return _apartments(await db.fetch(FREE_APARTMENTS), places)


async def all_apartments(db: asyncpg.Connection, places: dict[str, Municipality]) -> list[Apartment]:
    """Every published apartment, let or not: what the country's providers have at all."""
    return _apartments(await db.fetch(ALL_APARTMENTS), places)


def _apartments(rows, places: dict[str, Municipality]) -> list[Apartment]:
    return [
        Apartment(
            id=str(r["id"]), provider_id=r["provider_id"], municipality=places[r["municipality_code"]],
            rooms=r["rooms"], monthly_rent=r["monthly_rent_sek"], available_from=r["available_from"],
            protected_data_capability=r["protected_data_capability"],
            features=frozenset(f for f, on in (("wheelchair", r["wheelchair_accessible"]),
                                               ("pets", r["pets_allowed"])) if on),
        )
        for r in rows
    ]


def engine_request(row: asyncpg.Record, places: dict[str, Municipality]) -> OnwardRequest:
    needs = set(row["needs"])
    household = Household(
        adults=tuple(Adult(a["gender"], a["age"]) for a in row["adults"]),
        children=tuple(Child(c["age"], c["gender"]) for c in row["children"]),
        needs=Needs(**{need: True for need in needs}),
        protected_data=row["protected_data_level"],
    )
    return OnwardRequest(
        id=str(row["id"]), household=household, waiting_since=row["waiting_since"].date(), urgency=row["urgency"],
        excluded_municipalities=tuple(row["excluded_municipalities"]),
        excluded_counties=tuple(row["excluded_counties"]),
        threats=tuple(places[c] for c in row["threat_municipalities"]),
        min_distance_km=float(row["min_distance_km"]), preferred_counties=tuple(row["preferred_counties"]),
        max_rent=row["max_rent_sek"], earliest_move_in=row["earliest_move_in"],
    )


async def offered_before(db: asyncpg.Connection, request_id: uuid.UUID) -> list[str]:
    return [str(r["apartment_id"]) for r in
            await db.fetch("select apartment_id from onward_offer where onward_request_id = $1", request_id)]


def today() -> dt.date:
    return dt.date.today()
