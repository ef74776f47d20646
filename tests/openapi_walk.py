"""Walking the service's own OpenAPI document: every write operation, a valid body for it built from its
schema, and the paths of every text field in that body. The tests that send bad input to "every write
operation" take the operations from here, so a new operation is covered without editing a list."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

WRITE_METHODS = ("post", "put", "patch", "delete")
#: Values for fields whose schema alone does not say what the service takes (by field name; labels are
#: unique within their shelter or operator), and for patterns without examples (the first that matches).
BY_NAME = {"url": "http://127.0.0.1:9/hooks", "label": lambda: f"Lgh {uuid.uuid4().hex[:6]}",
           "street": "Testgatan 1", "city": "Testort", "contact_phone": "+46 90 000 00 00",
           "staff_languages": "sv", "languages": "sv"}
FOR_PATTERNS = ["MAL-TEST-1", "1280", "12", "sv", "901 00", "+46 90 000 00 00"]
#: Organisation for each role the document's x-access names (the test world's organisations).
ORG_OF_ROLE = {"shelter_staff": "operator-north", "social_worker": "kommun-1280", "org_admin": "kommun-1280",
               "housing_staff": "housing-north"}

Path = tuple[str | int, ...]


@dataclass
class Operation:
    method: str
    path: str
    role: str | None
    scope: str | None
    body_schema: dict | None

    def url(self, ids: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), self.path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


class Document:
    def __init__(self, doc: dict) -> None:
        self.doc = doc

    def write_operations(self) -> list[Operation]:
        found = []
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                if method not in WRITE_METHODS:
                    continue
                access = op.get("x-access", "")
                role = re.search(r"roles: (\w+)", access)
                scope = re.search(r"scope: ([\w:]+)", access)
                schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                found.append(Operation(method, path, role and role.group(1), scope and scope.group(1), schema))
        return found

    def resolve(self, schema: dict) -> dict:
        """$ref followed; of anyOf/oneOf the first alternative that is not null, with the outer limits."""
        if "$ref" in schema:
            return self.resolve(self.doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                choice = next(s for s in schema[key] if s.get("type") != "null")
                outer = {k: v for k, v in schema.items() if k != key}
                return self.resolve(choice) | outer
        return schema

    def example(self, schema: dict, name: str = "", ids: dict[str, str] | None = None) -> Any:
        """A valid value: required properties only, arrays at their minimum length (one item for
        arrays of objects), the smallest number, the first enum value."""
        schema, ids = self.resolve(schema), ids or {}
        kind = schema.get("type")
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "object":
            required = set(schema.get("required", []))
            return {key: self.example(sub, key, ids) for key, sub in schema.get("properties", {}).items()
                    if key in required}
        if kind == "array":
            item = self.resolve(schema["items"])
            count = max(schema.get("minItems", 0), 1 if item.get("type") == "object" else 0)
            return [self.example(item, name, ids) for _ in range(count)]
        if kind == "integer":
            return schema.get("minimum", 0)
        if kind == "boolean":
            return False
        return self._string(schema, name, ids)

    def _string(self, schema: dict, name: str, ids: dict[str, str]) -> str:
        fmt = schema.get("format")
        if fmt == "date":
            return dt.date.today().isoformat()
        if fmt == "uuid":
            return ids.get(name, str(uuid.uuid4()))
        if name in BY_NAME:
            return BY_NAME[name]() if callable(BY_NAME[name]) else BY_NAME[name]
        if schema.get("examples"):
            return schema["examples"][0]
        if "pattern" in schema:
            return next(c for c in FOR_PATTERNS if re.search(schema["pattern"], c))
        return "Testvärde"

    def text_fields(self, schema: dict, path: Path = ()) -> Iterator[tuple[Path, bool]]:
        """(path, is a list of strings) for every free-text field: strings without enum or format,
        at any depth, optional ones too (an array's first item stands for all)."""
        schema = self.resolve(schema)
        kind = schema.get("type")
        if kind == "object":
            for key, sub in schema.get("properties", {}).items():
                yield from self.text_fields(sub, (*path, key))
        elif kind == "array":
            item = self.resolve(schema["items"])
            if item.get("type") == "string" and "enum" not in item and "format" not in item:
                yield path, True
            elif item.get("type") == "object":
                yield from self.text_fields(item, (*path, 0))
        elif kind == "string" and "enum" not in schema and "format" not in schema:
            yield path, False

    def integer_fields(self, schema: dict, path: Path = ()) -> Iterator[Path]:
        schema = self.resolve(schema)
        if schema.get("type") == "object":
            for key, sub in schema.get("properties", {}).items():
                yield from self.integer_fields(sub, (*path, key))
        elif schema.get("type") == "array" and self.resolve(schema["items"]).get("type") == "object":
            yield from self.integer_fields(schema["items"], (*path, 0))
        elif schema.get("type") == "integer":
            yield path


def with_value(body: Any, path: Path, value: Any, document: Document, schema: dict) -> Any:
    """A copy of `body` with `value` at `path`, creating the containers on the way (from `schema`)."""
    if not path:
        return value
    schema = document.resolve(schema)
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(body) if body else [document.example(schema["items"])]
        items[head] = with_value(items[head], rest, value, document, schema["items"])
        return items
    sub = schema["properties"][head]
    current = body.get(head) if isinstance(body, dict) else None
    if current is None and rest:
        current = document.example(sub, head)
    return {**(body or {}), head: with_value(current, rest, value, document, sub)}


def value_at(body: Any, path: Path) -> str | None:
    for part in path:
        if body is None or (isinstance(part, int) and not body):
            return None
        body = body[part] if isinstance(part, int) else body.get(part)
    return body if isinstance(body, str) else None


def dotted(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
