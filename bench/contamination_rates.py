"""Contamination rates of real train/test pairs: GSM8K train vs test, ARC train vs test.

Prints one JSON object. Every test item is checked (n = -1) against the whole train split,
formatted as the training corpus is. ``--no-embedding`` skips MiniLM (minutes on 2 cores
for GSM8K's 8,800 texts). Needs the benchmark mirror ($PROMGATE_MIRROR or ../shared).

    python bench/contamination_rates.py [--no-embedding]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from promgate.config import ContaminationConfig
from promgate.contamination.stage import run
from promgate.data.fetch import mirror_dir
from promgate.data.prepare import prepare, prepare_training_corpus

ROOT = Path(__file__).resolve().parent.parent
PAIRS = {
    "gsm8k": (["gsm8k"], ["gsm8k"]),
    "arc": (["arc_easy", "arc_challenge"], ["arc_easy", "arc_challenge"]),
}


def measure(name: str, mirror: Path, cfg: ContaminationConfig, work: Path) -> dict:
    evals, trains = PAIRS[name]
    prepared = work / name / "prepared"
    prepare(evals, -1, {}, seed=0, out_dir=prepared, mirror=mirror)
    corpus = work / name / "corpus.jsonl"
    prepare_training_corpus(trains, -1, seed=0, out_path=corpus, mirror=mirror)
    started = time.perf_counter()
    metrics = run(
        prepared,
        corpus,
        work / name / "clean.jsonl",
        work / name / "out",
        work / name / "metrics.json",
        cfg,
    )
    keys = (
        "items",
        "ngram8_rate",
        "ngram13_rate",
        "dedupe_rate",
        "embedding_rate",
        "contaminated_rate",
        "ngram8_gram_overlap",
        "semantic_similarity_max",
    )
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "corpus_documents": metrics["corpus"]["documents"],
        "removed_documents": metrics["corpus"]["removed"],
        "benchmarks": {
            bench: {k: entry[k] for k in keys if k in entry}
            for bench, entry in metrics["benchmarks"].items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-embedding", action="store_true")
    args = parser.parse_args()
    mirror = mirror_dir(None) or ROOT.parent / "shared" / "benchmarks"
    if not (mirror / "SHA256SUMS").is_file():
        sys.exit("no benchmark mirror: set PROMGATE_MIRROR")
    cfg = ContaminationConfig()
    if args.no_embedding:
        cfg = cfg.model_copy(
            update={"embedding": cfg.embedding.model_copy(update={"enabled": False})}
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = {name: measure(name, mirror, cfg, Path(tmp)) for name in PAIRS}
    print(json.dumps({"settings": cfg.model_dump(), "pairs": out}, indent=2))


if __name__ == "__main__":
    main()
