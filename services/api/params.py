"""Path and query parameters every router shares: bounded ids and keyset pagination (`?limit=&before=`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from shared.schemas import MAX_INT

IdPath = Annotated[int, Path(ge=1, le=MAX_INT, description="the resource's id")]
LimitQ = Annotated[int, Query(ge=1, le=200, description="page size")]
BeforeQ = Annotated[
    int | None,
    Query(
        ge=1, le=MAX_INT, description="return items with an id below this (the previous page's next_before)"
    ),
]
