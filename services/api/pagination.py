"""Keyset pagination by id, newest first: `?limit=&before=` in, `{"items", "next_before"}` out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

LimitQ = Annotated[int, Query(ge=1, le=200, description="page size")]
BeforeQ = Annotated[
    int | None,
    Query(ge=1, description="return items with an id below this (the previous page's next_before)"),
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_before: int | None = None


def page(items: list[T], limit: int, last_id: int | None) -> Page[T]:
    """A page; next_before is set when the page is full (there may be more)."""
    return Page[T](items=items, next_before=last_id if len(items) == limit else None)
