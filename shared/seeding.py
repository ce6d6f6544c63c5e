"""Load seeds/: default watchlists, sample articles and the feeds list (idempotent).

Seeded watches and feeds belong to the system account (the bootstrap admin key's account). Each is
recorded (`seeded_items`) when first created: one the user deleted (or renamed) stays deleted at the next
start, and is never created again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlmodel import Session, select

from shared.config import Settings
from shared.fetching import service as feeds
from shared.fetching import store as feed_store
from shared.ingestion.schemas import ArticleIn
from shared.ingestion.service import ingest
from shared.models import SeededItem
from shared.models.account import SYSTEM_ACCOUNT_ID
from shared.outbound.policy import UnsafeURLError
from shared.rules import load_watch_file
from shared.rules import service as watches
from shared.rules import store as watch_store

log = logging.getLogger(__name__)


@dataclass
class SeedReport:
    watches: int = 0
    feeds: int = 0
    article_ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def parse_plain_article(raw: str) -> ArticleIn:
    """A plain-text article: the first line of three or more words is the title, the rest the text.

    Short lines before it (a section name such as "International") are dropped, and a title repeated
    right after itself (as copied web pages often have) is kept once.
    """
    lines = [ln.strip() for ln in raw.splitlines()]
    title, start = "", 0
    for i, ln in enumerate(lines):
        if len(ln.split()) >= 3:
            title, start = ln, i + 1
            break
    rest = lines[start:]
    while rest and (not rest[0] or rest[0] == title):
        rest = rest[1:]
    text = "\n".join(rest).strip()
    if not title:
        return ArticleIn(title="", text=raw.strip())
    return ArticleIn(title=title, text=text)


def read_article_file(path: Path) -> list[ArticleIn]:
    """Articles from a .json (one object or a list), .jsonl or plain .txt file."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [ArticleIn.model_validate(json.loads(ln)) for ln in raw.splitlines() if ln.strip()]
    if path.suffix == ".json":
        data = json.loads(raw)
        return [ArticleIn.model_validate(d) for d in (data if isinstance(data, list) else [data])]
    return [parse_plain_article(raw)]


def _first_time(session: Session, kind: str, key: str, *, exists: bool) -> bool:
    """True when this seed item was never created before (recording it now); False when it was."""
    seen = session.exec(select(SeededItem).where(SeededItem.kind == kind, SeededItem.key == key)).first()
    if seen is not None:
        return False
    session.add(SeededItem(kind=kind, key=key))
    return not exists  # there already (created before seeds were recorded): recorded, left alone


def seed(*, session: Session, settings: Settings, with_feeds: bool = True) -> SeedReport:
    """Store the default watches, sample articles and (optionally) feeds never seeded before."""
    report = SeedReport()
    root = settings.seeds_dir
    for path in sorted((root / "watchlists").glob("*.y*ml")):
        for spec in load_watch_file(path):
            exists = watch_store.by_name(session=session, name=spec.name, owner_id=SYSTEM_ACCOUNT_ID)
            if _first_time(session, "watch", spec.name, exists=exists is not None):
                watches.create_watch(session=session, name=spec.name, query=spec.query)
                report.watches += 1
    for path in sorted((root / "articles").glob("*")):
        if path.suffix in (".txt", ".json", ".jsonl"):
            items = read_article_file(path)  # without a URL: one article per content fingerprint
            report.article_ids += ingest(session=session, items=items, source="seed").new_ids
    feeds_file = root / "feeds.yaml"
    if with_feeds and feeds_file.exists():
        for entry in yaml.safe_load(feeds_file.read_text(encoding="utf-8")) or []:
            url = entry["url"] if isinstance(entry, dict) else str(entry)
            feed = feed_store.by_url(session=session, url=url, owner_id=SYSTEM_ACCOUNT_ID)
            if not _first_time(session, "feed", url, exists=feed is not None):
                continue
            title = entry.get("title") if isinstance(entry, dict) else None
            try:
                # seeds are trusted and resolving here needs a network: the address is checked at fetch time
                feeds.create_feed(
                    session=session, url=url, settings=settings, title=title, check_address=False
                )
                report.feeds += 1
            except UnsafeURLError as exc:
                report.skipped.append(f"{url}: {exc}")
    session.flush()
    return report
