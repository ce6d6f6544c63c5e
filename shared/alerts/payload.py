"""Webhook bodies (Standard Webhooks envelope `{"type", "timestamp", "data"}`) and human-readable text.

The `data` of an event is built once, when the delivery is written to the outbox, and stored with it, so a
retry or a replay sends the same facts. Only the envelope timestamp and the `sent` latency figure are filled
per attempt (`render`), which is why each attempt is signed anew while its webhook-id never changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALERT_CREATED = "alert.created"
ALERT_UPDATED = "alert.updated"
FEED_UNHEALTHY = "feed.unhealthy"
ENDPOINT_DISABLED = "endpoint.disabled"
WATCH_FAILED = "watch.failed"
TREND_RISING = "trend.rising"
PING = "ping"

# The event types a subscription may choose; a ping is always sent when asked for. Opt-in types go only to
# subscriptions that name them (a subscription created without event types gets the defaults).
EVENT_TYPES: tuple[str, ...] = (
    ALERT_CREATED, ALERT_UPDATED, FEED_UNHEALTHY, ENDPOINT_DISABLED, WATCH_FAILED, TREND_RISING
)  # fmt: skip
OPT_IN_EVENT_TYPES: tuple[str, ...] = (TREND_RISING,)
DEFAULT_EVENT_TYPES: tuple[str, ...] = tuple(t for t in EVENT_TYPES if t not in OPT_IN_EVENT_TYPES)


@dataclass(frozen=True)
class WatchRef:
    """The watch an alert belongs to."""

    id: int | str
    name: str
    rule_version: int | None = None


@dataclass(frozen=True)
class ArticleRef:
    """The article behind an alert (or one more source of the same story)."""

    id: int | str
    url: str
    canonical_url: str | None = None
    title: str | None = None
    source_feed: str | None = None
    language: str | None = None
    published: datetime | None = None
    fetched: datetime | None = None


@dataclass(frozen=True)
class MatchedTerm:
    """One matched term: which field, where, and a snippet around it."""

    term: str
    field: str
    start: int | None = None
    end: int | None = None
    snippet: str | None = None


@dataclass(frozen=True)
class EntityRef:
    """A linked entity of the article."""

    text: str
    label: str
    canonical: str | None = None
    kb_id: str | None = None


@dataclass(frozen=True)
class AlertFacts:
    """Everything an alert event carries."""

    alert_id: int | str
    watch: WatchRef
    article: ArticleRef
    score: float | None = None
    story_id: str | int | None = None
    terms: Sequence[MatchedTerm] = field(default_factory=tuple)
    entities: Sequence[EntityRef] = field(default_factory=tuple)
    sources: Sequence[ArticleRef] = field(default_factory=tuple)  # every article of the story so far
    new_sources: Sequence[ArticleRef] = field(default_factory=tuple)  # what this alert.updated adds
    matched_at: datetime | None = None
    digest: Mapping[str, Any] | None = None  # set on a throttle digest alert


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_ms(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds always written (the latency figures' stage times), or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ms(a: datetime | None, b: datetime | None) -> float | None:
    """Milliseconds from a to b, to the microsecond (fractions kept: stages are often under a millisecond)."""
    if a is None or b is None:
        return None
    if a.tzinfo is None:
        a = a.replace(tzinfo=UTC)
    if b.tzinfo is None:
        b = b.replace(tzinfo=UTC)
    return round((b - a).total_seconds() * 1000, 3)


def article_data(a: ArticleRef) -> dict[str, Any]:
    """The JSON form of an article reference."""
    return {
        "id": a.id,
        "url": a.url,
        "canonical_url": a.canonical_url or a.url,
        "title": a.title,
        "source_feed": a.source_feed,
        "language": a.language,
        "published": iso(a.published),
        "fetched": iso(a.fetched),
    }


def alert_data(facts: AlertFacts) -> dict[str, Any]:
    """The `data` of an alert.created / alert.updated event."""
    a = facts.article
    data: dict[str, Any] = {
        "alert_id": facts.alert_id,
        "watch": {"id": facts.watch.id, "name": facts.watch.name, "rule_version": facts.watch.rule_version},
        "article": article_data(a),
        "matched_terms": [
            {"term": t.term, "field": t.field, "start": t.start, "end": t.end, "snippet": t.snippet}
            for t in facts.terms
        ],
        "entities": [
            {"text": e.text, "label": e.label, "canonical": e.canonical, "kb_id": e.kb_id}
            for e in facts.entities
        ],
        "score": facts.score,
        "story_id": facts.story_id,
        "sources": [article_data(s) for s in (facts.sources or (a,))],
        "latency": {
            "published": iso_ms(a.published),
            "fetched": iso_ms(a.fetched),
            "matched": iso_ms(facts.matched_at),
            "sent": None,
            "published_to_fetched_ms": _ms(a.published, a.fetched),
            "fetched_to_matched_ms": _ms(a.fetched, facts.matched_at),
            "matched_to_sent_ms": None,
        },
    }
    if facts.new_sources:
        data["new_sources"] = [article_data(s) for s in facts.new_sources]
    if facts.digest is not None:
        data["digest"] = dict(facts.digest)
    return data


def feed_unhealthy_data(
    *, feed_id: int | str, url: str, reason: str, since: datetime | None = None, failures: int | None = None
) -> dict[str, Any]:
    """The `data` of a feed.unhealthy event."""
    return {"feed": {"id": feed_id, "url": url}, "reason": reason, "since": iso(since), "failures": failures}


def endpoint_disabled_data(
    *, subscription_id: int | str, url: str, reason: str, disabled_at: datetime | None = None
) -> dict[str, Any]:
    """The `data` of an endpoint.disabled event (sent to the owner's other subscriptions)."""
    return {
        "subscription": {"id": subscription_id, "url": url},
        "reason": reason,
        "disabled_at": iso(disabled_at or datetime.now(UTC)),
    }


def watch_failed_data(*, watch: WatchRef, reason: str, failed_at: datetime | None) -> dict[str, Any]:
    """The `data` of a watch.failed event: the watch is quarantined (left out of matching) until resumed."""
    return {
        "watch": {"id": watch.id, "name": watch.name, "rule_version": watch.rule_version},
        "reason": reason,
        "failed_at": iso(failed_at or datetime.now(UTC)),
    }


def trend_rising_data(
    *,
    kind: str,
    ref_id: int,
    name: str,
    label: str | None,
    window_start: datetime,
    window_seconds: int,
    count: int,
    baseline: float,
    p_value: float,
    score: float,
    sources: int,
    languages: Sequence[str],
) -> dict[str, Any]:
    """The `data` of a trend.rising event: what rose, in which window, and the test that says so."""
    return {
        "kind": kind,
        kind: {"id": ref_id, "name": name, "label": label},
        "window": {"start": iso(window_start), "seconds": window_seconds},
        "count": count,
        "baseline_mean": round(baseline, 4),
        "p_value": p_value,
        "score": round(score, 3),
        "sources": sources,
        "languages": list(languages),
    }


def ping_data(*, subscription_id: int | str) -> dict[str, Any]:
    """The `data` of a test ping."""
    return {"subscription_id": subscription_id, "message": "Newswatch test ping"}


def envelope(
    event_type: str, data: Mapping[str, Any], *, timestamp: datetime | None = None
) -> dict[str, Any]:
    """The Standard Webhooks envelope."""
    return {"type": event_type, "timestamp": iso(timestamp or datetime.now(UTC)), "data": dict(data)}


def encode(body: Mapping[str, Any]) -> str:
    """Compact JSON; the exact string that is signed and sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def render(event_type: str, data: Mapping[str, Any], *, sent_at: datetime | None = None) -> str:
    """The body of one attempt: the stored data, with the send time filled into alert latency figures."""
    sent_at = sent_at or datetime.now(UTC)
    out = dict(data)
    latency = out.get("latency")
    if isinstance(latency, Mapping):
        lat = dict(latency)
        lat["sent"] = iso_ms(sent_at)
        lat["matched_to_sent_ms"] = _ms(_parse(lat.get("matched")), sent_at)
        out["latency"] = lat
    return encode(envelope(event_type, out, timestamp=sent_at))


def _clip(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_message(event_type: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """Human-readable (title, body) for chat and e-mail channels, from an event's data."""
    if event_type in (ALERT_CREATED, ALERT_UPDATED):
        watch = (data.get("watch") or {}).get("name") or "watch"
        art = data.get("article") or {}
        title_text = _clip(art.get("title") or art.get("url"), 120)
        if data.get("digest"):
            d = data["digest"]
            title = f"[{watch}] {d.get('count', 0)} more matches (digest)"
            lines = [f"- {_clip(t, 140)}" for t in d.get("titles", [])[:20]]
            return title, "\n".join(lines) or "Alerts were throttled for this watch."
        verb = "New match" if event_type == ALERT_CREATED else "Story update"
        title = f"[{watch}] {verb}: {title_text}"
        lines = []
        meta = ", ".join(x for x in (art.get("source_feed"), art.get("language"), art.get("published")) if x)
        if meta:
            lines.append(meta)
        lines.append(art.get("canonical_url") or art.get("url") or "")
        terms = data.get("matched_terms") or []
        if terms:
            lines.append("Matched: " + ", ".join(dict.fromkeys(t.get("term", "") for t in terms)))
            snip = next((t.get("snippet") for t in terms if t.get("snippet")), None)
            if snip:
                lines.append(f"“{_clip(snip, 300)}”")
        ents = data.get("entities") or []
        if ents:
            names = dict.fromkeys(e.get("canonical") or e.get("text") for e in ents)
            lines.append("Entities: " + ", ".join(n for n in list(names)[:10] if n))
        new = data.get("new_sources") or []
        if new:
            lines.append("New sources:")
            lines.extend(f"- {_clip(s.get('title') or s.get('url'), 100)} ({s.get('url')})" for s in new)
        if data.get("score") is not None:
            lines.append(f"Score: {data['score']:.2f}")
        return title, "\n".join(lines)
    if event_type == FEED_UNHEALTHY:
        feed = data.get("feed") or {}
        return f"Feed unhealthy: {feed.get('url')}", f"{data.get('reason')} (since {data.get('since')})"
    if event_type == ENDPOINT_DISABLED:
        sub = data.get("subscription") or {}
        return (
            f"Endpoint disabled: {sub.get('url')}",
            f"Subscription {sub.get('id')} was disabled: {data.get('reason')}. "
            "Re-enable it to replay what it missed.",
        )
    if event_type == TREND_RISING:
        kind = str(data.get("kind") or "entity")
        what = (data.get(kind) or {}).get("name") or f"{kind} {(data.get(kind) or {}).get('id')}"
        return (
            f"Rising {kind}: {_clip(what, 120)}",
            f"{data.get('count')} articles in the last window against {data.get('baseline_mean')} usually "
            f"(p = {data.get('p_value'):.2g}); {data.get('sources')} sources, languages "
            f"{', '.join(data.get('languages') or []) or 'unknown'}.",
        )
    if event_type == PING:
        return "Newswatch test", str(data.get("message", "ping"))
    return event_type, json.dumps(dict(data), ensure_ascii=False, default=str)[:2000]
