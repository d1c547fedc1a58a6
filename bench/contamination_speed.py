"""Speed of the contamination scan, beside naive baselines, in one run. Prints JSON.

- 8-gram scan: MB of training text per second through promgate's hashed index (normalise,
  hash, look up, attribute to items), against a pure-Python baseline (regex tokens, tuple
  8-grams, set lookups). Both run in this one process on one core; ``cpu`` figures divide by
  the process's CPU seconds, so they stay per-core when other work shares the machine.
- MinHash: documents per second for 200-word documents, 128 permutations: datasketch
  ``update`` per token (naive), datasketch ``MinHash.bulk``, and promgate's batched
  signatures (identical values to datasketch's, see tests/test_contamination_minhash.py).

    python bench/contamination_speed.py [--mb 12] [--docs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from datasketch import MinHash

from promgate.contamination.minhash import MinHasher
from promgate.contamination.ngram import NgramIndex

ROOT = Path(__file__).resolve().parent.parent
_WORD = re.compile(r"[0-9a-z_\u0080-\uffff]+")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def corpus_texts(target_mb: float) -> tuple[list[list[str]], list[list[str]], str]:
    """(eval segments, corpus documents, source): GSM8K from the mirror, else synthetic."""
    mirror = Path(os.environ.get("PROMGATE_MIRROR", ROOT.parent / "shared" / "benchmarks"))
    train, test = mirror / "gsm8k/train.jsonl", mirror / "gsm8k/test.jsonl"
    if train.is_file() and test.is_file():
        rows = [json.loads(line) for line in train.open(encoding="utf-8")]
        docs = [[r["question"], r["answer"]] for r in rows]
        evals = [[json.loads(line)["question"]] for line in test.open(encoding="utf-8")]
        source = "gsm8k train (repeated) vs gsm8k test"
    else:
        rng = random.Random(0)
        words = [f"w{i}" for i in range(20000)]
        docs = [[" ".join(rng.choices(words, k=180))] for _ in range(5000)]
        evals = [[" ".join(rng.choices(words, k=40))] for _ in range(1300)]
        source = "synthetic"
    size = sum(len(s.encode()) for d in docs for s in d) / 1e6
    docs = docs * max(1, round(target_mb / size))
    return evals, docs, source


def naive_scan(evals: list[list[str]], docs: list[list[str]], n: int) -> int:
    def grams(text: str) -> list[tuple[str, ...]]:
        toks = _WORD.findall(text.lower())
        return [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]

    index = {g for segs in evals for s in segs for g in grams(s)}
    return sum(g in index for segs in docs for s in segs for g in grams(s))


def ngram_bench(target_mb: float) -> dict:
    evals, docs, source = corpus_texts(target_mb)
    mb = sum(len(s.encode()) for d in docs for s in d) / 1e6
    index = NgramIndex(8, evals)

    def ours() -> None:
        for i in range(0, len(docs), 2048):
            index.lookup(docs[i : i + 2048])

    wall, cpu = timed(ours)
    sample = docs[: max(1, len(docs) // 6)]  # the baseline is slow: a sixth of the corpus
    sample_mb = sum(len(s.encode()) for d in sample for s in d) / 1e6
    naive_wall, naive_cpu = timed(lambda: naive_scan(evals, sample, 8))
    return {
        "corpus": source,
        "corpus_mb": round(mb, 2),
        "eval_items": len(evals),
        "promgate": {"mb_per_s": round(mb / wall, 1), "mb_per_cpu_s": round(mb / cpu, 1)},
        "naive_python": {
            "mb": round(sample_mb, 2),
            "mb_per_s": round(sample_mb / naive_wall, 1),
            "mb_per_cpu_s": round(sample_mb / naive_cpu, 1),
        },
        "speedup_cpu": round((mb / cpu) / (sample_mb / naive_cpu), 1),
        "aim_mb_per_s_per_core": 20,
    }


def minhash_bench(n_docs: int) -> dict:
    rng = random.Random(1)
    vocab = [f"word{i}" for i in range(50000)]
    docs = [" ".join(rng.choices(vocab, k=200)) for _ in range(n_docs)]
    token_lists = [[w.encode() for w in d.split()] for d in docs]
    hasher = MinHasher(num_perm=128, seed=1, shingle=1)  # single words, as datasketch's input

    def naive() -> None:
        for toks in token_lists[: n_docs // 10]:
            m = MinHash(num_perm=128)
            for tok in toks:
                m.update(tok)

    naive_wall, naive_cpu = timed(naive)
    bulk_wall, bulk_cpu = timed(lambda: MinHash.bulk(token_lists, num_perm=128))
    ours_wall, ours_cpu = timed(lambda: hasher.signatures(docs))
    naive_docs = n_docs // 10
    return {
        "documents": n_docs,
        "words_per_document": 200,
        "num_perm": 128,
        "datasketch_update_per_token": {
            "docs_per_s": round(naive_docs / naive_wall),
            "docs_per_cpu_s": round(naive_docs / naive_cpu),
        },
        "datasketch_bulk": {
            "docs_per_s": round(n_docs / bulk_wall),
            "docs_per_cpu_s": round(n_docs / bulk_cpu),
        },
        "promgate_batched": {
            "docs_per_s": round(n_docs / ours_wall),
            "docs_per_cpu_s": round(n_docs / ours_cpu),
        },
        "aim_docs_per_s": 4400,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=12.0, help="corpus size for the 8-gram scan")
    parser.add_argument("--docs", type=int, default=10000, help="documents for MinHash")
    args = parser.parse_args()
    result = {
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "ngram8_scan": ngram_bench(args.mb),
        "minhash": minhash_bench(args.docs),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
