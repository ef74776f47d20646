"""Placement request steps shared by the API and the social workers' pages: check, create and offer at
once (fast track), read one request of the caller's municipality (audited), and withdraw it."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Request

from skyddat_boende import workflow
from skyddat_boende.matchmaking import adapter
from skyddat_boende.matchmaking import service as matchmaking
from skyddat_boende.objects import audited, changed, shown
from skyddat_boende.placement_requests import consistency, repository
from skyddat_boende.placement_requests.schemas import RequestCreate, RequestRead
from skyddat_boende.problems import Problem
from skyddat_boende.retries import retrying


async def check(db: asyncpg.Connection, data: RequestCreate) -> None:
    """Raise ContradictoryRequest (422) before anything is stored."""
    await consistency.check(db, data, adapter.today())


class TooManyOpenRequests(Problem):
    status, slug, title = 409, "too-many-open-requests", "Too many open requests"


async def create(db: asyncpg.Connection, request: Request, data: RequestCreate) -> RequestRead:
    """Store the request for the caller's municipality and offer the best fitting place at once.
    A municipality may have at most SB_MAX_OPEN_REQUESTS open at once, so that no single organisation
    (or a stolen login) can hold the country's places under offers."""
    municipality = request.user.organisation_id
    limit = request.app.state.settings.max_open_requests
    open_now = await db.fetchval(
        "select count(*) from placement_request where municipality_id = $1 and status in ('waiting', 'offered')",
        municipality,
    )
    if open_now >= limit:
        raise TooManyOpenRequests(f"Your municipality already has {limit} open requests; close or withdraw some.")
    request_id = await repository.create(db, municipality, data)
    audited(request, "placement_request", request_id)
    await retrying(db, matchmaking.offer_next, request_id, request.app.state.settings, request.app.state.places)
    return await repository.get(db, municipality, request_id)


async def read(db: asyncpg.Connection, request: Request, request_id: uuid.UUID) -> RequestRead:
    """One of the caller's municipality's requests; NotFound (audited as denied) for any other."""
    found = await repository.get(db, request.user.organisation_id, request_id)
    return await shown(request, "placement_request", request_id, found)


async def withdraw(db: asyncpg.Connection, request: Request, request_id: uuid.UUID) -> RequestRead:
    """Withdraw the request and its open offer (the beds are free again); Conflict once it is placed or closed."""
    municipality = request.user.organisation_id
    withdrawn = await retrying(db, workflow.withdraw_request, municipality, request_id)
    await changed(request, "placement_request", request_id, withdrawn,
                  refused="The request is already placed, withdrawn or closed.")
    return await repository.get(db, municipality, request_id)
