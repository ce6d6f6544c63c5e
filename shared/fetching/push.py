"""WebSub subscriber, DB-bound: subscribe to a feed's hub, answer the hub's challenge, ingest pushed content.

The callback is `{public_url}/websub/{feed_id}/{token}`: the random per-feed token makes the path
unguessable, and pushed bodies must carry an X-Hub-Signature made with the per-feed secret.

Exceptions: WebSubError and its subclasses from shared.fetching.websub; UnknownSubscription (a WebSubError
and a NotFound) for a callback path that matches no feed. A push with a bad signature is acknowledged and
ignored, as the spec asks (receive_push returns no articles).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session

from shared.config import Settings
from shared.errors import NotFound
from shared.fetching.feeds import FeedParseError, parse_feed
from shared.fetching.websub import (
    BadSignature,
    WebSubError,
    check_signature,
    new_secret,
    renewal_time,
    subscription_request,
    verify_challenge,
)
from shared.ingestion.service import entry_to_article, store_entries
from shared.models import Feed
from shared.models.base import utcnow
from shared.outbound.http import pinned_client
from shared.outbound.policy import FetchError
from shared.outbound.transport import total_deadline
from shared.security.keys import SecretBox

__all__ = [
    "PushResult",
    "UnknownSubscription",
    "callback_url",
    "feed_secret",
    "receive_push",
    "subscribe",
    "verify",
]


log = logging.getLogger(__name__)


class UnknownSubscription(NotFound, WebSubError):
    """No feed has this callback path."""


@dataclass
class PushResult:
    """Articles a push created."""

    feed_id: int
    new_article_ids: list[int] = field(default_factory=list)


def public_url(settings: Settings) -> str | None:
    """Where hubs can reach this service (setting `public_url`); None disables WebSub."""
    value = settings.public_url.rstrip("/")
    return value or None


def callback_url(settings: Settings, feed: Feed) -> str | None:
    """The feed's callback URL, or None when no public URL is configured."""
    base = public_url(settings)
    if base is None or feed.id is None or not feed.websub_token:
        return None
    return f"{base}/websub/{feed.id}/{feed.websub_token}"


def feed_secret(feed: Feed, settings: Settings) -> str:
    """The feed's WebSub secret in clear (it is stored encrypted, like webhook secrets)."""
    if not feed.websub_secret:
        raise UnknownSubscription("subscription has no secret")
    return SecretBox.from_settings(settings.secret_key, settings.data_dir).decrypt(feed.websub_secret)


def _feed_for(session: Session, feed_id: int, token: str) -> Feed:
    feed = session.get(Feed, feed_id)
    if feed is None or not feed.websub_token or not hmac.compare_digest(feed.websub_token, token):
        raise UnknownSubscription("no subscription at this callback")
    return feed


def subscribe(
    *,
    session: Session,
    feed_id: int,
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    mode: str = "subscribe",
) -> str:
    """POST the (re)subscription to the feed's hub; returns the new state (pending, failed, disabled)."""
    feed = session.get(Feed, feed_id)
    if feed is None or not feed.hub_url:
        return "none"
    if not feed.websub_token:
        feed.websub_token = secrets.token_urlsafe(24)
    if not feed.websub_secret:
        box = SecretBox.from_settings(settings.secret_key, settings.data_dir)
        feed.websub_secret = box.encrypt(new_secret())
    callback = callback_url(settings, feed)
    if callback is None:
        feed.websub_state, feed.websub_error = "disabled", "no public_url configured: hubs cannot call back"
        session.add(feed)
        return feed.websub_state
    data = subscription_request(
        topic=feed.websub_topic or feed.url, callback=callback, secret=feed_secret(feed, settings), mode=mode
    )
    policy, timeout = settings.address_policy(), settings.fetch_timeout_seconds
    try:
        with (
            pinned_client(policy, timeout=timeout, transport=transport) as client,
            total_deadline(timeout * 2),
        ):
            response = client.post(feed.hub_url, data=data)
        ok = response.status_code in (202, 204)
        error = None if ok else f"hub answered HTTP {response.status_code}: {response.text[:300]}"
    except (httpx.HTTPError, FetchError) as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"
    feed.websub_state = "pending" if ok else "failed"
    feed.websub_error = error
    # Retry a failed subscription later; a pending one gets its real renewal time when verified.
    feed.websub_renew_at = utcnow() + timedelta(hours=1 if ok else 6)
    session.add(feed)
    return feed.websub_state


def verify(*, session: Session, feed_id: int, token: str, query: Mapping[str, str],
           now: datetime | None = None) -> str:  # fmt: skip
    """Answer the hub's verification GET: returns the challenge to echo; raises WebSubError otherwise."""
    feed = _feed_for(session, feed_id, token)
    mode = query.get("hub.mode", "")
    if mode == "denied":
        feed.websub_state, feed.websub_error = "denied", query.get("hub.reason", "denied by the hub")
        session.add(feed)
        return ""
    challenge, lease = verify_challenge(
        query, expected_topic=feed.websub_topic or feed.url, expected_modes=("subscribe", "unsubscribe")
    )
    now = now or utcnow()
    if mode == "subscribe":
        feed.websub_state, feed.websub_error = "verified", None
        feed.websub_lease_seconds = lease
        feed.websub_renew_at = renewal_time(now, lease)
    else:
        feed.websub_state, feed.websub_renew_at = "none", None
    session.add(feed)
    return challenge


def receive_push(*, session: Session, feed_id: int, token: str, body: bytes, signature: str | None,
                 content_type: str | None, settings: Settings) -> PushResult:  # fmt: skip
    """Check the signature, parse the pushed feed document and store its entries."""
    feed = _feed_for(session, feed_id, token)
    try:
        check_signature(body, signature, feed_secret(feed, settings))
    except BadSignature:
        # The spec asks subscribers to acknowledge (2xx) but ignore content with a bad signature.
        log.warning("websub push for feed %s ignored: bad signature", feed_id)
        return PushResult(feed_id=feed_id)
    try:
        parsed = parse_feed(body, url=feed.url, content_type=content_type)
    except FeedParseError as exc:
        raise WebSubError(f"pushed content is not a feed: {exc}") from exc
    items = [a for e in parsed.entries if (a := entry_to_article(e))]
    result = store_entries(session=session, items=items, source="feed", feed_id=feed_id)
    if result.new_ids:
        feed.last_new_item_at = utcnow()
        session.add(feed)
    return PushResult(feed_id=feed_id, new_article_ids=result.new_ids)
