"""Social workers (and their municipality's systems) request placements and follow them."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.idempotency import idempotent
from skyddat_boende.identity.principal import SOCIAL_WORKER
from skyddat_boende.objects import audited_reads
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.placement_requests import repository, service
from skyddat_boende.placement_requests.schemas import RequestCreate, RequestRead, RequestStatus
from skyddat_boende.problems import problem_responses

READ = secured(roles=[SOCIAL_WORKER], scopes=["placements:read", "placements:write"])
WRITE = secured(roles=[SOCIAL_WORKER], scopes=["placements:write"])


def _municipality(request: Request) -> str:
    return request.user.organisation_id


class PlacementRequestController(Controller):
    path = "/requests"
    tags = ["placement requests"]

    @post("/", summary="Request a placement; the best fitting place is offered at once",
          description="The household's best fitting unit gets an offer that holds it; the response says where "
                      "(municipality only) and why, or why nothing fits, in numbers per rule.",
          responses=problem_responses(400, 401, 403, 409, 422, 429), **WRITE)
    async def create_request(self, db: Db, request: Request, data: JSONBody[RequestCreate]) -> Response[RequestRead]:
        await service.check(db, data)

        async def create() -> Response[RequestRead]:
            created = await service.create(db, request, data)
            return Response(created, status_code=201, headers={"Location": f"/api/requests/{created.id}"})

        return await idempotent(db, request, create)

    @get("/", summary="Your municipality's requests", responses=problem_responses(400, 401, 403, 429), **READ)
    async def list_requests(
        self, db: Db, request: Request, status: FromQuery[RequestStatus | None] = None, limit: Limit = DEFAULT_LIMIT,
        offset: Offset = 0,
    ) -> list[RequestRead]:
        found = await repository.list_for(db, _municipality(request), status, limit, offset)
        audited_reads(request, "placement_request", found)
        return found

    @get("/{request_id:uuid}", summary="One request, its offer and placement",
         responses=problem_responses(401, 403, 404, 429), **READ)
    async def get_request(self, db: Db, request: Request, request_id: FromPath[uuid.UUID]) -> RequestRead:
        return await service.read(db, request, request_id)

    @post("/{request_id:uuid}/withdraw", status_code=200, summary="Withdraw the request and any open offer",
          responses=problem_responses(401, 403, 404, 409, 429), **WRITE)
    async def withdraw_request(self, db: Db, request: Request, request_id: FromPath[uuid.UUID]) -> RequestRead:
        return await service.withdraw(db, request, request_id)
