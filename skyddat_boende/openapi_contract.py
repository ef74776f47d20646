"""What the OpenAPI document states beyond Litestar's defaults, so that it says what the service does:
request bodies that refuse unknown fields are closed (`additionalProperties: false`), the limits msgspec
enforces on list items and optional values are stated where they apply, a body type's worked example
(its `example` class variable) is in its schema, and every secured operation lists the answers its guard
and the body limit can give, whatever its handler declares."""

from __future__ import annotations

from http import HTTPStatus
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference, Schema

from skyddat_boende.problems import MEDIA_TYPE

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Operation
    from litestar.typing import FieldDefinition

#: The guard's answers: several Authorization headers (400), no valid token (401), a role or scope that
#: does not allow the operation (403), the rate limit (429).
GUARD_STATUSES = (400, 401, 403, 429)
#: A body above the request size limit, before any handler runs.
BODY_STATUSES = (413,)
PROBLEM_SCHEMA = Reference(ref="#/components/schemas/ProblemBody")
#: msgspec's JSON Schema keywords for a value's limits and description, and Litestar's Schema attributes.
KEYWORDS = {"pattern": "pattern", "minLength": "min_length", "maxLength": "max_length", "minimum": "minimum",
            "maximum": "maximum", "exclusiveMinimum": "exclusive_minimum", "exclusiveMaximum": "exclusive_maximum",
            "multipleOf": "multiple_of", "format": "format", "examples": "examples", "description": "description"}
#: Those that only apply to one type of value: on an optional value they belong to its non-null member.
TYPED = ("pattern", "min_length", "max_length", "minimum", "maximum", "exclusive_minimum", "exclusive_maximum",
         "multiple_of", "format", "min_items", "max_items")
COLLECTIONS = (list, set, frozenset)


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """msgspec Structs as Litestar documents them, plus `additionalProperties: false` for those declared
    with `forbid_unknown_fields=True` (which refuse unknown fields with 400)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct = field_definition.type_
        if msgspec.inspect.type_info(struct).forbid_unknown_fields:
            schema.additional_properties = False
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        for field in msgspec.inspect.type_info(struct).fields:
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                state_item_limits(prop, hints[field.name])
                move_into_non_null(prop)
        example = getattr(struct, "example", None)
        if example is not None:
            schema.examples = [msgspec.to_builtins(msgspec.convert(example, struct))]
        return schema


def is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _bare(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def state_item_limits(prop: Schema, annotation: Any) -> None:
    """Litestar documents a list's own limits but drops the msgspec `Meta` of its items (a list of
    municipality codes came out as a list of any strings): state the items' pattern, lengths, bounds,
    examples and description from msgspec's own JSON Schema of the item type."""
    bare = _bare(annotation)
    members = get_args(bare) if get_origin(bare) in (Union, UnionType) else (bare,)
    items = [s.items for s in (prop, *(prop.one_of or [])) if isinstance(s, Schema) and isinstance(s.items, Schema)]
    for member in members:
        bare = _bare(member)
        if get_origin(bare) not in COLLECTIONS or len(items) != 1:
            continue
        item = get_args(bare)[0]
        if get_origin(item) is not Annotated or is_struct(_bare(item)):
            continue
        for keyword, value in msgspec.json.schema(item).items():
            if keyword in KEYWORDS and getattr(items[0], KEYWORDS[keyword]) is None:
                setattr(items[0], KEYWORDS[keyword], value)


def move_into_non_null(prop: Schema) -> None:
    """An optional value's limits onto its non-null member (Litestar puts them beside the `oneOf`, where
    renderers do not show them)."""
    members = [m for m in (prop.one_of or []) if not (isinstance(m, Schema) and m.type == "null")]
    if len(members) != 1 or not isinstance(members[0], Schema):
        return
    for attribute in TYPED:
        value = getattr(prop, attribute)
        if value is not None and getattr(members[0], attribute) is None:
            setattr(members[0], attribute, value)
            setattr(prop, attribute, None)


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
