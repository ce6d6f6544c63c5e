"""Document-level consistency for model spans: one name, one reading, everywhere in the article.

A statistical tagger decides each mention from a few words of context, so the same name may be tagged as a
person in one sentence, an organisation in the next and missed in a third. News text repeats its names, and
within one article a name almost always keeps its type. So, for mentions the knowledge base did not link:
- a lone word that is the surname of a person named in full earlier is a person ("Mills" after "John Mills");
- a name tagged with several types takes its majority type;
- untagged repeats of a tagged name (same capitalised string, whole words) are tagged too.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict

import ahocorasick

from shared.nlp.normalize import clean_surface
from shared.nlp.types import PERSON, ExtractedEntity


def _is_name(s: str) -> bool:
    # Capitalised words of three letters or more; all-caps only from four letters (short acronyms collide).
    return len(s) >= 3 and s[:1].isupper() and (not s.isupper() or len(s) >= 4)


def harmonise(text: str, ents: list[ExtractedEntity]) -> list[ExtractedEntity]:
    """Return the entities with per-document label consistency and propagated repeats (sorted by start)."""
    surnames: dict[str, str] = {}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for e in ents:
        if e.label == PERSON:
            words = e.text.split()
            if len(words) >= 2 and _is_name(words[-1]):
                surnames.setdefault(words[-1], e.normalized)
        votes[e.text][e.label] += 3 if e.entity_id else 1
    out: list[ExtractedEntity] = []
    for e in ents:
        if e.entity_id is None:
            if e.text in surnames:
                e = ExtractedEntity(e.text, PERSON, e.start, e.end, None, None, surnames[e.text])
            elif len(votes[e.text]) > 1:
                label = votes[e.text].most_common(1)[0][0]
                e = ExtractedEntity(e.text, label, e.start, e.end, None, None, e.normalized)
        out.append(e)
    # Untagged repeats of names seen tagged (and lone surnames of people named in full).
    labels = {t: c.most_common(1)[0][0] for t, c in votes.items() if _is_name(t)}
    for s in surnames:
        labels[s] = PERSON
    if not labels:
        return out
    covered = sorted((e.start, e.end) for e in out)
    extra: list[ExtractedEntity] = []
    for start, end, name in whole_words(text, list(labels)):
        i = bisect.bisect_right(covered, (start, 10**12)) - 1
        if (i >= 0 and covered[i][1] > start) or (i + 1 < len(covered) and covered[i + 1][0] < end):
            continue
        norm = surnames.get(name) or clean_surface(name)
        extra.append(ExtractedEntity(name, labels[name], start, end, None, None, norm))
    return sorted(out + extra, key=lambda x: x.start)


_WORD = re.compile(r"\w")


def whole_words(text: str, names: list[str]) -> list[tuple[int, int, str]]:
    r"""Where the names occur as whole words: leftmost first, the longest name at a place, never overlapping.

    What the alternation `(?<!\w)(longest|…|shortest)(?!\w)` finds with finditer, without compiling a
    pattern per article (that compile was a third of the linker's time): one Aho-Corasick pass.
    """
    auto = ahocorasick.Automaton()
    for name in names:
        if name:
            auto.add_word(name, name)
    if not len(auto):
        return []
    auto.make_automaton()
    found: list[tuple[int, int, str]] = []
    for last, name in auto.iter(text):
        start, end = last - len(name) + 1, last + 1
        if (start > 0 and _WORD.match(text, start - 1)) or _WORD.match(text, end):
            continue
        found.append((start, end, name))
    found.sort(key=lambda f: (f[0], f[0] - f[1]))
    out: list[tuple[int, int, str]] = []
    for start, end, name in found:
        if not out or start >= out[-1][1]:
            out.append((start, end, name))
    return out
