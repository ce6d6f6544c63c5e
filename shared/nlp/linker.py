"""The linker: gazetteer matching in every language, merged with the statistical model's spans.

One Aho-Corasick automaton holds every alias key of the knowledge base (see normalize.py), so matching costs
one pass over the article whatever the size of the knowledge base. Rules, in the order they apply:
- a full alias links wherever it occurs (case-checked: "Turkey" yes, "turkey" no; acronyms in upper case;
  Traditional and Simplified Chinese alike; a Chinese alias of one or two characters only where the
  segmenter's words begin and end, so 上合 does not match inside 上合作);
- a short name (surname) links when the article also names the entity in full (nearest preceding one when
  several share the surname), or right after a title ("President Erdoğan") when the surname is unambiguous;
- an office title with no name after it ("the Russian president") links to its holder on the publication
  day (never without a date);
- a model span that the gazetteer covers exactly (after dropping titles and "the") takes the gazetteer's
  entity and type ("the Kremlin" is an ORG); a longer model span of another type keeps its own reading
  ("Bank of China"); a model span crossing or inside a gazetteer match yields to it;
- other model spans stay as unlinked entities with their type and normalised text; a lone surname of an
  unlinked person takes the full name seen earlier as its normalised text;
- an acronym ("SCO") the article itself spells out as another name ("The SCO Group") is not linked
  (acronyms.py: the article's context decides).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import ahocorasick

from shared.folding import fold, has_han
from shared.nlp.acronyms import is_acronym, resolve_acronyms
from shared.nlp.consistency import harmonise
from shared.nlp.kb import KnowledgeBase, derived_short_names
from shared.nlp.normalize import clean_surface, key, tokens
from shared.nlp.types import PERSON, ExtractedEntity

# spaCy (OntoNotes) labels → ours. NORP, EVENT, PRODUCT, LAW, WORK_OF_ART, LANGUAGE and numbers are dropped.
SPACY_LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE"}

_TITLES = [
    *[
        "president",
        "presidents",
        "vice",
        "prime",
        "minister",
        "ministers",
        "premier",
        "chancellor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "sir",
    ],
    *[
        "chairman",
        "chairwoman",
        "secretary",
        "general",
        "king",
        "queen",
        "emir",
        "sheikh",
        "prince",
        "crown",
        "leader",
        "foreign",
    ],
    *[
        "defence",
        "defense",
        "counterpart",
        "envoy",
        "ambassador",
        "spokesman",
        "spokeswoman",
        "former",
        "late",
        "senator",
        "governor",
    ],
    *[
        "mayor",
        "президент",
        "премьер",
        "министр",
        "глава",
        "председатель",
        "лидер",
        "господин",
        "госпожа",
        "генсек",
    ],
    *["генеральный", "секретарь"],
]
TITLE_KEYS = frozenset(key(t) for t in _TITLES)
_STRIP_KEYS = TITLE_KEYS | {"the", "-", "'", "s", "’"}

FULL, SHORT, OFFICE = 0, 1, 2
SHORT_HAN = 2  # Chinese aliases up to this many characters must fall on word boundaries
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CASE_NONE, _CASE_CAP, _CASE_UPPER = 0, 1, 2


@dataclass(frozen=True)
class _Entry:
    target: str  # entity id, or office id for OFFICE entries
    kind: int
    case: int
    ntok: int


@dataclass
class _Match:
    start: int
    end: int
    ti: int
    tj: int
    entries: list[_Entry]
    entity_id: str | None = None
    label: str | None = None


def _case_rule(alias: str) -> int:
    letters = [c for c in alias if c.isalpha()]
    if not letters or not any(c.isupper() or c.islower() for c in letters):
        return _CASE_NONE  # Chinese and other caseless scripts
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return _CASE_UPPER
    return _CASE_CAP if letters[0].isupper() else _CASE_NONE


def _case_ok(rule: int, surface: str) -> bool:
    if rule == _CASE_UPPER:
        return surface.isupper()
    if rule == _CASE_CAP:
        first = next((c for c in surface if c.isalpha()), "")
        return first.isupper()
    return True


class Linker:
    """Gazetteer matcher and model-span merger over one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._auto = ahocorasick.Automaton()
        table: dict[str, dict[tuple[str, int], _Entry]] = {}

        def add(alias: str, target: str, kind: int) -> None:
            k = key(alias)
            if not k:
                return
            entries = table.setdefault(k, {})
            entry = _Entry(target, kind, _case_rule(alias), k.count(" ") + 1)
            old = entries.get((target, kind))
            # The loosest case rule wins when two spellings share a key (ШОС and Шос, say).
            if old is None or entry.case < old.case:
                entries[(target, kind)] = entry

        for e in kb.entities.values():
            for alias in e.all_aliases():
                add(alias, e.id, FULL)
            for names in derived_short_names(e).values():
                for s in names:
                    add(s, e.id, SHORT)
        for o in kb.offices.values():
            for alias in [o.name, *(a for names in o.aliases.values() for a in names)]:
                add(alias, o.id, OFFICE)
        # Each entity's names that are not acronyms: support for its acronym in an article.
        self._full_names = {
            e.id: {key(a) for a in e.all_aliases() if not is_acronym(a)} for e in kb.entities.values()
        }
        for k, entries in table.items():
            kept = list(entries.values())
            if any(x.kind == FULL for x in kept):
                # A name that is a full alias of some entity is never also treated as a mere surname.
                kept = [x for x in kept if x.kind != SHORT]
            self._auto.add_word(f" {k} ", (len(k) + 2, kept))
        if len(self._auto):
            self._auto.make_automaton()

    # -- gazetteer -----------------------------------------------------------------------------------------
    def _matches(
        self, text: str, toks: list[tuple[int, int, str]], word_starts: set[int] | None = None
    ) -> list[_Match]:
        if not toks or not len(self._auto):
            return []
        parts = [" "]
        pos2tok: dict[int, int] = {}
        at = 1
        for i, (_, _, k) in enumerate(toks):
            pos2tok[at] = i
            parts.append(k)
            parts.append(" ")
            at += len(k) + 1
        norm = "".join(parts)
        out: list[_Match] = []
        for end, (length, entries) in self._auto.iter(norm):
            ti = pos2tok[end - length + 2]
            ntok = entries[0].ntok
            tj = ti + ntok
            s, e = toks[ti][0], toks[tj - 1][1]
            surface = text[s:e]
            cuts = word_starts is not None and (s not in word_starts or e not in word_starts)
            if cuts and ntok <= SHORT_HAN and has_han(surface):
                continue  # a short Chinese alias that cuts through a word (上合 in 上合作)
            ok = [x for x in entries if _case_ok(x.case, surface)]
            if ok:
                out.append(_Match(s, e, ti, tj, ok))
        return out

    @staticmethod
    def _select(matches: list[_Match]) -> list[_Match]:
        """Keep the longest matches, leftmost first, without overlaps."""
        chosen: list[_Match] = []
        taken: set[int] = set()
        for m in sorted(matches, key=lambda m: (-(m.tj - m.ti), m.ti)):
            span = set(range(m.ti, m.tj))
            if not span & taken:
                chosen.append(m)
                taken |= span
        return sorted(chosen, key=lambda m: m.ti)

    def _after_title(self, toks: list[tuple[int, int, str]], ti: int) -> bool:
        return ti > 0 and toks[ti - 1][2] in TITLE_KEYS

    def _resolve(self, matches: list[_Match], toks: list[tuple[int, int, str]]) -> list[_Match]:
        full_at: dict[str, list[int]] = {}
        for m in matches:
            targets = {x.target for x in m.entries if x.kind == FULL}
            if len(targets) == 1:
                full_at.setdefault(next(iter(targets)), []).append(m.ti)
        resolved: list[_Match] = []
        for m in matches:
            fulls = [x.target for x in m.entries if x.kind == FULL]
            shorts = [x.target for x in m.entries if x.kind == SHORT]
            if len(set(fulls)) == 1:
                m.entity_id = fulls[0]
            elif fulls:
                seen = [t for t in set(fulls) if t in full_at and any(i != m.ti for i in full_at[t])]
                m.entity_id = seen[0] if len(seen) == 1 else None
            elif shorts:
                seen = [t for t in set(shorts) if t in full_at]
                if len(seen) == 1:
                    m.entity_id = seen[0]
                elif seen:
                    # Several people share the surname: the nearest full mention before this one decides.
                    before = [(max((i for i in full_at[t] if i < m.ti), default=-1), t) for t in seen]
                    best = max(before)
                    m.entity_id = best[1] if best[0] >= 0 else None
                elif len(set(shorts)) == 1 and self._after_title(toks, m.ti):
                    m.entity_id = shorts[0]
            if m.entity_id is not None:
                ent = self.kb.get(m.entity_id)
                m.label = ent.type if ent else None
                resolved.append(m)
            elif shorts:
                m.label = PERSON  # a known surname, but whose we cannot tell: typed, not linked
                resolved.append(m)
        return sorted(resolved, key=lambda m: m.ti)

    def _offices(
        self,
        text: str,
        offices: list[_Match],
        names: list[_Match],
        toks: list[tuple[int, int, str]],
        at: date | None,
    ) -> list[_Match]:
        """Return office titles with no name after them ("the Russian president"), linked to the holder.

        They are kept beside the names inside them: "President of Kazakhstan" is Tokayev and names Kazakhstan.
        """
        linked: list[_Match] = []
        if at is None or not offices:
            return linked
        person_at = {m.ti for m in names if m.label == PERSON}
        for m in self._select(offices):
            if m.tj in person_at:
                continue
            if m.tj < len(toks) and text[toks[m.tj][0] : toks[m.tj][1]][:1].isupper():
                continue  # a name the knowledge base does not know follows the title
            inside = [n for n in names if n.ti < m.tj and m.ti < n.tj]
            if any(n.label == PERSON or n.ti < m.ti or n.tj > m.tj for n in inside):
                continue
            holders = self.kb.office_holders(m.entries[0].target, at)
            if len(holders) == 1:
                m.entity_id, m.label = next(iter(holders)), PERSON
                linked.append(m)
        return linked

    # -- merge ---------------------------------------------------------------------------------------------
    def link(
        self,
        text: str,
        spans: Sequence[tuple[int, int, str]] = (),
        *,
        published: datetime | date | None = None,
        word_starts: set[int] | None = None,
    ) -> list[ExtractedEntity]:
        """Return the entity mentions of `text`, given the model's spans as (start, end, our label).

        `word_starts`: where the words of a Chinese text begin and end (from its segmenter), if known.
        """
        toks = tokens(text)
        at = published.date() if isinstance(published, datetime) else published
        found = self._matches(text, toks, word_starts)
        names = [m for m in found if any(x.kind != OFFICE for x in m.entries)]
        offices = [m for m in found if all(x.kind == OFFICE for x in m.entries)]
        gaz = self._resolve(self._select(names), toks)
        office_links = self._offices(text, offices, gaz, toks, at)
        by_tok_start = {t[0]: i for i, t in enumerate(toks)}
        by_tok_end = {t[1]: i + 1 for i, t in enumerate(toks)}
        out: dict[tuple[int, int], ExtractedEntity] = {}
        gaz_tokens: dict[int, _Match] = {i: m for m in gaz for i in range(m.ti, m.tj)}
        dropped: set[int] = set()
        for s, e, label in spans:
            if "\n" in text[s:e]:
                continue  # the model ran a headline into the body: no name spans a line break
            ti, tj = by_tok_start.get(s), by_tok_end.get(e)
            if ti is None or tj is None:
                continue
            while ti < tj and toks[ti][2] in _STRIP_KEYS and tj - ti > 1:
                ti += 1
            if tj - ti > 2 and toks[tj - 1][2] == "s" and toks[tj - 2][2] == "'":
                tj -= 2  # possessive
            inside = {id(gaz_tokens[i]): gaz_tokens[i] for i in range(ti, tj) if i in gaz_tokens}
            cs, ce = toks[ti][0], toks[tj - 1][1]
            if not inside:
                out[(cs, ce)] = self._unlinked(text, cs, ce, label)
                continue
            ms = list(inside.values())
            inner = ms[0] if len(ms) == 1 and ti <= ms[0].ti and ms[0].tj <= tj else None
            if inner is None or (inner.ti == ti and inner.tj == tj):
                continue
            if inner.tj == tj and label == PERSON == inner.label:
                # A fuller form of a known person's name ("Vladimir Vladimirovich Putin"): the longer span.
                dropped.add(id(inner))
                out[(cs, ce)] = self._make(text, cs, ce, inner)
            elif inner.label != PERSON or label != PERSON:
                # The model read a longer name around a known one ("Bank of China", "The SCO Group"):
                # that longer name is a different entity, which the knowledge base does not know.
                dropped.add(id(inner))
                out[(cs, ce)] = self._unlinked(text, cs, ce, label)
        for m in gaz:
            if id(m) not in dropped:
                out[(m.start, m.end)] = self._make(text, m.start, m.end, m)
        ents = self._coref_unlinked(
            self._drop_overlaps(sorted(out.values(), key=lambda x: (x.start, -x.end)))
        )
        ents = harmonise(text, ents) if spans else ents
        ents = resolve_acronyms(text, ents, self._full_names)
        if office_links:
            ents = sorted(
                ents + [self._make(text, m.start, m.end, m) for m in office_links], key=lambda x: x.start
            )
        return ents

    def _make(self, text: str, s: int, e: int, m: _Match) -> ExtractedEntity:
        ent = self.kb.get(m.entity_id) if m.entity_id else None
        surface = text[s:e]
        if ent is None:
            return ExtractedEntity(surface, m.label or PERSON, s, e, None, None, clean_surface(surface))
        return ExtractedEntity(surface, ent.type, s, e, ent.name, ent.id, ent.name)

    @staticmethod
    def _unlinked(text: str, s: int, e: int, label: str) -> ExtractedEntity:
        surface = text[s:e]
        norm = clean_surface(surface)
        if _CYRILLIC.search(norm):
            # Russian names inflect (Миллером, Миллера): their stemmed key groups the case forms.
            norm = key(norm)
        elif has_han(norm):
            norm = fold(norm)  # 習近平 and 习近平 are one name
        return ExtractedEntity(surface, label, s, e, None, None, norm)

    @staticmethod
    def _drop_overlaps(ents: list[ExtractedEntity]) -> list[ExtractedEntity]:
        kept: list[ExtractedEntity] = []
        for x in ents:
            if kept and x.start < kept[-1].end:
                prev = kept[-1]
                if (x.entity_id and not prev.entity_id) or (x.end - x.start > prev.end - prev.start):
                    kept[-1] = x
                continue
            kept.append(x)
        return kept

    @staticmethod
    def _coref_unlinked(ents: list[ExtractedEntity]) -> list[ExtractedEntity]:
        full_names: dict[str, str] = {}
        out: list[ExtractedEntity] = []
        for x in ents:
            if x.label == PERSON and x.entity_id is None:
                words = x.normalized.split()
                if len(words) >= 2:
                    full_names[key(words[-1])] = x.normalized
                elif len(words) == 1 and key(words[0]) in full_names:
                    full = full_names[key(words[0])]
                    x = ExtractedEntity(x.text, x.label, x.start, x.end, None, None, full)
            out.append(x)
        return out
