"""Bounded paging for every list."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

Limit = Annotated[int, Parameter(ge=1, le=200, description="page size (1-200)")]
Offset = Annotated[int, Parameter(ge=0, le=100_000, description="rows to skip")]
DEFAULT_LIMIT = 50
