"""What the OpenAPI document states beyond Litestar's defaults, so that it says what the service does:
request bodies that refuse unknown fields are closed (`additionalProperties: false`), and every secured
operation lists the answers its guard and the body limit can give, whatever its handler declares."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference

from skyddat_boende.problems import MEDIA_TYPE

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Operation, Schema
    from litestar.typing import FieldDefinition

#: The guard's answers: several Authorization headers (400), no valid token (401), a role or scope that
#: does not allow the operation (403), the rate limit (429).
GUARD_STATUSES = (400, 401, 403, 429)
#: A body above the request size limit, before any handler runs.
BODY_STATUSES = (413,)
PROBLEM_SCHEMA = Reference(ref="#/components/schemas/ProblemBody")


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """msgspec Structs as Litestar documents them, plus `additionalProperties: false` for those declared
    with `forbid_unknown_fields=True` (which refuse unknown fields with 400)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if msgspec.inspect.type_info(field_definition.type_).forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def add_guard_responses(operation: Operation) -> None:
    """Add the guard's (and, for an operation with a body, the body limit's) problem answers that the
    handler did not list itself."""
    statuses = GUARD_STATUSES + (BODY_STATUSES if operation.request_body is not None else ())
    responses = operation.responses if operation.responses is not None else {}
    for status in statuses:
        responses.setdefault(str(status), OpenAPIResponse(
            description=HTTPStatus(status).phrase,
            content={MEDIA_TYPE: OpenAPIMediaType(schema=PROBLEM_SCHEMA)},
        ))
    operation.responses = dict(sorted(responses.items()))
