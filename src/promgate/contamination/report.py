"""Scan results as files: per-item flags, per-benchmark rates (the DVC metrics), review pairs.

Rates per benchmark are shares of its items. ``raw`` rates describe the corpus as given;
the top-level ``*_max`` fields (read by the policy's dedupe gate) describe the cleaned corpus
that training reads, and are recomputed from it, not assumed to be zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from promgate.config import ContaminationConfig
from promgate.contamination.scan import SIGNALS, PairEvidence, ScanResult
from promgate.contamination.views import View
from promgate.data.schema import Item

FLAGS_VERSION = 1


def _round(value: float) -> float:
    return round(float(value), 6)


def item_flags(result: ScanResult, cfg: ContaminationConfig) -> dict[str, np.ndarray]:
    """Boolean flags per signal over the raw corpus (n-grams: share found anywhere)."""
    flags: dict[str, np.ndarray] = {}
    for name, min_fraction in (
        ("ngram8", cfg.ngram8.min_fraction),
        ("ngram13", cfg.ngram13.min_fraction),
    ):
        ev = result.ngram[name]
        share = ev.coverage_raw / np.maximum(ev.grams, 1)
        flags[name] = (ev.coverage_raw > 0) & (share >= min_fraction)
    flags["minhash"] = result.minhash.raw >= cfg.minhash.threshold
    if result.embedding is not None:
        flags["embedding"] = result.embedding.raw >= cfg.embedding.threshold
    else:
        flags["embedding"] = np.zeros(result.n_items, dtype=bool)
    return flags


def flag_rows(
    items: Sequence[Item], result: ScanResult, cfg: ContaminationConfig
) -> list[dict[str, Any]]:
    flags = item_flags(result, cfg)
    rows = []
    for i, item in enumerate(items):
        ng8, ng13 = result.ngram["ngram8"], result.ngram["ngram13"]
        scores: dict[str, float | None] = {
            "ngram8_overlap": _round(ng8.coverage_raw[i] / ng8.grams[i]) if ng8.grams[i] else None,
            "ngram13_overlap": (
                _round(ng13.coverage_raw[i] / ng13.grams[i]) if ng13.grams[i] else None
            ),
            "minhash_jaccard": _round(result.minhash.raw[i]),
            "embedding_cosine": (
                _round(result.embedding.raw[i]) if result.embedding is not None else None
            ),
        }
        nearest = {
            "ngram8": ng8.best_pair.doc[i],
            "minhash": result.minhash.doc[i],
            "embedding": result.embedding.doc[i] if result.embedding is not None else None,
        }
        row_flags = {name: bool(flags[name][i]) for name in SIGNALS}
        rows.append(
            {
                "id": item.id,
                "benchmark": item.benchmark,
                "flags": row_flags,
                "contaminated": any(row_flags.values()),
                "scores": scores,
                "nearest": nearest,
            }
        )
    return rows


def _benchmark_rates(
    idx: np.ndarray, result: ScanResult, flags: dict[str, np.ndarray], cfg: ContaminationConfig
) -> dict[str, Any]:
    ng8 = result.ngram["ngram8"]
    n = int(idx.size)
    checkable = ng8.grams[idx] > 0
    share_kept = ng8.coverage_kept[idx] / np.maximum(ng8.grams[idx], 1)
    clean_ngram8 = (ng8.coverage_kept[idx] > 0) & (share_kept >= cfg.ngram8.min_fraction)
    clean_dedupe = result.minhash.kept[idx] >= cfg.minhash.threshold
    contaminated = np.zeros(n, dtype=bool)
    for name in SIGNALS:
        contaminated |= flags[name][idx]
    entry: dict[str, Any] = {
        "items": n,
        "ngram8_rate": _round(flags["ngram8"][idx].mean()),
        "ngram13_rate": _round(flags["ngram13"][idx].mean()),
        "dedupe_rate": _round(flags["minhash"][idx].mean()),
        "embedding_rate": _round(flags["embedding"][idx].mean()),
        "contaminated_rate": _round(contaminated.mean()),
        "contaminated_items": int(contaminated.sum()),
        # Share of all the benchmark's distinct 8-grams that occur in the corpus.
        "ngram8_gram_overlap": _round(ng8.coverage_raw[idx].sum() / max(ng8.grams[idx].sum(), 1)),
        "ngram8_uncheckable": int((~checkable).sum()),
        "clean": {
            "ngram8_rate": _round(clean_ngram8.mean()),
            "dedupe_rate": _round(clean_dedupe.mean()),
        },
    }
    if result.embedding is not None:
        entry["semantic_similarity_max"] = _round(result.embedding.raw[idx].max())
        entry["clean"]["semantic_similarity_max"] = _round(result.embedding.kept[idx].max())
    limits = cfg.limits
    clean = entry["clean"]
    semantic = clean.get("semantic_similarity_max")
    # Unmeasured similarity (embeddings off) cannot be within the limit: None, not True.
    clean["within_limits"] = (
        None
        if semantic is None
        else bool(
            clean["ngram8_rate"] < limits.ngram8_rate
            and clean["dedupe_rate"] < limits.dedupe_rate
            and semantic < limits.semantic_similarity
        )
    )
    return entry


def metrics(
    items: Sequence[Item],
    result: ScanResult,
    cfg: ContaminationConfig,
    corpus: dict[str, Any],
    encoder_name: str | None,
) -> dict[str, Any]:
    flags = item_flags(result, cfg)
    by_bench: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_bench[item.benchmark].append(i)
    benches = {
        name: _benchmark_rates(np.asarray(idx), result, flags, cfg)
        for name, idx in sorted(by_bench.items())
    }

    def worst(key: str, section: str | None = None) -> float | None:
        values = [(b[section] if section else b).get(key) for b in benches.values()]
        values = [v for v in values if v is not None]
        return max(values) if values else None

    contaminated = sum(b["contaminated_items"] for b in benches.values())
    removed_by = {s: sum(s in why for _, why in result.removed) for s in SIGNALS}
    return {
        "version": FLAGS_VERSION,
        # What the candidate is trained on (the cleaned corpus): read by the dedupe gate.
        "ngram8_overlap_max": worst("ngram8_rate", "clean"),
        "dedupe_overlap_max": worst("dedupe_rate", "clean"),
        "semantic_similarity_max": worst("semantic_similarity_max", "clean"),
        "items": len(items),
        "contaminated_items": contaminated,
        "contaminated_rate": _round(contaminated / max(len(items), 1)),
        "raw": {
            "ngram8_overlap_max": worst("ngram8_rate"),
            "ngram13_overlap_max": worst("ngram13_rate"),
            "dedupe_overlap_max": worst("dedupe_rate"),
            "semantic_similarity_max": worst("semantic_similarity_max"),
        },
        "corpus": {
            **corpus,
            "documents": result.documents,
            "removed": len(result.removed),
            "kept": result.documents - len(result.removed),
            "removed_by": removed_by,
        },
        "settings": {
            "ngram8_min_fraction": cfg.ngram8.min_fraction,
            "ngram13_min_fraction": cfg.ngram13.min_fraction,
            "minhash": cfg.minhash.model_dump(),
            "embedding": {**cfg.embedding.model_dump(), "model": encoder_name},
            "limits": cfg.limits.model_dump(),
            "remove_contaminated": cfg.remove_contaminated,
        },
        "benchmarks": benches,
    }


def pair_rows(
    items: Sequence[Item], views: Sequence[View], pairs: Sequence[PairEvidence]
) -> list[dict[str, Any]]:
    rows = [
        {
            "item": items[p.item].id,
            "benchmark": items[p.item].benchmark,
            "document": p.doc.id,
            "flagged_by": list(p.flagged_by),
            "scores": {k: _round(v) for k, v in sorted(p.scores.items())},
            "item_text": list(views[p.item].segments),
            "document_text": list(p.doc.view.segments),
        }
        for p in pairs
    ]
    return sorted(rows, key=lambda r: (r["item"], r["document"]))


def review_sample(rows: Sequence[dict[str, Any]], fraction: float, seed: int) -> list[dict]:
    """A seeded ``fraction`` of the flagged pairs (at least one when any exist), for humans."""
    if not rows or fraction <= 0:
        return []
    k = min(len(rows), max(1, math.ceil(fraction * len(rows))))
    picks = np.random.default_rng(seed).choice(len(rows), size=k, replace=False)
    return [rows[i] for i in sorted(picks.tolist())]
