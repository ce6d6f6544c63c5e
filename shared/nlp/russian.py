"""Russian NER: the Slovnet news model shipped inside the natasha package (numpy only, no download).

The English spaCy model sees Russian as noise, so Russian articles get their own statistical stage; its spans
(PER, LOC, ORG) then go through the same linker as English ones, so unknown Russian names still show up as
unlinked entities. We read natasha's data files without importing natasha itself, whose import pulls in
pymorphy2 (broken on Python 3.11) for features we do not use.

A missing model must not pass silently (Russian articles would simply have no entities): `missing()` says
what is absent with the install hint, every process logs it at start-up (`log_if_missing`), and /readyz
lists it under `degraded`.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

LABELS = {"PER": "PERSON", "LOC": "PLACE", "ORG": "ORG"}
INSTALL_HINT = "pip install natasha slovnet navec (make install does)"
# the seam tests replace to simulate a machine without the packages
find_spec: Callable[[str], object | None] = importlib.util.find_spec
_EMBEDDINGS = "data/emb/navec_news_v1_1B_250K_300d_100q.tar"
_MODEL = "data/model/slovnet_ner_news_v1.tar"


def _natasha_dir() -> Path | None:
    spec = find_spec("natasha")
    locations = getattr(spec, "submodule_search_locations", None)
    if spec is None or not locations:
        return None
    return Path(next(iter(locations)))


def missing() -> str | None:
    """Why Russian NER cannot run here (with the install hint), or None when it can."""
    absent = [name for name in ("natasha", "slovnet", "navec") if find_spec(name) is None]
    if not absent:
        base = _natasha_dir()
        files = [base / _EMBEDDINGS, base / _MODEL] if base else []
        absent = [str(p) for p in files if not p.exists()]
    if not absent:
        return None
    return (
        f"Russian NER model unavailable (missing: {', '.join(absent)}): Russian articles get no entities; "
        + INSTALL_HINT
    )


def log_if_missing() -> str | None:
    """Log loudly (ERROR) when the Russian model is missing; returns the reason (None when present)."""
    reason = missing()
    if reason is not None:
        log.error("%s", reason)
    return reason


class RussianNER:
    """Lazily loaded Slovnet NER; `available` is False when natasha, slovnet or navec is not installed."""

    def __init__(self) -> None:
        self._ner: Any = None
        self._lock = threading.Lock()
        base = _natasha_dir()
        self._paths = (base / _EMBEDDINGS, base / _MODEL) if base else None
        self.available = missing() is None

    def _load(self) -> Any:
        if self._ner is None:
            with self._lock:
                if self._ner is None:
                    from navec import Navec
                    from slovnet import NER

                    assert self._paths is not None
                    ner = NER.load(str(self._paths[1]))
                    ner.navec(Navec.load(str(self._paths[0])))
                    self._ner = ner
        return self._ner

    def spans(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """Return (start, end, our label) spans for each text; empty lists when the model is unavailable."""
        if not self.available or not texts:
            return [[] for _ in texts]
        ner = self._load()
        return [
            [(s.start, s.stop, LABELS[s.type]) for s in markup.spans if s.type in LABELS]
            for markup in ner.map(list(texts))
        ]
