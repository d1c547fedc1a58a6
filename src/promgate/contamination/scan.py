"""One streaming pass of the corpus against every eval item, with all three signals.

Each batch of documents is checked against the eval-side indexes; a document whose pair with
any eval item crosses a threshold is contaminating and (by default) left out of the cleaned
corpus, which the caller writes as the pass goes. Item-level evidence is accumulated twice:
over every document (raw) and over the kept documents only (what training actually sees).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from promgate.config import ContaminationConfig
from promgate.contamination.corpus import Document
from promgate.contamination.embedding import Encoder, cosine
from promgate.contamination.minhash import MinHasher, NearDuplicateIndex
from promgate.contamination.ngram import NgramIndex
from promgate.contamination.views import View

SIGNALS = ("ngram8", "ngram13", "minhash", "embedding")
NGRAM_SIZES = {"ngram8": 8, "ngram13": 13}


@dataclass
class PairEvidence:
    """One flagged (eval item, document) pair: every signal's score for it."""

    item: int
    doc: Document
    scores: dict[str, float]
    flagged_by: tuple[str, ...]


@dataclass
class Best:
    """Per item: the best score over all documents, over kept ones, and the best document."""

    raw: np.ndarray
    kept: np.ndarray
    doc: list[str | None]

    @classmethod
    def empty(cls, n: int, floor: float) -> Best:
        return cls(np.full(n, floor), np.full(n, floor), [None] * n)

    def update(self, item: int, score: float, doc: Document, kept: bool) -> None:
        if score > self.raw[item]:
            self.raw[item] = score
            self.doc[item] = doc.id
        if kept and score > self.kept[item]:
            self.kept[item] = score


@dataclass
class NgramEvidence:
    grams: np.ndarray  # distinct n-grams per item; 0 = too short to check
    coverage_raw: np.ndarray  # of those, how many occur anywhere in the corpus
    coverage_kept: np.ndarray  # ... in the kept documents
    best_pair: Best  # best share of an item's n-grams found in one document


@dataclass
class ScanResult:
    n_items: int
    ngram: dict[str, NgramEvidence]
    minhash: Best
    embedding: Best | None
    pairs: list[PairEvidence]
    documents: int
    removed: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


class _NgramSignal:
    def __init__(self, n: int, min_fraction: float, segments: Sequence[Sequence[str]]) -> None:
        self.index = NgramIndex(n, segments)
        self.min_fraction = min_fraction
        self.hit_raw = np.zeros(self.index.keys.size, dtype=bool)
        self.hit_kept = np.zeros(self.index.keys.size, dtype=bool)
        self.best = Best.empty(self.index.n_items, 0.0)
        self._hits = np.empty((2, 0), dtype=np.int64)

    def pairs(self, docs: Sequence[Document]) -> Iterable[tuple[int, int, float, bool]]:
        """(doc position, item, share of the item's n-grams in the doc, over threshold)."""
        counts, self._hits = self.index.lookup([d.view.segments for d in docs])
        fraction = counts.matched / np.maximum(self.index.grams_per_item[counts.item], 1)
        over = fraction >= self.min_fraction
        return zip(
            counts.doc.tolist(), counts.item.tolist(), fraction.tolist(), over.tolist(), strict=True
        )

    def record_coverage(self, dropped: np.ndarray) -> None:
        hit_docs, hit_keys = self._hits
        self.hit_raw[hit_keys] = True
        self.hit_kept[hit_keys[~np.isin(hit_docs, dropped)]] = True

    def evidence(self) -> NgramEvidence:
        return NgramEvidence(
            grams=self.index.grams_per_item,
            coverage_raw=self.index.coverage(np.flatnonzero(self.hit_raw)),
            coverage_kept=self.index.coverage(np.flatnonzero(self.hit_kept)),
            best_pair=self.best,
        )


class Scanner:
    def __init__(
        self, views: Sequence[View], cfg: ContaminationConfig, encoder: Encoder | None
    ) -> None:
        self.cfg = cfg
        self.n_items = len(views)
        segments = [v.segments for v in views]
        self.ngrams = {
            "ngram8": _NgramSignal(8, cfg.ngram8.min_fraction, segments),
            "ngram13": _NgramSignal(13, cfg.ngram13.min_fraction, segments),
        }
        queries = [v.query for v in views]
        self.hasher = MinHasher(cfg.minhash.num_perm, cfg.minhash.seed, cfg.minhash.shingle)
        self.near = NearDuplicateIndex(
            self.hasher, self.hasher.signatures(queries), cfg.minhash.threshold
        )
        self.minhash = Best.empty(self.n_items, 0.0)
        self.encoder = encoder
        self.item_vectors = encoder.encode(queries) if encoder is not None else None
        self.embedding = Best.empty(self.n_items, -1.0) if encoder is not None else None
        self.pairs: list[PairEvidence] = []
        self.removed: list[tuple[str, tuple[str, ...]]] = []
        self.documents = 0

    def add_batch(self, docs: Sequence[Document]) -> list[Document]:
        """Scan one batch; returns the documents to keep, in order."""
        scored: dict[tuple[int, int], dict[str, float]] = {}
        flagged: dict[tuple[int, int], list[str]] = {}

        def note(pos: int, item: int, signal: str, score: float, over: bool) -> None:
            scored.setdefault((pos, item), {})[signal] = score
            if over:
                flagged.setdefault((pos, item), []).append(signal)

        for name, signal in self.ngrams.items():
            for pos, item, fraction, over in signal.pairs(docs):
                note(pos, item, name, fraction, over)
        queries = [d.view.query for d in docs]
        for pos, item, score in self.near.query(self.hasher.signatures(queries)):
            note(pos, item, "minhash", score, True)
        sims = None
        if self.encoder is not None and self.item_vectors is not None:
            sims = cosine(self.item_vectors, self.encoder.encode(queries))
            for item, pos in zip(*np.nonzero(sims >= self.cfg.embedding.threshold), strict=True):
                note(int(pos), int(item), "embedding", float(sims[item, pos]), True)

        reasons: dict[int, set[str]] = {}
        for (pos, item), signals in flagged.items():
            self.pairs.append(PairEvidence(item, docs[pos], scored[(pos, item)], tuple(signals)))
            reasons.setdefault(pos, set()).update(signals)
        dropped = sorted(reasons) if self.cfg.remove_contaminated else []
        for pos in dropped:
            self.removed.append((docs[pos].id, tuple(s for s in SIGNALS if s in reasons[pos])))
        kept = np.ones(len(docs), dtype=bool)
        kept[dropped] = False

        for (pos, item), scores in scored.items():
            for name, signal in self.ngrams.items():
                if name in scores:
                    signal.best.update(item, scores[name], docs[pos], bool(kept[pos]))
            if "minhash" in scores:
                self.minhash.update(item, scores["minhash"], docs[pos], bool(kept[pos]))
        for signal in self.ngrams.values():
            signal.record_coverage(np.asarray(dropped, dtype=np.int64))
        if sims is not None and self.embedding is not None:
            self._record_nearest(sims, docs, kept)
        self.documents += len(docs)
        return [d for pos, d in enumerate(docs) if kept[pos]]

    def _record_nearest(self, sims: np.ndarray, docs: Sequence[Document], kept: np.ndarray) -> None:
        assert self.embedding is not None
        nearest = sims.argmax(axis=1)
        for item, pos in enumerate(nearest.tolist()):
            self.embedding.update(item, float(sims[item, pos]), docs[pos], False)
        if kept.any():
            np.maximum(self.embedding.kept, sims[:, kept].max(axis=1), out=self.embedding.kept)

    def result(self) -> ScanResult:
        return ScanResult(
            n_items=self.n_items,
            ngram={name: signal.evidence() for name, signal in self.ngrams.items()},
            minhash=self.minhash,
            embedding=self.embedding,
            pairs=self.pairs,
            documents=self.documents,
            removed=self.removed,
        )


def scan(
    views: Sequence[View],
    batches: Iterable[Sequence[Document]],
    cfg: ContaminationConfig,
    encoder: Encoder | None,
    keep: Callable[[Sequence[Document]], None] = lambda _docs: None,
) -> ScanResult:
    """Run the pass; ``keep`` receives each batch's kept documents (to write them out)."""
    scanner = Scanner(views, cfg, encoder)
    for batch in batches:
        keep(scanner.add_batch(batch))
    return scanner.result()
