"""Every error leaves the service as problem+json (RFC 9457), and none leaks internals.

Domain code raises a `Problem` subclass; Litestar's own HTTP errors and anything unexpected
are mapped here once. Messages never echo request content: they name fields and rules.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, ClassVar

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://skyddat-boende.se/problems/"


class Problem(Exception):
    """A domain error with its HTTP status and a stable type slug (documented in api_docs/guide.md)."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Unprocessable(Problem):
    status, slug, title = 422, "unprocessable", "Request cannot be processed"


class ServiceUnavailable(Problem):
    status, slug, title = 503, "unavailable", "Service unavailable"


class ProblemBody(msgspec.Struct, frozen=True):
    """The shape of every error response (RFC 9457), for the OpenAPI document."""

    type: str
    title: str
    status: int
    detail: str | None = None


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI `responses=` entries for the error statuses an operation may answer."""
    return {
        status: ResponseSpec(
            data_container=ProblemBody, media_type=MEDIA_TYPE, description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in statuses
    }


def problem_response(
    status: int, slug: str | None, title: str, detail: str | None, headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": TYPE_BASE + slug if slug else "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def handle_problem(request: Request, exc: Problem) -> Response[dict[str, Any]]:
    return problem_response(exc.status, exc.slug, exc.title, exc.detail, exc.headers, **exc.extra)


def _without_values(message: str) -> str:
    """msgspec quotes offending values ("Invalid enum value '...'"): keep the rule, drop the value."""
    return re.sub(r"'[^']*'", "'…'", message)[:300]


def handle_validation(request: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [
        {"field": str(item.get("key", ""))[:100], "message": _without_values(str(item.get("message", "")))}
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    detail = "The request body or parameters do not match the schema."
    return problem_response(400, "invalid-input", "Invalid input", detail, errors=errors[:50])


def handle_http(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    # Litestar's own details are fixed texts (e.g. "Not Found"); 5xx details are never shown
    detail = exc.detail if status < 500 and exc.detail != title else None
    return problem_response(status, None, title, detail, dict(exc.headers or {}))


def handle_database_rule(request: Request, exc: asyncpg.IntegrityConstraintViolationError) -> Response[dict[str, Any]]:
    """A write the database's own rules refused: the input broke an invariant, nothing was written.
    The constraint's name is given; the database's message is not (it may quote values)."""
    constraint = getattr(exc, "constraint_name", None) or type(exc).__name__
    if isinstance(exc, asyncpg.UniqueViolationError):
        return problem_response(409, "conflict", "Conflict", f"Already exists or already taken ({constraint}).")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return problem_response(422, "unknown-reference", "Unknown reference",
                                f"The request refers to something that does not exist ({constraint}).")
    return problem_response(422, "rule-violated", "Rule violated", f"The request breaks a rule ({constraint}).")


# the database is down, restarting, refusing connections, or every pooled connection is busy (an
# OSError while serving is the socket to PostgreSQL: refused, reset, or a Unix socket gone)
UNAVAILABLE = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.exceptions.OperatorInterventionError,
               asyncpg.exceptions.InsufficientResourcesError, OSError, TimeoutError)
# PostgreSQL chose this transaction as a deadlock's or a serialization conflict's victim (retries.py
# retries where it can; this is what is left)
CONTENDED = (asyncpg.exceptions.TransactionRollbackError,)
RETRY_AFTER = {"Retry-After": "1"}


def _only(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether `exc` is of `kinds`, or a group (a dependency's cleanup failing as well) of nothing else."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_only(inner, kinds) for inner in exc.exceptions)
    return isinstance(exc, kinds)


def _unavailable(exc: BaseException) -> bool:
    """Database unavailability, including a pooled connection the database dropped in the middle of a
    query: its next use (the next query, or the pool's reset when the request gives it back) fails with
    asyncpg's internal error 'cannot switch to state N; another operation (M) is in progress', and the
    pool then closes it."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_unavailable(inner) for inner in exc.exceptions)
    return isinstance(exc, UNAVAILABLE) or (isinstance(exc, asyncpg.InternalClientError)
                                            and "another operation" in str(exc))


def handle_unavailable(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.warning("database unavailable", extra={"error_type": type(exc).__name__, "path_template": _route(request)})
    return problem_response(503, "unavailable", "Service unavailable",
                            "The database cannot be reached right now; try again shortly.", RETRY_AFTER)


def handle_contended(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    return problem_response(503, "busy", "Too many conflicting changes right now",
                            "Other changes to the same objects kept conflicting with this one; try again.", RETRY_AFTER)


def handle_unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if _unavailable(exc):
        return handle_unavailable(request, exc)
    if _only(exc, CONTENDED):
        return handle_contended(request, exc)
    # the type only: exception text may quote data (development shows the traceback, on demo data)
    log.error("unhandled error", extra={"error_type": type(exc).__name__, "path_template": _route(request)},
              exc_info=exc if request.app.state.settings.development else None)
    return problem_response(500, None, "Internal Server Error", "The error was logged.")


def _route(request: Request) -> str:
    handler = request.scope.get("route_handler")
    return next(iter(handler.paths), "") if handler is not None else ""


exception_handlers = {
    Problem: handle_problem,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    asyncpg.IntegrityConstraintViolationError: handle_database_rule,
    **{kind: handle_unavailable for kind in UNAVAILABLE},
    **{kind: handle_contended for kind in CONTENDED},
    Exception: handle_unexpected,
}
