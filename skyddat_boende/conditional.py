"""Optimistic concurrency: every shelter and unit has an ETag (its version); a change needs If-Match."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from litestar import Request, Response

from skyddat_boende.objects import audited, not_found
from skyddat_boende.problems import Problem


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match required"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Changed since you read it"


#: Versions are PostgreSQL integers counting up from 1: a larger number can never be current.
MAX_VERSION = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def version_number(text: str) -> int | None:
    """The version in `text` (ASCII digits, 1 to MAX_VERSION), or None when it cannot be one of ours."""
    if not _DIGITS.fullmatch(text):
        return None
    version = int(text)
    return version if 1 <= version <= MAX_VERSION else None


def etag(version: int) -> str:
    return f'"v{version}"'


def required_version(request: Request) -> int:
    """The version the caller last saw, from If-Match; 428 without it, 412 when it is not one of ours."""
    header = request.headers.get("if-match")
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag from your last read of this object.")
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    version = version_number(value[2:-1]) if value.startswith('"v') and value.endswith('"') else None
    if version is None:
        raise PreconditionFailed("If-Match does not match the current ETag; read the object again.")
    return version


def tagged(content, *, status_code: int = 200, location: str | None = None) -> Response:
    """A response carrying the object's ETag (and Location for a creation)."""
    headers = {"ETag": etag(content.version)}
    if location:
        headers["Location"] = location
    return Response(content, status_code=status_code, headers=headers)


async def answer_update(
    request: Request, object_type: str, object_id: uuid.UUID, outcome: str, current: Callable[[], Awaitable]
) -> Response:
    """Answer an UPDATE guarded by owner and If-Match version ('updated', 'stale' or 'missing'): the same
    404 (audited as denied) for another owner's object, 412 when it changed since the caller read it;
    else the change is audited and the object answered as it is now, with its new ETag."""
    if outcome == "missing":
        raise await not_found(request, object_type, object_id)
    if outcome == "stale":
        raise PreconditionFailed(f"The {object_type} changed since you read it; read it again and retry.")
    audited(request, object_type, object_id)
    return tagged(await current())
