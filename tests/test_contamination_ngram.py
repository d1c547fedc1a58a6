"""The hashed n-gram index agrees with a plain set-of-tuples computation."""

from __future__ import annotations

import random

import numpy as np

from promgate.contamination.ngram import NgramIndex
from promgate.contamination.tokens import tokens


def naive_grams(segments: list[str], n: int) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for text in segments:
        toks = tokens(text)
        out.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return out


def random_texts(rng: random.Random, count: int, vocab: int, length: int) -> list[list[str]]:
    words = [f"w{i}" for i in range(vocab)]
    return [
        [" ".join(rng.choices(words, k=rng.randint(0, length))) for _ in range(rng.randint(1, 2))]
        for _ in range(count)
    ]


def test_lookup_matches_naive_counts() -> None:
    rng = random.Random(3)
    items = random_texts(rng, 40, vocab=12, length=14)  # small vocab: many shared 3-grams
    docs = random_texts(rng, 60, vocab=12, length=30)
    n = 3
    index = NgramIndex(n, items)
    item_sets = [naive_grams(segs, n) for segs in items]
    assert index.grams_per_item.tolist() == [len(s) for s in item_sets]

    pairs, hits = index.lookup(docs)
    got = {(d, i): m for d, i, m in zip(pairs.doc, pairs.item, pairs.matched, strict=True)}
    expected = {}
    for d, segs in enumerate(docs):
        doc_set = naive_grams(segs, n)
        for i, item_set in enumerate(item_sets):
            if item_set & doc_set:
                expected[(d, i)] = len(item_set & doc_set)
    assert got == expected

    corpus_set = set().union(*(naive_grams(s, n) for s in docs))
    coverage = index.coverage(hits[1])
    assert coverage.tolist() == [len(s & corpus_set) for s in item_sets]


def test_no_match_and_empty_inputs() -> None:
    index = NgramIndex(8, [["one two three four five six seven eight nine"], ["short one"]])
    assert index.grams_per_item.tolist() == [2, 0]
    pairs, hits = index.lookup([["nothing in common with the eval items at all here"]])
    assert pairs.doc.size == 0 and hits.shape == (2, 0)
    pairs, _ = index.lookup([])
    assert pairs.item.size == 0
    assert np.array_equal(index.coverage(np.empty(0, np.int64)), [0, 0])


def test_verbatim_copy_matches_every_gram() -> None:
    question = "Natalia sold clips to 48 of her friends in April and then half as many in May"
    index = NgramIndex(8, [[question]])
    pairs, _ = index.lookup([["Some preamble. " + question.upper() + " and a solution follows."]])
    assert pairs.matched.tolist() == [index.grams_per_item[0]]
