"""Organisation admins manage their organisation's webhook subscriptions."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody

from skyddat_boende.access import secured
from skyddat_boende.dependencies import Db
from skyddat_boende.identity.principal import ORG_ADMIN
from skyddat_boende.objects import audited, not_found
from skyddat_boende.pagination import DEFAULT_LIMIT, Limit, Offset
from skyddat_boende.problems import Conflict, Unprocessable, problem_responses
from skyddat_boende.webhooks import outbox, repository
from skyddat_boende.webhooks.destinations import checked_url
from skyddat_boende.webhooks.schemas import TestEventQueued, WebhookCreate, WebhookCreated, WebhookRead

ADMIN = secured(roles=[ORG_ADMIN])
ERRORS = problem_responses(400, 401, 403, 404, 429)
CHANGE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _organisation(request: Request) -> str:
    return request.user.organisation_id


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/", summary="Register an https endpoint for events (the signing secret is shown once)",
          description="See api_docs/webhooks.md for the payloads, the signature and retries.",
          responses=CHANGE_ERRORS, **ADMIN)
    async def create_webhook(self, db: Db, request: Request, data: JSONBody[WebhookCreate]) -> Response[WebhookCreated]:
        try:
            url = await checked_url(data.url, allow_loopback_http=request.app.state.settings.development)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        organisation = _organisation(request)
        if await repository.active_count(db, organisation) >= repository.MAX_ACTIVE_PER_ORGANISATION:
            raise Conflict(f"Your organisation already has {repository.MAX_ACTIVE_PER_ORGANISATION} active "
                           "webhooks; delete one first.")
        created = await repository.create(db, organisation, url, sorted(set(data.event_types)))
        audited(request, "webhook_subscription", created.id)
        return Response(created, status_code=201, headers={"Location": f"/api/webhooks/{created.id}",
                                                           "Cache-Control": "no-store"})

    @get("/", summary="Your organisation's webhooks (without secrets)", responses=ERRORS, **ADMIN)
    async def list_webhooks(
        self, db: Db, request: Request, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
    ) -> list[WebhookRead]:
        return await repository.list_for(db, _organisation(request), limit, offset)

    @get("/{webhook_id:uuid}", summary="One of your organisation's webhooks", responses=ERRORS, **ADMIN)
    async def get_webhook(self, db: Db, request: Request, webhook_id: FromPath[uuid.UUID]) -> WebhookRead:
        found = await repository.get(db, _organisation(request), webhook_id)
        if found is None:
            raise await not_found(request, "webhook_subscription", webhook_id)
        return found

    @delete("/{webhook_id:uuid}", summary="Deactivate a webhook; its undelivered events are dropped",
            responses=ERRORS, **ADMIN)
    async def delete_webhook(self, db: Db, request: Request, webhook_id: FromPath[uuid.UUID]) -> None:
        if not await repository.deactivate(db, _organisation(request), webhook_id):
            raise await not_found(request, "webhook_subscription", webhook_id)
        audited(request, "webhook_subscription", webhook_id)

    @post("/{webhook_id:uuid}/test", status_code=202, summary="Queue a 'webhook.test' event to this webhook",
          responses=CHANGE_ERRORS, **ADMIN)
    async def test_webhook(self, db: Db, request: Request, webhook_id: FromPath[uuid.UUID]) -> TestEventQueued:
        organisation = _organisation(request)
        event_id = await outbox.enqueue_test(db, organisation, webhook_id)
        if event_id is None:
            found = await repository.get(db, organisation, webhook_id)
            if found is None:
                raise await not_found(request, "webhook_subscription", webhook_id)
            raise Conflict("The webhook is not active.")
        audited(request, "webhook_subscription", webhook_id)
        return TestEventQueued(event_id)
