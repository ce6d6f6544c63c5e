# Types of the Cython extension _core.pyx, for the type checker: it cannot read .pyx. Keep in step with
# the `def`s, `cdef readonly` attributes and module-level names of _core.pyx (the C-level `cdef` parts are
# not visible from Python and are not listed).
from collections.abc import Callable
from typing import Any

from shared.folding import Folded
from shared.rules.program import Program
from shared.rules.types import MatchDocument

OPS: dict[str, int]
MAX_COUNTED: int
MAX_NODE_DEPTH: int
SNIPPET_BEFORE: int
SNIPPET_WIDTH: int

def normalize_table(text: str) -> str | None: ...
def set_normalize_table(table: bytes) -> None: ...
def check_groups(rg: list[int], gk: list[int], nkeys: int) -> bool: ...
def check_nodes(
    op: list[int], na: list[int], nb: list[int], kids: list[int], root: list[int], max_depth: int
) -> bool: ...
def is_cjk_char(ch: str) -> bool: ...
def highlight_spans(text: str, spans: list[tuple[int, int]], before: int = ..., width: int = ...) -> str: ...

class Table:
    @property
    def count(self) -> int: ...
    @property
    def longest(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def __init__(self, words: list[str], filter3: bool = False, flags: bytes | None = None) -> None: ...
    def get(self, word: str) -> int: ...

class Core:
    @property
    def nwords(self) -> int: ...
    @property
    def nstems(self) -> int: ...
    @property
    def npairs(self) -> int: ...
    @property
    def nkeys(self) -> int: ...
    @property
    def nterms(self) -> int: ...
    @property
    def nrules(self) -> int: ...
    @property
    def nnodes(self) -> int: ...
    @property
    def nlangs(self) -> int: ...
    @property
    def nentities(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def __init__(self, program: Program) -> None: ...
    def match(
        self,
        s: Scratch,
        title: str,
        ntitle: str,
        text: str,
        ntext: str,
        lang: bytes,
        doc: MatchDocument,
        article: Article,
        ids: list[int | str],
        names: list[str],
    ) -> list[MatchResult]: ...
    def candidate_rules(self, s: Scratch, title: str, ntitle: str, text: str, ntext: str) -> list[int]: ...
    def rule_hits(
        self,
        s: Scratch,
        title: str,
        ntitle: str,
        text: str,
        ntext: str,
        rules: list[int],
        lang: bytes | None = None,
        doc: MatchDocument | None = None,
    ) -> list[tuple[list[tuple[int, int, int, int]], float]]: ...
    def details(
        self,
        s: Scratch,
        title: str,
        ntitle: str,
        text: str,
        ntext: str,
        lang: bytes,
        doc: MatchDocument,
        original_title: str,
        original_text: str,
        title_map: Folded | None,
        text_map: Folded | None,
        rules: bytes,
        serial: int = 0,
    ) -> list[list[TermHit] | str | bytes]: ...

class Scratch:
    @property
    def core(self) -> Core: ...
    @property
    def serial(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def __init__(self, core: Core) -> None: ...

_Prepared = tuple[tuple[str, str, str, str], tuple[str, str], tuple[Folded | None, Folded | None]]

class Article:
    """One matched article: what its results need to build their details lazily, all at once."""

    rules: bytes
    serial: int
    @property
    def engine(self) -> Any: ...
    @property
    def prepared(self) -> _Prepared: ...
    @property
    def lang(self) -> bytes: ...
    @property
    def doc(self) -> MatchDocument: ...
    def __init__(
        self,
        engine: Any,
        prepared: _Prepared,
        lang: bytes,
        doc: MatchDocument,
    ) -> None: ...
    def details(self, index: int) -> tuple[list[TermHit], str, float]: ...

class TermHit:
    """One occurrence of a rule term; start/end are character offsets into that field's string."""

    @property
    def term(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...
    def __init__(self, term: str, field: str, start: int, end: int, text: str) -> None: ...
    def as_dict(self) -> dict[str, str | int]: ...

class MatchResult:
    def __init__(
        self,
        watch_id: int | str,
        watch_name: str,
        score: float,
        terms: list[TermHit] | None = None,
        snippet: str | None = None,
        *,
        details: Callable[[], tuple[list[TermHit], str]] | None = None,
    ) -> None: ...
    @property
    def watch_id(self) -> int | str: ...
    @property
    def watch_name(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def terms(self) -> list[TermHit]: ...
    @property
    def snippet(self) -> str: ...
    def term_dicts(self) -> list[dict[str, str | int]]:
        """The terms as dicts, as a Match row stores them; each dict is shared: read it, never change it."""
        ...
    __hash__: None  # type: ignore[assignment]  # results compare by value and are unhashable, as in _core.pyx
