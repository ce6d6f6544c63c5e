"""Watch rules: query language, compiler and matching engine (framework-free)."""

from shared.rules.ast import Node
from shared.rules.engine import Engine, compile_watches
from shared.rules.errors import RulesError, RuleSyntaxError, WatchFileError
from shared.rules.loader import load_watch_file, parse_watches
from shared.rules.parser import parse
from shared.rules.stats import Frequencies, document_frequencies
from shared.rules.types import DocEntity, EntityResolver, MatchDocument, MatchResult, TermHit, WatchSpec
from shared.rules.validation import Validation, canonical, validate

__all__ = [
    "DocEntity",
    "Engine",
    "EntityResolver",
    "Frequencies",
    "MatchDocument",
    "MatchResult",
    "Node",
    "RuleSyntaxError",
    "RulesError",
    "TermHit",
    "Validation",
    "WatchFileError",
    "WatchSpec",
    "canonical",
    "compile_watches",
    "document_frequencies",
    "load_watch_file",
    "parse",
    "parse_watches",
    "validate",
]
