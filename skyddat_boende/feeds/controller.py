"""Organisations register the feeds the service pulls their availability from, and read their status;
national follow-up reads every organisation's feed status (without ids or URLs)."""

from __future__ import annotations

import uuid

import asyncpg
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.feeds import repository
from skyddat_boende.feeds.schemas import FeedCreate, FeedRead, FeedStatus
from skyddat_boende.feeds.secrets import NoKey, Vault
from skyddat_boende.identity.principal import NATIONAL_FOLLOWUP, ORG_ADMIN
from skyddat_boende.objects import audited, not_found
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.problems import Conflict, Unprocessable, problem_responses
from skyddat_boende.webhooks.destinations import checked_url

MANAGE = secured(roles=[ORG_ADMIN], scopes=["feeds:write"])
NATIONAL = secured(roles=[NATIONAL_FOLLOWUP])
ERRORS = problem_responses(400, 401, 403, 404, 429)
CHANGE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _organisation(request: Request) -> str:
    return request.user.organisation_id


def _stale_hours(request: Request) -> int:
    return request.app.state.settings.stale_after_hours


async def _checked(url: str, request: Request) -> str:
    try:
        return await checked_url(url, allow_loopback_http=request.app.state.settings.development)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None


class FeedController(Controller):
    path = "/feeds"
    tags = ["feeds"]

    @post("/", summary="Register the feed the service pulls your availability from",
          description="See api_docs/feeds.md for the document format (api_docs/feed.schema.json) and polling. "
                      "Secrets are stored encrypted and never shown again. One active feed per organisation.",
          responses=CHANGE_ERRORS, **MANAGE)
    async def create_feed(self, db: Db, request: Request, data: JSONBody[FeedCreate]) -> Response[FeedRead]:
        url = await _checked(data.url, request)
        if data.oauth is not None:
            await _checked(data.oauth.token_url, request)
        vault = Vault(request.app.state.settings.feed_secret_key)
        try:
            async with db.transaction():
                created = await repository.create(db, request.user.organisation_id, url, data, vault,
                                                  _stale_hours(request))
        except (NoKey, repository.UnitNotOwned) as exc:
            raise Unprocessable(str(exc)) from None
        except asyncpg.UniqueViolationError:
            raise Conflict("Your organisation already has an active feed, or a unit is mapped twice; "
                           "deactivate the feed first or fix the mapping.") from None
        audited(request, "availability_feed", created.id)
        return Response(created, status_code=201, headers={"Location": f"/api/feeds/{created.id}"})

    @get("/", summary="Your organisation's feeds and their status", responses=ERRORS, **MANAGE)
    async def list_feeds(self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT,
                         offset: Offset = 0) -> list[FeedRead]:
        return await repository.list_for(db, _organisation(request), _stale_hours(request), limit, offset)

    @get("/overview", summary="Every organisation's feed status, for national follow-up",
         description="Per organisation: last success, last error type, consecutive failures, next attempt, "
                     "stale. Without feed ids or URLs (a URL may carry the partner's token).",
         responses=ERRORS, **NATIONAL)
    async def feed_overview(self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT,
                            offset: Offset = 0) -> list[FeedStatus]:
        return await repository.overview(db, _stale_hours(request), limit, offset)

    @get("/{feed_id:uuid}", summary="One feed's status", responses=ERRORS, **MANAGE)
    async def get_feed(self, db: Db, request: Request, feed_id: FromPath[uuid.UUID]) -> FeedRead:
        found = await repository.get(db, _organisation(request), feed_id, _stale_hours(request))
        if found is None:
            raise await not_found(request, "availability_feed", feed_id)
        return found

    @post("/{feed_id:uuid}/poll", status_code=202, summary="Fetch this feed at the next poll round",
          responses=ERRORS, **MANAGE)
    async def poll_feed(self, db: Db, request: Request, feed_id: FromPath[uuid.UUID]) -> None:
        if not await repository.make_due(db, request.user.organisation_id, feed_id):
            raise await not_found(request, "availability_feed", feed_id)
        audited(request, "availability_feed", feed_id)

    @delete("/{feed_id:uuid}", summary="Deactivate a feed (its units are then kept current by push or by hand)",
            responses=ERRORS, **MANAGE)
    async def delete_feed(self, db: Db, request: Request, feed_id: FromPath[uuid.UUID]) -> None:
        if not await repository.deactivate(db, request.user.organisation_id, feed_id):
            raise await not_found(request, "availability_feed", feed_id)
        audited(request, "availability_feed", feed_id)
