"""API schemas of feeds and their health events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from shared.fetching.sources import DEFAULT_KIND, describe_kinds, kind_names
from shared.schemas import omittable


def _registered_kind(value: str) -> str:
    if value not in kind_names():
        raise ValueError(f"unknown kind {value!r}; one of: {', '.join(kind_names())}")
    return value


def _kind_schema(schema: dict[str, Any]) -> None:
    # read when the OpenAPI document is built, so kinds registered at start-up (plugins) are listed
    schema["enum"] = kind_names()
    schema["description"] = f"the source kind ({describe_kinds()})"


# a registered source kind (shared/fetching/sources/): checked against the table, not a fixed Literal
FeedKind = Annotated[str, AfterValidator(_registered_kind), Field(json_schema_extra=_kind_schema)]
Health = Literal["ok", "degraded", "failing", "stale"]


class FeedIn(BaseModel):
    url: str = Field(max_length=2000)
    title: str | None = Field(default=None, max_length=500)
    kind: FeedKind = DEFAULT_KIND
    extract_full_text: bool = False
    enabled: bool = True


class FeedPatch(BaseModel):
    """Only the fields given change; enabled and extract_full_text may be left out but not set to null."""

    title: str | None = Field(default=None, max_length=500)
    enabled: bool = omittable()
    extract_full_text: bool = omittable()


class FeedOut(BaseModel):
    id: int
    owner_id: int
    url: str
    title: str | None
    kind: str
    enabled: bool
    extract_full_text: bool
    interval_seconds: int
    next_fetch_at: datetime
    health: str
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    created_at: datetime
    usual_gap_seconds: float | None = None
    last_status: int | None = None
    unhealthy_since: datetime | None = None
    hub_url: str | None = None
    websub_state: str = "none"
    websub_renew_at: datetime | None = None
    websub_error: str | None = None


class FeedEventOut(BaseModel):
    id: int
    feed_id: int
    type: str
    health: str
    reason: str
    created_at: datetime
