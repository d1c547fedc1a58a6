"""Done-when 2 on the real mirror: the Phase 1D mistake is caught; real splits stay clean.

Phase 1D carved its "held-out" set out of the training file. Here a test set sampled from
GSM8K's train file is checked against that file: every item must be flagged. The genuine
GSM8K and ARC train/test pairs give small rates (n-gram and MinHash signals; the MiniLM
numbers come from bench/contamination_rates.py, which takes minutes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from contamination_helpers import no_embedding, write_prepared
from promgate.contamination.stage import run
from promgate.data.loaders import load_gsm8k
from promgate.data.prepare import prepare, prepare_training_corpus
from promgate.data.sampling import stratified_sample


def test_test_set_sampled_from_the_training_file_is_all_flagged(mirror: Path, tmp_path: Path):
    carved = stratified_sample(load_gsm8k(mirror / "gsm8k/train.jsonl", split="test"), 200, 7)
    prepared = write_prepared(tmp_path / "prepared", carved)
    corpus = tmp_path / "corpus.jsonl"
    prepare_training_corpus(["gsm8k"], -1, seed=0, out_path=corpus, mirror=mirror)
    metrics = run(
        prepared,
        corpus,
        tmp_path / "clean.jsonl",
        tmp_path / "out",
        tmp_path / "m.json",
        no_embedding(),
    )
    bench = metrics["benchmarks"]["gsm8k"]
    assert bench["contaminated_rate"] == 1.0
    assert bench["ngram8_rate"] == 1.0 and bench["dedupe_rate"] >= 0.99
    assert metrics["raw"]["ngram8_overlap_max"] == 1.0  # far over the 10 % limit
    # Every carved question's source document is removed; the clean corpus no longer leaks.
    assert metrics["corpus"]["removed"] >= 200
    assert metrics["ngram8_overlap_max"] == 0.0
    clean_ids = {json.loads(x)["id"] for x in (tmp_path / "clean.jsonl").open()}
    carved_sources = {it.id.replace("gsm8k/test/", "gsm8k/train/") for it in carved}
    assert not clean_ids & carved_sources


@pytest.mark.parametrize(
    ("evals", "trains", "bounds"),
    [
        # Measured: ngram8 0.08 %, ngram13 0.23 %, dedupe 0 % of 1,319 test items.
        (["gsm8k"], ["gsm8k"], {"gsm8k": 0.01}),
        # Measured: about 1 % of ARC test items on each signal.
        (
            ["arc_easy", "arc_challenge"],
            ["arc_easy", "arc_challenge"],
            {"arc_easy": 0.03, "arc_challenge": 0.03},
        ),
    ],
)
def test_real_train_test_pairs_have_small_nonzero_rates(
    mirror: Path, tmp_path: Path, evals, trains, bounds
) -> None:
    prepared = tmp_path / "prepared"
    prepare(evals, -1, {}, seed=0, out_dir=prepared, mirror=mirror)
    corpus = tmp_path / "corpus.jsonl"
    prepare_training_corpus(trains, -1, seed=0, out_path=corpus, mirror=mirror)
    metrics = run(
        prepared,
        corpus,
        tmp_path / "clean.jsonl",
        tmp_path / "out",
        tmp_path / "m.json",
        no_embedding(),
    )
    for bench, bound in bounds.items():
        entry = metrics["benchmarks"][bench]
        assert 0 < entry["contaminated_rate"] < bound, (bench, entry)
        assert entry["ngram8_rate"] < 0.10  # the contract's limit
    rows = [json.loads(x) for x in (tmp_path / "out/flags.jsonl").open()]
    flagged = np.mean([r["contaminated"] for r in rows])
    assert flagged == pytest.approx(metrics["contaminated_rate"], abs=1e-6)
