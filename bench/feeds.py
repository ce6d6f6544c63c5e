"""Feed parsing: the project's reader against feedparser alone, on the same documents in the same run.

Documents of N items (default 200) built from real BBC articles (../shared/data/full/bbc.jsonl.gz):
- rss: RSS 2.0 with title, link, permalink guid, pubDate, dc:creator, an escaped-HTML teaser as description
  and the whole article as content:encoded (CDATA, HTML paragraphs);
- atom: Atom 1.0 with title, link, id, published, updated, author, summary and content type="html";
- rss_entities: the RSS document with HTML entities (&nbsp; &eacute; ...) that XML does not define and bare
  ampersands in links: not well-formed, read on the fast path after the references are rewritten;
- rss_declined: the RSS document with one raw, unclosed <br> in the last item's description: not
  well-formed, so the fast path declines once lxml has read nearly all of it, and feedparser reads it.

Timing is CPU time (time.process_time) per parse, the project and feedparser.parse(bytes) (its defaults)
interleaved round by round so other load on the machine hits both alike; figures are medians over rounds.
- speedup (rss, atom, rss_entities) = feedparser / project; target >= 4 on rss and atom;
- declined_cost (rss_declined) = project / feedparser; target <= 1.1. The project's fallback runs
  feedparser without its HTML sanitiser (text is reduced to plain text anyway), so a declined document
  costs less than feedparser alone; `fast_attempt_ms` is the lxml work thrown away before that.
Every document is checked to take the path it is meant to (fast, or declined) and to give all N entries.

    .venv/bin/python -m bench.feeds --json
    newswatch bench feeds --json --items 200 --rounds 15
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import feedparser

from bench.pipeline import load_texts
from shared.fetching.feedreader.decode import decode_document, xml_body
from shared.fetching.feedreader.fast import parse_fast
from shared.fetching.feeds import parse_feed

BASE_TIME = datetime(2025, 5, 1, tzinfo=UTC)
URL = "https://news.example/feed"
TARGET_SPEEDUP = 4.0
TARGET_DECLINED = 1.1


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())


def build_rss(texts: list[tuple[str, str]]) -> bytes:
    """An RSS 2.0 document of the given articles."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>BBC News (bench)</title><link>https://news.example/</link><ttl>15</ttl>"
    ]
    for i, (title, text) in enumerate(texts):
        link = f"https://news.example/articles/{i}"
        when = format_datetime(BASE_TIME + timedelta(minutes=i), usegmt=True)
        teaser = html.escape(f"<p>{html.escape(text[:300])}</p>")
        parts.append(
            f"<item><title>{html.escape(title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{when}</pubDate><dc:creator>BBC News</dc:creator><description>{teaser}</description>"
            f"<content:encoded><![CDATA[{_paragraphs(text)}]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def build_atom(texts: list[tuple[str, str]]) -> bytes:
    """An Atom 1.0 document of the given articles."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title>BBC News (bench)</title><link href="https://news.example/"/><id>urn:bench:feed</id>'
        "<updated>2025-05-01T00:00:00Z</updated>"
    ]
    for i, (title, text) in enumerate(texts):
        when = (BASE_TIME + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts.append(
            f'<entry><title type="text">{html.escape(title)}</title>'
            f'<link rel="alternate" type="text/html" href="https://news.example/articles/{i}"/>'
            f"<id>urn:bench:{i}</id><published>{when}</published><updated>{when}</updated>"
            f"<author><name>BBC News</name></author><summary>{html.escape(text[:300])}</summary>"
            f'<content type="html">{html.escape(_paragraphs(text))}</content></entry>'
        )
    parts.append("</feed>")
    return "".join(parts).encode("utf-8")


def with_entities(rss: bytes) -> bytes:
    """The RSS document with undeclared HTML entities in titles and bare ampersands in links."""
    doc = rss.replace(
        b"</title><link>https://news.example/articles/",
        b"&nbsp;&eacute;</title><link>https://news.example/articles/",
    )
    return doc.replace(b"</link><guid>", b"?utm_source=rss&utm_medium=feed</link><guid>")


def declined(rss: bytes) -> bytes:
    """The RSS document with a raw unclosed <br> in the last description: not well-formed XML."""
    at = rss.rindex(b"</description>")
    return rss[:at] + b" <br> continued" + rss[at:]


def _path(doc: bytes) -> str:
    body = xml_body(decode_document(doc)[0].lstrip("\ufeff \t\r\n"))
    return "fast" if parse_fast(body.text, url=URL) is not None else "declined"


def _cpu_ms(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.process_time()
    fn()
    return (time.process_time() - start) * 1000


def measure(docs: dict[str, bytes], rounds: int) -> dict[str, Any]:
    """Median CPU milliseconds per document for the project, feedparser, and the fast path's own work."""
    samples: dict[str, dict[str, list[float]]] = {
        name: {"project": [], "feedparser": [], "fast_attempt": []} for name in docs
    }
    for r in range(rounds):
        for name, doc in docs.items():
            project = lambda doc=doc: parse_feed(doc, url=URL)  # noqa: E731
            reference = lambda doc=doc: feedparser.parse(doc)  # noqa: E731
            first, second = (project, reference) if r % 2 == 0 else (reference, project)
            a, b = _cpu_ms(first), _cpu_ms(second)
            samples[name]["project"].append(a if first is project else b)
            samples[name]["feedparser"].append(b if first is project else a)
            text = xml_body(decode_document(doc)[0].lstrip()).text
            samples[name]["fast_attempt"].append(_cpu_ms(lambda text=text: parse_fast(text, url=URL)))
    out: dict[str, Any] = {}
    for name, s in samples.items():
        ratios = [f / p for p, f in zip(s["project"], s["feedparser"], strict=True)]
        out[name] = {
            "bytes": len(docs[name]),
            "path": _path(docs[name]),
            "project_ms": round(statistics.median(s["project"]), 2),
            "feedparser_ms": round(statistics.median(s["feedparser"]), 2),
            "fast_attempt_ms": round(statistics.median(s["fast_attempt"]), 2),
            "speedup": round(statistics.median(s["feedparser"]) / statistics.median(s["project"]), 2),
            "speedup_per_round_min_max": [round(min(ratios), 2), round(max(ratios), 2)],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures (JSON with --json)."""
    parser = argparse.ArgumentParser(prog="newswatch bench feeds", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    texts = load_texts(args.items)
    rss = build_rss(texts)
    docs = {
        "rss": rss,
        "atom": build_atom(texts),
        "rss_entities": with_entities(rss),
        "rss_declined": declined(rss),
    }
    for name, doc in docs.items():  # each document takes the path it is meant to, and reads whole
        want = "declined" if name == "rss_declined" else "fast"
        if _path(doc) != want or len(parse_feed(doc, url=URL).entries) != len(texts):
            print(f"bench feeds: {name} does not take the {want} path or lost entries", file=sys.stderr)
            return 1
    figures = measure(docs, args.rounds)
    dec = figures["rss_declined"]
    result = {
        "items": len(texts),
        "rounds": args.rounds,
        "timing": "median CPU ms per parse, project and feedparser interleaved",
        "documents": figures,
        "speedup_rss": figures["rss"]["speedup"],
        "speedup_atom": figures["atom"]["speedup"],
        "speedup_rss_entities": figures["rss_entities"]["speedup"],
        "declined_cost": round(dec["project_ms"] / dec["feedparser_ms"], 3),
        "declined_fast_attempt_share": round(dec["fast_attempt_ms"] / dec["feedparser_ms"], 3),
        "targets": {"speedup_min": TARGET_SPEEDUP, "declined_cost_max": TARGET_DECLINED},
    }
    result["meets_targets"] = (
        min(result["speedup_rss"], result["speedup_atom"]) >= TARGET_SPEEDUP
        and result["declined_cost"] <= TARGET_DECLINED
    )
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for name, f in figures.items():
            print(f"{name:13} {f['bytes'] / 1024:7.0f} KiB  project {f['project_ms']:7.1f} ms  "
                  f"feedparser {f['feedparser_ms']:7.1f} ms  x{f['speedup']:.2f}  ({f['path']})")  # fmt: skip
        cost, met = result["declined_cost"], result["meets_targets"]
        print(f"declined document: {cost:.3f} x feedparser; targets met: {met}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
