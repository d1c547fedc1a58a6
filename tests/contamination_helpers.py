"""Shared by the contamination tests: a model-free encoder, prepared dirs and corpora."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from promgate.config import ContaminationConfig
from promgate.contamination.tokens import hash_tokens
from promgate.data.schema import Item
from promgate.io import write_json, write_jsonl


class BagOfWordsEncoder:
    """Hashed bag-of-words vectors: texts with the same words have cosine 1, no model needed."""

    name = "bag-of-words-test"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 256), dtype=np.float32)
        batch = hash_tokens(list(texts))
        np.add.at(out, (batch.segment, (batch.hashes % np.uint64(256)).astype(np.int64)), 1.0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


def no_embedding(cfg: ContaminationConfig | None = None) -> ContaminationConfig:
    cfg = cfg or ContaminationConfig()
    return cfg.model_copy(update={"embedding": cfg.embedding.model_copy(update={"enabled": False})})


def write_prepared(root: Path, items: Sequence[Item]) -> Path:
    """A prepared dir as the prepare stage writes it: one JSONL per benchmark + manifest."""
    by_bench: dict[str, list[Item]] = {}
    for item in items:
        by_bench.setdefault(item.benchmark, []).append(item)
    entries = {}
    for name, members in by_bench.items():
        write_jsonl(
            root / f"{name}.jsonl", (m.model_dump(mode="json", exclude_none=True) for m in members)
        )
        entries[name] = {"output": {"path": f"{name}.jsonl"}}
    write_json(root / "manifest.json", {"version": 1, "benchmarks": entries})
    return root


def write_corpus(path: Path, records: Sequence[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def generate_item(item_id: str, question: str, answer: str, benchmark: str = "toy") -> Item:
    return Item.model_validate(
        {
            "id": f"{benchmark}/{item_id}",
            "benchmark": benchmark,
            "split": "test",
            "kind": "generate",
            "prompt": f"Question: {question}\nAnswer:",
            "target": answer,
            "metadata": {"source": "test", "stratum": "default", "license": "MIT"},
        }
    )
