"""Russian NER: the Slovnet news model shipped inside the natasha package (numpy only, no download).

The English spaCy model sees Russian as noise, so Russian articles get their own statistical stage; its spans
(PER, LOC, ORG) then go through the same linker as English ones, so unknown Russian names still show up as
unlinked entities. We read natasha's data files without importing natasha itself, whose import pulls in
pymorphy2 (broken on Python 3.11) for features we do not use.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LABELS = {"PER": "PERSON", "LOC": "PLACE", "ORG": "ORG"}
_EMBEDDINGS = "data/emb/navec_news_v1_1B_250K_300d_100q.tar"
_MODEL = "data/model/slovnet_ner_news_v1.tar"


def _natasha_dir() -> Path | None:
    spec = importlib.util.find_spec("natasha")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class RussianNER:
    """Lazily loaded Slovnet NER; `available` is False when natasha, slovnet or navec is not installed."""

    def __init__(self) -> None:
        self._ner: Any = None
        self._lock = threading.Lock()
        base = _natasha_dir()
        self._paths = (base / _EMBEDDINGS, base / _MODEL) if base else None
        self.available = bool(
            self._paths
            and all(p.exists() for p in self._paths)
            and importlib.util.find_spec("slovnet")
            and importlib.util.find_spec("navec")
        )

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
