"""feedparser's own test documents, read by the project's feed reader and checked against their expectations.

feedparser's source distribution ships ~2,200 small feed documents (tests/**/*.xml), each with a header like

    Description: entry title inline XHTML with escaped markup
    Expect:      not bozo and entries[0]['title'] == 'History of the &lt;blink&gt; tag'

The sdist is fetched from the package registry by name and version (the installed feedparser's) into a cache
outside the repository, and read straight from the tarball: nothing of it is copied into the repository.

Each expectation is split into its atoms. An atom about a feed's or an entry's title, subtitle, link, id,
date, summary or content (or the document's encoding) becomes a check on the project's ParsedFeed; other
atoms (bozo, tags, authors, enclosures...) are outside the project's model and ignored. feedparser keeps
HTML in text fields while the project keeps plain text, so an expected value is turned into plain text the
way its construct is typed in feedparser's own result (text/html and XHTML through html_to_text, anything
else as plain text). feedparser's parse of the same document also tells which of an item's dates the
project's one date is (published, else updated, else created) and that the expectation holds at all.

    .venv/bin/python -m tests.conformance.feedparser_suite            # counts as JSON
    .venv/bin/python -m tests.conformance.feedparser_suite --list     # and every difference
"""

from __future__ import annotations

import argparse
import ast
import codecs
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import feedparser
import yaml
from feedparser.datetimes import _parse_date  # the reference's reading of a raw date string

from shared.fetching.feedreader.text import html_to_text, plain_text
from shared.fetching.feeds import FeedParseError, ParsedFeed, decode_document, parse_feed

HERE = Path(__file__).resolve().parent
KNOWN_DIFFERENCES = HERE / "known_differences.yaml"
MODES = ("auto", "fast", "fallback")
HTML_TYPES = {"text/html", "application/xhtml+xml"}
# Dates far in the future are clamped to `now` by the project (a scheduling guard); none of the documents
# dates anything after this.
NOW = datetime(9999, 1, 1, tzinfo=UTC)
HTTP_BASE = "http://127.0.0.1:8097/"

_DESC = re.compile(rb"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")
_SKIP = re.compile(rb"SkipUnless:\s*(.*?)\n")
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.M)


def cache_dir() -> Path:
    """Where the sdist is kept between runs: outside the repository, per user."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newswatch" / "feedparser"


def fetch_sdist(version: str | None = None) -> Path:
    """The feedparser sdist of `version` (default: the installed one), downloaded once from the registry."""
    version = version or installed_version("feedparser")
    target = cache_dir() / f"feedparser-{version}.tar.gz"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--quiet"]
        cmd += ["--dest", tmp, f"feedparser=={version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        found = list(Path(tmp).glob("feedparser-*.tar.gz"))
        if proc.returncode != 0 or not found:
            raise RuntimeError(f"pip download of feedparser=={version} failed: {proc.stderr.strip()[-800:]}")
        os.replace(found[0], target)  # atomic: parallel runs never see half a file
    return target


@dataclass
class Doc:
    """One test document of feedparser's suite."""

    name: str  # path inside the sdist's tests/ folder, e.g. wellformed/rss/item_title.xml
    data: bytes
    expect: str
    headers: dict[str, str]  # the response headers feedparser's test server would send (http_* documents)
    url: str

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


_WIDE_MARKERS = (
    (b"\x00\x00\xfe\xff", "utf-32be", 4), (b"\xff\xfe\x00\x00", "utf-32le", 4),
    (b"\x00\x00\x00\x3c", "utf-32be", 0), (b"\x3c\x00\x00\x00", "utf-32le", 0),
    (b"\x00\x3c\x00\x3f", "utf-16be", 0), (b"\x3c\x00\x3f\x00", "utf-16le", 0),
    (b"\xfe\xff", "utf-16be", 2), (b"\xff\xfe", "utf-16le", 2), (b"\xef\xbb\xbf", "utf-8", 3),
)  # fmt: skip


def _utf8_for_header(data: bytes) -> bytes:
    """Enough decoding to read the header of a UTF-16/32 document (what feedparser's runner does)."""
    for marker, enc, skip in _WIDE_MARKERS:
        if data.startswith(marker):
            return data[skip:].decode(enc, errors="replace").encode("utf-8")
    return data


def _skip_unless_holds(condition: str) -> bool:
    try:
        return bool(eval(condition))  # feedparser's runner evaluates these the same way
    except (ImportError, LookupError, NotImplementedError, AttributeError):
        return False


def load_documents(sdist: Path) -> Iterator[Doc]:
    """Every test document with an expectation, as feedparser's runner would serve it."""
    with tarfile.open(sdist) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = member.name.split("/", 2)
            if not member.isfile() or len(parts) < 3 or parts[1] != "tests" or not parts[2].endswith(".xml"):
                continue
            name = parts[2]
            fh = tar.extractfile(member)
            if fh is None:
                continue
            data = fh.read()
            head = _utf8_for_header(data) if name.startswith("encoding/") else data
            skip = _SKIP.search(head)
            if skip and not _skip_unless_holds(skip.group(1).decode().strip()):
                continue
            found = _DESC.search(head)
            if not found:
                continue
            headers: dict[str, str] = {}
            url = ""
            if "http" in name:  # served by feedparser's test server, with the headers the document names
                url = HTTP_BASE + "tests/" + name
                headers = {k.decode().strip().lower(): v.decode().strip() for k, v in _HEADER.findall(head)}
                headers.setdefault("content-type", "application/xml")
                headers.setdefault("content-location", url)
            yield Doc(name, data, found.group(2).decode("utf-8").strip(), headers, url)


# ---------- expectations as checks on the project's model ----------

_FEED_TEXT = {"title": "title", "subtitle": "subtitle", "tagline": "subtitle", "description": "subtitle"}
_ENTRY_TEXT = {"title": "title", "summary": "summary", "description": "summary"}
_DATES = {
    "published": "published", "issued": "published", "updated": "updated", "modified": "updated",
    "date": "updated", "created": "created",
}  # fmt: skip
_IDS = {"id": "id", "guid": "id"}


@dataclass(frozen=True)
class Check:
    """One expectation atom mapped onto the project's model: `field` of `scope` should equal `expected`."""

    scope: str  # "feed", "entry <i>" or "document"
    field: str  # title, subtitle, summary, content, link, id, date, encoding
    key: str  # feedparser's key, e.g. updated_parsed
    expected: Any


def _path(node: ast.AST) -> list[Any] | None:
    """['entries', 0, 'title'] for entries[0]['title'] / entries[0].title / entries[0].get('title')."""
    keys: list[Any] = []
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            keys.append(node.slice.value)
            node = node.value
        elif isinstance(node, ast.Attribute):
            keys.append(node.attr)
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.append(node.args[0].value)
            node = node.func.value
        elif isinstance(node, ast.Name):
            keys.append(node.id)
            return keys[::-1]
        else:
            return None


def _check_for(keys: list[Any], expected: Any) -> Check | None:
    root, rest = keys[0], keys[1:]
    if root in ("feed", "channel"):
        scope, texts = "feed", _FEED_TEXT
    elif root in ("entries", "items") and rest and isinstance(rest[0], int):
        scope, texts, rest = f"entry {rest[0]}", _ENTRY_TEXT, rest[1:]
    elif root == "encoding" and not rest:
        return Check("document", "encoding", "encoding", expected)
    else:
        return None
    if not rest or not isinstance(rest[0], str):
        return None
    key, tail = rest[0], rest[1:]
    if key.endswith("_detail") and tail == ["value"]:
        key, tail = key[: -len("_detail")], []
    if tail == [] and key in texts:
        return Check(scope, texts[key], key, expected)
    if scope != "feed" and key == "content" and tail == [0, "value"]:
        return Check(scope, "content", key, expected)
    if tail == [] and key == "link":
        return Check(scope, "link", key, expected)
    if tail == [] and key in _IDS:
        return Check(scope, "id", key, expected)
    base = key.removesuffix("_parsed")
    if tail == [] and base in _DATES:
        return Check(scope, "date", key, expected)
    return None


class _Atoms:
    """The expectation as a boolean tree whose in-scope atoms are Checks and whose other atoms hold."""

    def __init__(self, expr: str) -> None:
        self.tree = ast.parse(expr, mode="eval").body
        self.checks: list[Check] = []
        self._collect(self.tree)

    def _atom(self, node: ast.AST) -> Check | None:
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            left, right = node.left, node.comparators[0]
            keys = _path(left)
            try:
                value = _literal(right)
            except ValueError:
                return None
            return _check_for(keys, value) if keys else None
        if (  # not entries[0].has_key('link')
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.Not)
            and isinstance(node.operand, ast.Call)
            and isinstance(node.operand.func, ast.Attribute)
            and node.operand.func.attr == "has_key"
            and isinstance(node.operand.args[0], ast.Constant)
        ):
            keys = _path(node.operand.func.value)
            if keys:
                return _check_for([*keys, node.operand.args[0].value], None)
        return None

    def _collect(self, node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._collect(value)
            return
        check = self._atom(node)
        if check is not None:
            self.checks.append(check)

    def holds(self, verdict: Callable[[Check], bool], node: ast.AST | None = None) -> bool:
        node = self.tree if node is None else node
        if isinstance(node, ast.BoolOp):
            results = [self.holds(verdict, v) for v in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        check = self._atom(node)
        return True if check is None else verdict(check)


def _literal(node: ast.AST) -> Any:
    if (  # time.struct_time((2003, 12, 31, ...))
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "struct_time"
    ):
        return tuple(ast.literal_eval(node.args[0]))
    return ast.literal_eval(node)


# ---------- the reference: feedparser's own reading of the document ----------


def _plain(d: Any, key: str) -> Any:
    """d[key] without FeedParserDict's deprecated fallbacks (updated -> published)."""
    return dict.get(d, key) if isinstance(d, dict) else None


@dataclass
class Reference:
    """feedparser's result for one document, and whether the document's expectation holds for it."""

    result: Any
    holds: bool

    def node(self, scope: str) -> Any:
        if scope == "feed":
            return self.result["feed"]
        index = int(scope.split()[1])
        entries = self.result["entries"]
        return entries[index] if index < len(entries) else None

    def text_type(self, check: Check) -> str:
        node = self.node(check.scope)
        if node is None:
            return "text/plain"
        content = _plain(node, "content") or [{}]
        detail = content[0] if check.field == "content" else _plain(node, f"{check.field}_detail")
        if detail is None and check.field == "summary":
            detail = content[0]  # feedparser copies a content without a summary to the summary
        return str((detail or {}).get("type", "text/plain"))

    def kept_date(self, scope: str) -> str | None:
        """The date the project keeps for this feed or entry: feedparser's name for it."""
        node = self.node(scope)
        order = (
            ("updated", "published", "created") if scope == "feed" else ("published", "updated", "created")
        )
        for name in order:
            if _plain(node, f"{name}_parsed"):
                return name
        return None


def reference(doc: Doc) -> Reference:
    """Parse `doc` as feedparser's own runner does and evaluate its expectation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feedparser.parse(io.BytesIO(doc.data), response_headers=doc.headers or None)
        try:
            holds = bool(eval(doc.expect, {"feedparser": feedparser}, dict(result)))
        except Exception:
            holds = False
    return Reference(result, holds)


# ---------- the project's reading, and the comparison ----------


@dataclass
class Difference:
    """The project's value differs from the expectation (or between its two paths)."""

    document: str
    mode: str  # auto, fast, fallback, or "paths" for fast vs fallback
    field: str
    expected: Any
    got: Any

    def key(self) -> tuple[str, str, str]:
        return (self.document, self.mode, self.field)


def run_project(doc: Doc, mode: str) -> ParsedFeed | FeedParseError:
    """The project's reading of a document on one path; FeedParseError when it refuses or declines."""
    try:
        return parse_feed(doc.data, url=doc.url, content_type=doc.content_type, now=NOW, reader=mode)
    except FeedParseError as exc:
        return exc


def _project_value(feed: ParsedFeed, doc: Doc, check: Check) -> Any:
    if check.field == "encoding":
        return decode_document(doc.data, doc.content_type)[0]
    if check.scope == "feed":
        node: Any = feed
        values = {"title": feed.title or "", "subtitle": feed.subtitle, "link": feed.link, "id": feed.id}
        values["date"] = feed.updated
    else:
        index = int(check.scope.split()[1])
        if index >= len(feed.entries):
            return "<no such entry>"
        node = feed.entries[index]
        values = {"title": node.title, "summary": node.summary, "content": node.content, "link": node.url}
        values["id"] = node.guid
        values["date"] = node.published
    return values[check.field]


def _expected_value(check: Check, ref: Reference, doc: Doc) -> Any:
    value = check.expected
    if check.field in ("title", "subtitle", "summary", "content"):
        text = str(value or "")
        return html_to_text(text) if ref.text_type(check) in HTML_TYPES else plain_text(text)
    if check.field == "link":
        return value or None
    if check.field == "date":
        if isinstance(value, str):  # the raw date: compare what feedparser reads it as
            value = _parse_date(value)
        return tuple(value)[:6] if value else None
    if check.field == "encoding":
        data = doc.data
        for bom in (
            codecs.BOM_UTF32_BE,
            codecs.BOM_UTF32_LE,
            codecs.BOM_UTF8,
            codecs.BOM_UTF16_BE,
            codecs.BOM_UTF16_LE,
        ):
            if data.startswith(bom):
                data = data[len(bom) :]
                break
        try:
            return data.decode(str(value))
        except (LookupError, UnicodeDecodeError):
            return f"<undecodable as {value}>"
    return value


def _agrees(check: Check, expected: Any, got: Any, entry_url: str | None) -> bool:
    if check.field == "date":
        return expected == (got.utctimetuple()[:6] if got else None)
    if check.field == "id" and not expected:
        # no id in the document: the project keys the entry by its link, else by a hash of its text
        return got == entry_url or str(got).startswith("sha1:")
    if check.field == "encoding":
        return plain_text(str(expected)) == plain_text(str(got))
    return expected == got


def _in_model(check: Check, ref: Reference) -> bool:
    """Whether the project keeps what this check is about (it keeps one date per feed and per entry)."""
    if check.field != "date":
        return True
    name = _DATES[check.key.removesuffix("_parsed")]
    return ref.kept_date(check.scope) == name or (
        check.expected is None and ref.kept_date(check.scope) is None
    )


def _feed_key(feed: ParsedFeed) -> dict[str, Any]:
    return {
        "title": feed.title, "subtitle": feed.subtitle, "link": feed.link, "id": feed.id,
        "updated": feed.updated, "hub": feed.hub, "self_url": feed.self_url, "ttl": feed.ttl_minutes,
        "entries": [
            {"guid": e.guid, "url": e.url, "title": e.title, "summary": e.summary, "content": e.content,
             "published": e.published, "author": e.author}
            for e in feed.entries
        ],
    }  # fmt: skip


def _path_differences(name: str, fast: ParsedFeed, slow: ParsedFeed) -> list[Difference]:
    a, b = _feed_key(fast), _feed_key(slow)
    out = [Difference(name, "paths", f"feed {k}", b[k], a[k]) for k in a if k != "entries" and a[k] != b[k]]
    if len(a["entries"]) != len(b["entries"]):
        out.append(Difference(name, "paths", "entry count", len(b["entries"]), len(a["entries"])))
    for i, (x, y) in enumerate(zip(a["entries"], b["entries"], strict=False)):
        out.extend(Difference(name, "paths", f"entry {i} {k}", y[k], x[k]) for k in x if x[k] != y[k])
    return out


def _compare(
    doc: Doc, ref: Reference, atoms: _Atoms, mode: str, res: ParsedFeed | FeedParseError
) -> list[Difference]:
    """The differences between a document's expectation and one path's reading of it (none if it holds)."""
    failed: list[Difference] = []

    def verdict(check: Check) -> bool:
        expected = _expected_value(check, ref, doc)
        where = f"{check.scope} {check.field}"
        if not isinstance(res, ParsedFeed):
            failed.append(Difference(doc.name, mode, where, expected, f"refused: {res}"))
            return False
        got = _project_value(res, doc, check)
        url = None
        if check.scope.startswith("entry"):
            index = int(check.scope.split()[1])
            url = res.entries[index].url if index < len(res.entries) else None
        if _in_model(check, ref) and not _agrees(check, expected, got, url):
            failed.append(Difference(doc.name, mode, where, expected, got))
            return False
        return True

    return [] if atoms.holds(verdict) else failed


@dataclass
class Report:
    """Counts and differences of one run over the suite."""

    documents: int = 0
    documents_checked: int = 0
    expectations_not_holding: list[str] = field(default_factory=list)
    checks: Counter[str] = field(default_factory=Counter)
    entries_compared: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    both_paths: int = 0
    differences: list[Difference] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        by: Counter[str] = Counter(f"{d.mode}:{d.field.split()[-1]}" for d in self.differences)
        docs_by_mode: Counter[str] = Counter()
        for mode in {*MODES, "paths"}:
            docs_by_mode[mode] = len({d.document for d in self.differences if d.mode == mode})
        return {
            "documents": self.documents,
            "documents_with_checks": self.documents_checked,
            "expectations_not_holding_for_feedparser": len(self.expectations_not_holding),
            "checks_by_field": dict(sorted(self.checks.items())),
            "entries_compared": self.entries_compared,
            "accepted_by_path": dict(self.accepted),
            "refused_or_declined_by_path": dict(self.refused),
            "documents_read_by_both_paths": self.both_paths,
            "differences": len(self.differences),
            "differences_by_path_and_field": dict(sorted(by.items())),
            "documents_with_differences_by_path": dict(sorted(docs_by_mode.items())),
        }


def run_suite(
    docs: list[Doc], runner: Callable[[Doc, str], ParsedFeed | FeedParseError] = run_project
) -> Report:
    """Read every document on every path and compare with its expectation and across the two paths."""
    report = Report()
    for doc in docs:
        report.documents += 1
        results = {mode: runner(doc, mode) for mode in MODES}
        for mode, res in results.items():
            (report.accepted if isinstance(res, ParsedFeed) else report.refused)[mode] += 1
        fast, slow = results["fast"], results["fallback"]
        if isinstance(fast, ParsedFeed) and isinstance(slow, ParsedFeed):
            report.both_paths += 1
            report.differences.extend(_path_differences(doc.name, fast, slow))
        atoms = _Atoms(doc.expect)
        if not atoms.checks:
            continue
        ref = reference(doc)
        if not ref.holds:
            report.expectations_not_holding.append(doc.name)
            continue
        checks = [c for c in atoms.checks if _in_model(c, ref)]
        if not checks:
            continue
        report.documents_checked += 1
        report.entries_compared += len({c.scope for c in checks if c.scope.startswith("entry")})
        for check in checks:
            report.checks[check.field] += 1
        for mode, res in results.items():
            if mode == "fast" and not isinstance(res, ParsedFeed):
                continue  # declining is the fast path's right; the other two must read the document
            report.differences.extend(_compare(doc, ref, atoms, mode, res))
    return report


def load_known() -> dict[tuple[str, str, str], str]:
    """The known-differences file: (document, path, field or "*") -> reason."""
    rows = yaml.safe_load(KNOWN_DIFFERENCES.read_text(encoding="utf-8")) or []
    known: dict[tuple[str, str, str], str] = {}
    for row in rows:
        for document in row.get("documents") or [row["document"]]:
            for mode in row["paths"]:
                known[(document, mode, row["field"])] = row["reason"]
    return known


def explained(diff: Difference, known: dict[tuple[str, str, str], str]) -> tuple[str, str, str] | None:
    """The known-differences key that explains `diff`, if any."""
    for key in (diff.key(), (diff.document, diff.mode, "*")):
        if key in known:
            return key
    return None


def main(argv: list[str] | None = None) -> int:
    """Print the suite's counts (and with --list every difference) as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list every difference")
    parser.add_argument("--unexplained", action="store_true", help="list differences not in the known file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    docs = list(load_documents(fetch_sdist()))
    report = run_suite(docs)
    out: dict[str, Any] = {"feedparser": installed_version("feedparser"), **report.summary()}
    known = load_known()
    out["unexplained"] = sum(1 for d in report.differences if explained(d, known) is None)
    out["seconds"] = round(time.perf_counter() - started, 1)
    if args.list or args.unexplained:
        out["list"] = [
            [d.document, d.mode, d.field, repr(d.expected)[:160], repr(d.got)[:160]]
            for d in report.differences
            if args.list or explained(d, known) is None
        ]
    print(json.dumps(out, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
