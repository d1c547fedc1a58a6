"""The contamination stage on small synthetic sets: flags, metrics, clean corpus, review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contamination_helpers import (
    BagOfWordsEncoder,
    generate_item,
    no_embedding,
    write_corpus,
    write_prepared,
)
from promgate.config import ContaminationConfig
from promgate.contamination.stage import run
from promgate.errors import MissingEvidenceError, SchemaError

QUESTIONS = [
    "A farmer has 17 sheep and buys 5 more at the market each week for three weeks",
    "Tom reads 12 pages of his library book every evening before going to sleep",
    "The bakery sold 240 loaves on Monday and twice as many loaves on Tuesday morning",
    "A train leaves the station at noon travelling 80 km per hour towards the coast",
    "Maria plants 6 rows of tulips with 14 bulbs in every row of her garden bed",
]


def run_stage(tmp_path: Path, items, records, cfg=None, encoder=None) -> dict:
    prepared = write_prepared(tmp_path / "prepared", items)
    corpus = write_corpus(tmp_path / "corpus.jsonl", records)
    cfg = cfg or no_embedding()
    return run(
        prepared,
        corpus,
        tmp_path / "clean.jsonl",
        tmp_path / "out",
        tmp_path / "metrics.json",
        cfg,
        encoder_factory=lambda _c: encoder,
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_leaked_items_are_flagged_and_their_documents_removed(tmp_path: Path) -> None:
    items = [generate_item(str(i), q, str(i + 10)) for i, q in enumerate(QUESTIONS)]
    records = [
        # Verbatim leak of item 0, in the corpus's own template.
        {"id": "leak", "prompt": f"Question: {QUESTIONS[0]}\nAnswer:", "response": " 32"},
        # Item 3 pasted into a longer plain-text document.
        {"id": "blog", "text": "From a worksheet: " + QUESTIONS[3].upper() + ". Show work."},
        {"id": "other", "text": "An unrelated sentence about the history of the printing press."},
    ]
    metrics = run_stage(tmp_path, items, records)
    flags = {row["id"]: row for row in read_jsonl(tmp_path / "out/flags.jsonl")}
    assert set(flags) == {it.id for it in items}
    assert flags["toy/0"]["flags"] == {
        "ngram8": True,
        "ngram13": True,
        "minhash": True,
        "embedding": False,
    }
    assert flags["toy/0"]["contaminated"] and flags["toy/0"]["scores"]["ngram8_overlap"] == 1.0
    assert flags["toy/0"]["nearest"]["ngram8"] == "leak"
    assert flags["toy/3"]["flags"]["ngram13"] and flags["toy/3"]["contaminated"]
    assert not any(flags[f"toy/{i}"]["contaminated"] for i in (1, 2, 4))

    assert [r["id"] for r in read_jsonl(tmp_path / "clean.jsonl")] == ["other"]
    bench = metrics["benchmarks"]["toy"]
    assert bench["contaminated_items"] == 2 and bench["contaminated_rate"] == 0.4
    assert metrics["raw"]["ngram13_overlap_max"] == 0.4
    assert metrics["corpus"]["removed"] == 2 and metrics["corpus"]["kept"] == 1
    # The gate reads the cleaned corpus's rates: recomputed on what training sees.
    assert metrics["ngram8_overlap_max"] == 0.0 and metrics["dedupe_overlap_max"] == 0.0
    assert metrics["semantic_similarity_max"] is None  # not measured is not "clean"
    assert bench["clean"]["within_limits"] is None
    pairs = read_jsonl(tmp_path / "out/pairs.jsonl")
    assert {(p["item"], p["document"]) for p in pairs} == {("toy/0", "leak"), ("toy/3", "blog")}
    review = read_jsonl(tmp_path / "out/review_sample.jsonl")
    assert len(review) == 1 and review[0] in pairs  # 10 % of 2 pairs, at least one


def test_keeping_flagged_documents_reports_raw_rates_to_the_gate(tmp_path: Path) -> None:
    items = [generate_item(str(i), q, "1") for i, q in enumerate(QUESTIONS)]
    records = [{"id": f"d{i}", "prompt": q, "response": "x"} for i, q in enumerate(QUESTIONS[:3])]
    cfg = no_embedding().model_copy(update={"remove_contaminated": False})
    metrics = run_stage(tmp_path, items, records, cfg)
    assert metrics["ngram8_overlap_max"] == 0.6 and metrics["dedupe_overlap_max"] == 0.6
    assert metrics["corpus"]["removed"] == 0
    assert len(read_jsonl(tmp_path / "clean.jsonl")) == 3


def test_rescanning_the_clean_corpus_finds_nothing_pairwise(tmp_path: Path) -> None:
    items = [generate_item(str(i), q, "1") for i, q in enumerate(QUESTIONS)]
    records = [{"id": f"d{i}", "text": q + " extra words here"} for i, q in enumerate(QUESTIONS)]
    records += [{"id": "keep", "text": "nothing to do with any of the questions above at all"}]
    first = run_stage(
        tmp_path / "a", items, records, encoder=BagOfWordsEncoder(), cfg=ContaminationConfig()
    )
    assert first["contaminated_items"] == 5
    clean = read_jsonl(tmp_path / "a/clean.jsonl")
    second = run_stage(
        tmp_path / "b", items, clean, encoder=BagOfWordsEncoder(), cfg=ContaminationConfig()
    )
    assert second["contaminated_items"] == 0 and second["corpus"]["removed"] == 0
    assert second["semantic_similarity_max"] < 0.85
    assert first["benchmarks"]["toy"]["clean"]["within_limits"] is True  # after removal
    assert second["benchmarks"]["toy"]["clean"]["within_limits"] is True


def test_embedding_flags_paraphrases_that_share_no_ngrams(tmp_path: Path) -> None:
    items = [generate_item("0", "sheep farmer buys more sheep weekly", "1")]
    records = [{"id": "para", "text": "weekly more sheep buys farmer sheep"}]  # same bag of words
    metrics = run_stage(
        tmp_path, items, records, cfg=ContaminationConfig(), encoder=BagOfWordsEncoder()
    )
    row = read_jsonl(tmp_path / "out/flags.jsonl")[0]
    assert row["flags"] == {"ngram8": False, "ngram13": False, "minhash": False, "embedding": True}
    assert row["scores"]["embedding_cosine"] == pytest.approx(1.0)
    assert metrics["raw"]["semantic_similarity_max"] == pytest.approx(1.0)
    assert metrics["corpus"]["removed_by"]["embedding"] == 1


def test_errors_name_the_file(tmp_path: Path) -> None:
    items = [generate_item("0", QUESTIONS[0], "1")]
    with pytest.raises(SchemaError, match="line 2") as info:
        run_stage(tmp_path, items, [{"text": "fine"}, {"prompt": "no response"}])
    assert info.value.field == "response"
    with pytest.raises(MissingEvidenceError, match="manifest"):
        run(
            tmp_path / "nowhere",
            tmp_path / "corpus.jsonl",
            tmp_path / "c.jsonl",
            tmp_path / "o",
            tmp_path / "m.json",
            no_embedding(),
        )
