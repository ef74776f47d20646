"""Optimistic concurrency: every shelter and unit has an ETag (its version); a change needs If-Match."""

from __future__ import annotations

from litestar import Request, Response

from skyddat_boende.problems import Problem


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match required"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Changed since you read it"


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
    if not (value.startswith('"v') and value.endswith('"') and value[2:-1].isdigit() and len(value) < 14):
        raise PreconditionFailed("If-Match does not match the current ETag; read the object again.")
    return int(value[2:-1])


def tagged(content, *, status_code: int = 200, location: str | None = None) -> Response:
    """A response carrying the object's ETag (and Location for a creation)."""
    headers = {"ETag": etag(content.version)}
    if location:
        headers["Location"] = location
    return Response(content, status_code=status_code, headers=headers)
