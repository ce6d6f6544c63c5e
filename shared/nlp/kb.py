"""The knowledge base: canonical entities with multilingual aliases, and offices with dated holders.

Loaded from YAML files in seeds/kb/ (reviewed like code). Each file may hold `entities:` and `offices:`; an id
seen in several files is merged (aliases unioned, later scalar fields win), so an import from Wikidata can
extend the hand-written seed without editing it.

Errors: `KnowledgeBaseError` (a ValueError) for a malformed file; it names the file and the entry.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from shared.nlp.normalize import key
from shared.nlp.types import LABELS

DEFAULT_KB_PATH = Path(__file__).resolve().parents[2] / "seeds" / "kb"
LANGUAGES = ("en", "ru", "zh")


class KnowledgeBaseError(ValueError):
    """A knowledge-base file is malformed (bad type, missing id, holder of an unknown entity)."""


@dataclass
class KBEntity:
    """A canonical entity. `short` names (surnames) link only after a full mention or a title."""

    id: str
    type: str
    name: str
    aliases: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    short: dict[str, list[str]] = field(default_factory=dict)

    def all_aliases(self) -> Iterator[str]:
        """Yield the name and every alias in every language."""
        yield self.name
        for names in self.aliases.values():
            yield from names


@dataclass(frozen=True)
class OfficeTerm:
    """One holder of an office from `start` to `end` (inclusive; None means open)."""

    entity_id: str
    start: date | None
    end: date | None

    def covers(self, at: date) -> bool:
        """Return True when the term includes the day `at`."""
        return (self.start is None or self.start <= at) and (self.end is None or at <= self.end)


@dataclass
class Office:
    """A public office ("President of Russia") with its names and its holders over time."""

    id: str
    name: str
    aliases: dict[str, list[str]] = field(default_factory=dict)
    holders: list[OfficeTerm] = field(default_factory=list)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _alias_map(raw: Any, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{where}: aliases must be a mapping of language to names")
    out: dict[str, list[str]] = {}
    for lang, names in raw.items():
        if isinstance(names, str):
            names = [names]
        out[str(lang)] = [str(n) for n in names or [] if str(n).strip()]
    return out


def derived_short_names(entity: KBEntity) -> dict[str, list[str]]:
    """Return the surname-style short names of a person: explicit `short`, else the last word of each name."""
    if entity.type != "PERSON":
        return {lang: list(v) for lang, v in entity.short.items()}
    out: dict[str, list[str]] = {lang: list(v) for lang, v in entity.short.items()}
    for lang, names in entity.aliases.items():
        if lang == "zh" or lang in entity.short:
            continue  # Chinese names are not split into surnames; explicit short names replace derived ones
        for name in names:
            words = name.replace("·", " ").split()
            if len(words) >= 2 and len(words[-1]) >= 3 and not words[-1].endswith("."):
                out.setdefault(lang, []).append(words[-1])
    return {lang: sorted(set(v)) for lang, v in out.items()}


class KnowledgeBase:
    """Canonical entities and offices, with name and office lookups; satisfies the rules' EntityResolver."""

    def __init__(self, entities: Iterable[KBEntity] = (), offices: Iterable[Office] = ()) -> None:
        self._index: tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str]] | None = None
        self.entities: dict[str, KBEntity] = {}
        self.offices: dict[str, Office] = {}
        for e in entities:
            self.add_entity(e)
        for o in offices:
            self.add_office(o)

    # -- loading -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> KnowledgeBase:
        """Load every *.yaml (or *.yml, *.json) file of a directory, or one file; default <repo>/seeds/kb."""
        path = Path(path) if path is not None else DEFAULT_KB_PATH
        suffixes = {".yaml", ".yml", ".json"}
        files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.suffix in suffixes)
        kb = cls()
        for f in files:
            doc = yaml.load(f.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
            kb.add_document(doc, source=str(f))
        kb.validate()
        return kb

    def add_document(self, doc: dict[str, Any], *, source: str = "<memory>") -> None:
        """Merge one parsed YAML document ({entities: [...], offices: [...]}) into the knowledge base."""
        for i, raw in enumerate(doc.get("entities") or []):
            where = f"{source}: entities[{i}]"
            if not isinstance(raw, dict) or not raw.get("id") or not raw.get("name"):
                raise KnowledgeBaseError(f"{where}: needs id and name")
            etype = str(raw.get("type", "")).upper()
            if etype not in LABELS:
                raise KnowledgeBaseError(f"{where}: type must be one of {LABELS}, got {etype!r}")
            self.add_entity(
                KBEntity(
                    id=str(raw["id"]),
                    type=etype,
                    name=str(raw["name"]),
                    aliases=_alias_map(raw.get("aliases"), where),
                    description=str(raw.get("description") or ""),
                    short=_alias_map(raw.get("short"), where),
                )
            )
        for i, raw in enumerate(doc.get("offices") or []):
            where = f"{source}: offices[{i}]"
            if not isinstance(raw, dict) or not raw.get("name"):
                raise KnowledgeBaseError(f"{where}: needs a name")
            try:
                holders = [
                    OfficeTerm(str(h["id"]), _as_date(h.get("start")), _as_date(h.get("end")))
                    for h in raw.get("holders") or []
                ]
            except (KeyError, TypeError, ValueError) as exc:
                raise KnowledgeBaseError(f"{where}: bad holder ({exc})") from exc
            office_id = str(raw.get("id") or key(str(raw["name"])).replace(" ", "-"))
            aliases = _alias_map(raw.get("aliases"), where)
            self.add_office(Office(office_id, str(raw["name"]), aliases, holders))

    def add_entity(self, entity: KBEntity) -> None:
        """Add an entity, or merge it into the one with the same id."""
        old = self.entities.get(entity.id)
        if old is not None:
            for lang, names in old.aliases.items():
                entity.aliases[lang] = list(dict.fromkeys([*names, *entity.aliases.get(lang, [])]))
            for lang, names in old.short.items():
                entity.short[lang] = list(dict.fromkeys([*names, *entity.short.get(lang, [])]))
            entity.description = entity.description or old.description
        self.entities[entity.id] = entity
        self._index = None

    def add_office(self, office: Office) -> None:
        """Add an office, or merge its aliases and holders into the one with the same id."""
        old = self.offices.get(office.id)
        if old is not None:
            for lang, names in old.aliases.items():
                office.aliases[lang] = list(dict.fromkeys([*names, *office.aliases.get(lang, [])]))
            office.holders = list(dict.fromkeys([*old.holders, *office.holders]))
        self.offices[office.id] = office
        self._index = None

    def validate(self) -> None:
        """Raise KnowledgeBaseError when an office names a holder that is not a known entity."""
        for office in self.offices.values():
            for term in office.holders:
                if term.entity_id not in self.entities:
                    raise KnowledgeBaseError(f"office {office.id}: unknown holder {term.entity_id}")

    # -- lookups -------------------------------------------------------------------------------------------
    def _indexes(self) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str]]:
        if self._index is None:
            names: dict[str, set[str]] = {}
            shorts: dict[str, set[str]] = {}
            offices: dict[str, str] = {}
            for e in self.entities.values():
                for alias in e.all_aliases():
                    names.setdefault(key(alias), set()).add(e.id)
                for short in derived_short_names(e).values():
                    for s in short:
                        shorts.setdefault(key(s), set()).add(e.id)
            for o in self.offices.values():
                offices[key(o.id.replace("-", " "))] = o.id
                offices[key(o.name)] = o.id
                for aliases in o.aliases.values():
                    for a in aliases:
                        offices[key(a)] = o.id
            self._index = (names, shorts, offices)
        return self._index

    def __len__(self) -> int:
        return len(self.entities)

    def get(self, entity_id: str) -> KBEntity | None:
        """Return the entity with this id, or None."""
        return self.entities.get(entity_id)

    def ids_for_name(self, name: str) -> set[str]:
        """Return the ids of entities known by this name or id (surnames only when no full name matches)."""
        if name in self.entities:
            return {name}
        names, shorts, _ = self._indexes()
        k = key(name)
        return set(names.get(k) or shorts.get(k) or ())

    def office(self, name: str) -> Office | None:
        """Return the office with this id, name or alias, or None."""
        if name in self.offices:
            return self.offices[name]
        office_id = self._indexes()[2].get(key(name))
        return self.offices.get(office_id) if office_id else None

    def office_holders(self, office: str, at: date | None) -> set[str]:
        """Return the ids of whoever held the office on day `at` (None: the current holders)."""
        found = self.office(office)
        if found is None:
            return set()
        if isinstance(at, datetime):
            at = at.date()
        if at is None:
            return {t.entity_id for t in found.holders if t.end is None}
        return {t.entity_id for t in found.holders if t.covers(at)}

    def offices_of(self, entity_id: str) -> list[tuple[Office, OfficeTerm]]:
        """Return the (office, term) pairs an entity held, oldest first."""
        pairs = [(o, t) for o in self.offices.values() for t in o.holders if t.entity_id == entity_id]
        return sorted(pairs, key=lambda p: p[1].start or date.min)


_LOADED: dict[str, KnowledgeBase] = {}
_LOAD_LOCK = threading.Lock()


def cached_knowledge_base(path: Path | None = None) -> KnowledgeBase:
    """The process's one knowledge base loaded from `path` (the API, the linker and backtests share it)."""
    resolved = str(Path(path if path is not None else DEFAULT_KB_PATH).resolve())
    with _LOAD_LOCK:
        if resolved not in _LOADED:
            _LOADED[resolved] = KnowledgeBase.load(Path(resolved))
        return _LOADED[resolved]
