"""API schemas shared by every domain: the one error body and the keyset page.

Where schemas live: each domain's request and response models are in `shared/<domain>/schemas.py`
(plain pydantic, no web framework); the routers in services/api only wire them to paths. This module holds
the few that belong to no domain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from shared.models.base import to_utc

T = TypeVar("T")

MAX_MESSAGE = 300  # characters of a message kept in an error body: never the whole input echoed back
MAX_INT = 2**31 - 1  # the database's INTEGER: every id and every stored count fits, larger ones are refused

Id = Annotated[int, Field(ge=1, le=MAX_INT)]
# a date-time in: naive values are taken as UTC (the database stores aware UTC and refuses naive ones)
UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out but not sent as null (its type says what it takes)."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class FieldError(BaseModel):
    """One invalid field of a request: where it is, what is wrong, the kind of error."""

    loc: list[str | int] = Field(description='path to the field, e.g. ["body", "name"]')
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every 4xx (and 5xx) answer."""

    detail: str = Field(description=f"what went wrong, for people (at most {MAX_MESSAGE} characters)")
    code: str = Field(
        description="for machines: unauthenticated, forbidden_scope, not_found, conflict, name_taken, "
        "url_taken, last_admin_key, subscription_disabled, validation, invalid, rule_syntax, "
        "invalid_window, forbidden_address, too_large, method_not_allowed, internal, …"
    )
    position: int | None = Field(default=None, description="rule_syntax: 0-based offset in the query")
    expected: str | None = Field(default=None, description="rule_syntax: what the parser expected there")
    errors: list[FieldError] | None = Field(
        default=None, description="validation: each invalid field (at most 20, no input echoed)"
    )


def excerpt(text: str, limit: int = MAX_MESSAGE) -> str:
    """The text cut to `limit` characters, marked when cut; a lone surrogate is written as its escape."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


class Page(BaseModel, Generic[T]):
    """A keyset page, newest first: pass `next_before` as `before` for the next one."""

    items: list[T]
    next_before: int | None = None

    @classmethod
    def of(cls, items: list[T], limit: int, last_id: int | None) -> Page[T]:
        """A page; next_before is set when the page is full (there may be more)."""
        return cls(items=items, next_before=last_id if len(items) == limit else None)
