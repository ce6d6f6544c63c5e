"""API schemas of alerts, subscriptions and deliveries, with their conversions from the rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from shared.links import safe_link, source_host, split_marks
from shared.models import Alert, Article, Delivery, DeliveryAttempt, Subscription, Watch
from shared.schemas import Id, UtcDatetime, omittable

DeliveryStatus = Literal["pending", "succeeded", "failed", "missed"]
EventType = Annotated[str, Field(min_length=1, max_length=50, description="see shared/alerts/payload.py")]


ALERT_EXAMPLE: JsonDict = {
    "id": 9, "watch_id": 1, "watch": "SCO", "article_id": 41, "title": "SCO summit opens in Astana",
    "url": "https://example.org/news/sco-summit", "host": "example.org", "story_key": "s40", "story_id": 40,
    "score": 3.0, "terms": [{"term": "SCO", "field": "title", "start": 0, "end": 3}],
    "snippet": "**SCO** summit opens in Astana", "snippet_text": "SCO summit opens in Astana",
    "highlights": [[0, 3]], "article_ids": [41, 44], "revision": 2, "throttled": False, "is_digest": False,
    "digest_id": None, "created_at": "2026-07-03T08:00:05Z", "updated_at": "2026-07-03T09:10:00Z",
    "acknowledged_at": None, "false_positive": False,
}  # fmt: skip


class AlertOut(BaseModel):
    """An alert: `snippet` marks hits **like this**; `snippet_text` + `highlights` say it as offsets; `url`
    is an http(s) link or null."""

    model_config = ConfigDict(json_schema_extra={"examples": [ALERT_EXAMPLE]})
    id: int
    watch_id: int
    watch: str
    article_id: int
    title: str
    url: str | None
    host: str = ""
    story_key: str
    story_id: int | None = None
    score: float
    terms: list[dict[str, Any]]
    snippet: str
    snippet_text: str = ""
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    article_ids: list[int]
    revision: int
    throttled: bool
    is_digest: bool
    digest_id: int | None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    false_positive: bool = False

    @classmethod
    def of(cls, alert: Alert, watch: Watch, article: Article) -> AlertOut:
        """The API form of an alert, with its watch's name and its first article."""
        text, spans = split_marks(alert.snippet or "")
        key = alert.story_key
        return cls(
            id=alert.id or 0,
            watch_id=alert.watch_id,
            watch=watch.name,
            article_id=alert.article_id,
            title=article.title,
            url=safe_link(article.url) or safe_link(article.canonical_url),
            host=source_host(article.canonical_url),
            story_key=key,
            story_id=int(key[1:]) if key[:1] == "s" and key[1:].isdigit() else None,
            score=alert.score,
            terms=alert.terms,
            snippet=alert.snippet,
            snippet_text=text,
            highlights=spans,
            article_ids=alert.article_ids,
            revision=alert.revision,
            throttled=alert.throttled,
            is_digest=alert.is_digest,
            digest_id=alert.digest_id,
            created_at=alert.created_at,
            updated_at=alert.updated_at,
            acknowledged_at=alert.acknowledged_at,
            false_positive=alert.false_positive,
        )


class SubscriptionIn(BaseModel):
    url: str = Field(
        max_length=2000, description="https://… webhook, or an Apprise URL (mailto://, slack://…)"
    )
    watches: list[Id] | None = Field(
        default=None, max_length=1000, description="watch ids; omitted or empty: every watch of the account"
    )
    event_types: list[EventType] | None = Field(
        default=None,
        max_length=20,
        description="alert.created, alert.updated, feed.unhealthy, endpoint.disabled (default: all)",
    )
    description: str | None = Field(default=None, max_length=500)
    max_concurrent: int | None = Field(default=None, ge=1, le=100, description="parallel requests to it")
    rate_per_second: float | None = Field(default=None, gt=0, le=10_000, description="requests a second")


class SubscriptionPatch(BaseModel):
    url: str = omittable(max_length=2000, description="a new target, checked like a new one")
    watches: list[Id] | None = Field(default=None, max_length=1000, description="[] means every watch")
    event_types: list[EventType] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = omittable()
    replay_missed: bool = Field(default=False, description="on re-enable: send what was missed meanwhile")


class SubscriptionOut(BaseModel):
    id: int
    owner_id: int
    url: str
    description: str | None
    watches: list[int] | None
    event_types: list[str]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    max_concurrent: int | None
    rate_per_second: float | None
    created_at: datetime

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        """The API form of a subscription (never its secrets)."""
        return cls(
            id=s.id or 0,
            owner_id=s.owner_id,
            url=s.url,
            description=s.description,
            watches=s.watch_ids,
            event_types=s.event_types,
            enabled=s.enabled,
            disabled_at=s.disabled_at,
            disabled_reason=s.disabled_reason,
            failing_since=s.failing_since,
            previous_secret_expires_at=s.previous_secret_expires_at,
            max_concurrent=s.max_concurrent,
            rate_per_second=s.rate_per_second,
            created_at=s.created_at,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="whsec_…: shown this once; store it to verify signatures")


class EnableResult(BaseModel):
    subscription: SubscriptionOut
    missed: int = Field(description="deliveries missed while disabled")
    replayed: int = Field(description="how many of them were queued again")


class ReplayIn(BaseModel):
    since: UtcDatetime | None = Field(default=None, description="failed or missed deliveries created since")
    delivery_id: Id | None = Field(default=None, description="just this delivery (any status)")


class ReplayOut(BaseModel):
    replayed: int
    delivery_ids: list[int]


class RotatedSecret(BaseModel):
    secret: str = Field(description="the new whsec_… secret, shown this once")
    previous_valid_until: datetime = Field(description="the old secret signs too until then")


class TestResult(BaseModel):
    delivery_id: int
    ok: bool
    status: str
    status_code: int | None
    duration_ms: float | None
    error: str | None


class AttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: float
    response_headers: dict[str, str]
    response_body: str
    error: str | None

    @classmethod
    def of(cls, a: DeliveryAttempt) -> AttemptOut:
        """The API form of one attempt."""
        return cls(
            attempt=a.attempt_number,
            attempted_at=a.attempted_at,
            status_code=a.status_code,
            duration_ms=a.duration_ms,
            response_headers=a.response_headers,
            response_body=a.response_body,
            error=a.error,
        )


class DeliveryOut(BaseModel):
    id: int
    webhook_id: str
    subscription_id: int
    alert_id: int | None
    event_type: str
    status: str
    attempts: int
    replays: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        """The API form of a delivery."""
        return cls(
            id=d.id or 0,
            webhook_id=d.msg_id,
            subscription_id=d.subscription_id,
            alert_id=d.alert_id,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            replays=d.replays,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]
