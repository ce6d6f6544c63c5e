"""Build or extend the knowledge base from a Wikidata JSON dump file (no network).

`newswatch kb import-wikidata DUMP [--out FILE] [--ids FILE] [--languages en,ru,zh]` streams the dump (the
standard `[`, one entity per line, `]` layout, or JSON lines; plain, .gz or .bz2), keeps people, organisations
and places with labels in the chosen languages, and writes one YAML file in the seeds/kb format: entities by
QID with labels and aliases per language, and offices from position-held (P39) statements with their start
(P580) and end (P582) dates. The file merges with the hand-written seed by id when the knowledge base loads.

Errors: `WikidataImportError` (a ValueError) for an unreadable dump; bad lines are counted and skipped.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import yaml

from shared.nlp.kb import DEFAULT_KB_PATH, KnowledgeBase

# instance-of (P31) classes → our types. Anything else is typed by its properties (see entity_type).
HUMAN = "Q5"
PLACE_CLASSES = frozenset(
    {
        "Q6256",
        "Q3624078",
        "Q515",
        "Q5119",
        "Q1549591",
        "Q1637706",
        "Q200250",
        "Q486972",
        "Q82794",
        "Q10864048",
        "Q35657",
        "Q107390",
        "Q2221906",
        "Q7275",
    }
)
ORG_CLASSES = frozenset(
    {
        "Q43229",
        "Q484652",
        "Q7210356",
        "Q245065",
        "Q1127126",
        "Q327333",
        "Q2659904",
        "Q4830453",
        "Q11691",
        "Q163740",
        "Q1331793",
        "Q192350",
    }
)
POSITION_CLASSES = frozenset({"Q4164871", "Q294414", "Q30461", "Q83307", "Q48352"})


class WikidataImportError(ValueError):
    """The dump cannot be read at all (missing file, not JSON)."""


def open_dump(path: Path) -> IO[str]:
    """Open a dump, transparently decompressing .gz and .bz2."""
    if not path.exists():
        raise WikidataImportError(f"no such dump: {path}")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def iter_entities(lines: Iterable[str], stats: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """Yield entity objects from dump lines, skipping the array brackets and counting bad lines."""
    for line in lines:
        line = line.strip().rstrip(",")
        if not line or line in ("[", "]"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if stats is not None:
                stats["bad_lines"] = stats.get("bad_lines", 0) + 1
            continue
        if isinstance(obj, dict) and obj.get("id"):
            yield obj


def _claim_ids(entity: dict[str, Any], prop: str) -> list[str]:
    out = []
    for claim in entity.get("claims", {}).get(prop, []):
        value = claim.get("mainsnak", {}).get("datavalue", {}).get("value")
        if isinstance(value, dict) and "id" in value:
            out.append(value["id"])
    return out


def _time(qualifiers: dict[str, Any], prop: str) -> str | None:
    for q in qualifiers.get(prop, []):
        value = q.get("datavalue", {}).get("value", {})
        t = value.get("time") if isinstance(value, dict) else None
        if t:
            # "+2012-05-07T00:00:00Z"; day or month precision gives -00, which we round to the 1st.
            ymd = t.lstrip("+").split("T")[0].split("-")
            if len(ymd) == 3 and ymd[0].isdigit():
                y, m, d = ymd
                return f"{int(y):04d}-{max(int(m), 1):02d}-{max(int(d), 1):02d}"
    return None


def entity_type(entity: dict[str, Any]) -> str | None:
    """Return PERSON, ORG, PLACE, POSITION or None from instance-of and telling properties."""
    classes = set(_claim_ids(entity, "P31"))
    if HUMAN in classes:
        return "PERSON"
    if classes & POSITION_CLASSES:
        return "POSITION"
    if classes & PLACE_CLASSES or "P625" in entity.get("claims", {}):
        return "PLACE"
    if classes & ORG_CLASSES or "P159" in entity.get("claims", {}):
        return "ORG"
    return None


def names(entity: dict[str, Any], languages: Iterable[str]) -> dict[str, list[str]]:
    """Return the label and aliases of an entity per language (label first, no duplicates)."""
    out: dict[str, list[str]] = {}
    for lang in languages:
        found = []
        label = entity.get("labels", {}).get(lang, {}).get("value")
        if label:
            found.append(label)
        found += [a.get("value") for a in entity.get("aliases", {}).get(lang, []) if a.get("value")]
        if found:
            out[lang] = list(dict.fromkeys(found))
    return out


def convert(
    entities: Iterable[dict[str, Any]], *, languages: list[str], only: set[str] | None = None
) -> dict[str, Any]:
    """Convert dump entities into a seeds/kb document ({entities, offices})."""
    kept: list[dict[str, Any]] = []
    positions: dict[str, dict[str, list[str]]] = {}
    holders: dict[str, list[dict[str, Any]]] = {}
    for ent in entities:
        qid = ent["id"]
        etype = entity_type(ent)
        aliases = names(ent, languages)
        if etype == "POSITION":
            positions[qid] = aliases
            continue
        if etype is None or not aliases or (only is not None and qid not in only):
            continue
        label = next((aliases[lang][0] for lang in languages if lang in aliases), qid)
        row: dict[str, Any] = {"id": qid, "type": etype, "name": label, "aliases": aliases}
        desc = ent.get("descriptions", {}).get("en", {}).get("value")
        if desc:
            row["description"] = desc
        kept.append(row)
        if etype == "PERSON":
            for claim in ent.get("claims", {}).get("P39", []):
                value = claim.get("mainsnak", {}).get("datavalue", {}).get("value")
                if not isinstance(value, dict) or "id" not in value:
                    continue
                q = claim.get("qualifiers", {})
                term = {"id": qid, "start": _time(q, "P580"), "end": _time(q, "P582")}
                holders.setdefault(value["id"], []).append({k: v for k, v in term.items() if v is not None})
    offices = []
    for pos_id, terms in sorted(holders.items()):
        aliases = positions.get(pos_id, {})
        name = next((aliases[lang][0] for lang in languages if lang in aliases), pos_id)
        offices.append({"id": pos_id, "name": name, "aliases": aliases, "holders": terms})
    return {"entities": kept, "offices": offices}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `newswatch kb import-wikidata`."""
    ap = argparse.ArgumentParser(prog="newswatch kb import-wikidata", description=__doc__.splitlines()[0])
    ap.add_argument("dump", type=Path, help="Wikidata JSON dump (.json, .json.gz, .json.bz2)")
    ap.add_argument("--out", type=Path, default=DEFAULT_KB_PATH / "wikidata.yaml", help="YAML file to write")
    ap.add_argument("--languages", default="en,ru,zh", help="comma-separated label languages")
    ap.add_argument(
        "--ids", type=Path, help="file of QIDs (one a line) to keep; default: every person/org/place"
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    """Command line: import a Wikidata JSON dump into a knowledge-base YAML file."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["import-wikidata"]:
        argv = argv[1:]  # `newswatch kb import-wikidata ...` hands us its subcommand too
    ap = build_parser()
    args = ap.parse_args(argv)
    only = None
    if args.ids:
        only = {line.strip() for line in args.ids.read_text().splitlines() if line.strip()}
    stats: dict[str, int] = {}
    try:
        with open_dump(args.dump) as fh:
            doc = convert(iter_entities(fh, stats), languages=args.languages.split(","), only=only)
    except (WikidataImportError, OSError, EOFError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Imported from {args.dump.name} by `newswatch kb import-wikidata`; regenerate rather than edit.\n"
    )
    args.out.write_text(header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    # Validate what we wrote against the knowledge base that will load it.
    KnowledgeBase().add_document(doc, source=str(args.out))
    summary = {
        "entities": len(doc["entities"]),
        "offices": len(doc["offices"]),
        "out": str(args.out),
        **stats,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
