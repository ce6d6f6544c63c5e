"""Query checks for authors: canonical form, the terms, and warnings about rules that will misbehave."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.folding import fold
from shared.rules.ast import Node, Not, iter_terms, to_query
from shared.rules.parser import parse
from shared.rules.program import has_anchor
from shared.rules.stats import STEM, Frequencies
from shared.rules.text import COMMON_WORDS, MIN_STEM, TOKEN_RE

FLOOD_SHARE = 0.2
MIN_SAMPLE = 20
OPERATOR_LOOKALIKES = frozenset({"and", "or", "not", "near", "onear"})


@dataclass
class Validation:
    """Result of validate(): the canonical query, the form it is matched in, its terms, and advice."""

    canonical: str
    folded: str = ""  # the canonical query as matched: Traditional Chinese folded to Simplified
    terms: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tree: Node | None = None


def canonical(query: str) -> str:
    """The canonical printed form of a query (parse → print); raises RuleSyntaxError."""
    return to_query(parse(query))


def validate(query: str, *, frequencies: Frequencies | None = None) -> Validation:
    """Parse a query and report its canonical form, terms and warnings; raises RuleSyntaxError.

    With `frequencies` (document frequencies of a sample of recent articles, at least MIN_SAMPLE), a term
    found in FLOOD_SHARE or more of them is flagged as one that will flood.
    """
    tree = parse(query)
    terms: list[str] = []
    warnings: list[str] = []
    for term, negated in iter_terms(tree):
        if term.text not in terms:
            terms.append(term.text)
        if negated:
            continue
        words = TOKEN_RE.findall(fold(term.text))  # judged as matched: 與 is as common as 与
        low = fold(term.text).lower()
        if low in OPERATOR_LOOKALIKES and term.text != term.text.upper():
            warnings.append(f"{term.text!r} is searched as a word; operators are upper case ({low.upper()})")
        elif len(words) == 1 and low.rstrip("*") in COMMON_WORDS:
            warnings.append(f"term {term.text!r} is so common it will match almost every article")
        elif len(words) == 1 and len(words[0]) == 1 and not term.text.endswith("*"):
            warnings.append(f"term {term.text!r} is a single character and will match very often")
        elif len(words) == 1 and term.text.endswith("*") and len(words[0]) <= MIN_STEM:
            warnings.append(f"wildcard {term.text!r} has a short stem and may match many unrelated words")
        elif len(words) == 1 and frequencies is not None and frequencies.docs >= MIN_SAMPLE:
            key = STEM + words[0].lower() if term.text.endswith("*") else words[0].lower()
            share = frequencies.cost(key)
            if share >= FLOOD_SHARE:
                warnings.append(
                    f"term {term.text!r} occurs in {share:.0%} of the {frequencies.docs} most recent "
                    "articles: on its own it will flood"
                )
    if not has_anchor(tree):
        warnings.append(
            "the rule has no required term (only NOT, lang: or entity constraints), "
            "so it is checked against every article"
        )
    if isinstance(tree, Not):
        warnings.append("the rule is only a NOT: it matches every article without those terms")
    text = to_query(tree)
    return Validation(canonical=text, folded=fold(text), terms=terms, warnings=warnings, tree=tree)
