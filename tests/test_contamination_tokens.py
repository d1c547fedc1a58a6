"""Normalisation and vectorised hashing: the same tokens give the same hashes, everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promgate.contamination.tokens import hash_tokens, ngram_hashes, normalise, tokens


def test_normalisation_lowercases_and_splits_on_punctuation() -> None:
    assert tokens("Hello, World!  It's 3.5\tkm") == ["hello", "world", "it", "s", "3", "5", "km"]
    assert tokens("don’t “quote” — ÉCOLE… a_b") == ["don", "t", "quote", "école", "a_b"]
    assert normalise("A\u00a0B") == b"a b"
    assert tokens("a\u2003b\x85c\u200bd\u3000e") == ["a", "b", "c", "d", "e"]
    assert tokens("") == [] and tokens(" ,.;") == []


def test_same_token_same_hash_regardless_of_context() -> None:
    batch = hash_tokens(["The cat!", "a CAT, the end", "catalogue cat"])
    names = ["the", "cat", "a", "cat2", "the2", "end", "catalogue", "cat3"]
    h = dict(zip(names, batch.hashes, strict=True))
    assert h["cat"] == h["cat2"] == h["cat3"]
    assert h["the"] == h["the2"]
    assert len({h["cat"], h["catalogue"], h["the"], h["a"], h["end"]}) == 5
    assert batch.segment.tolist() == [0, 0, 1, 1, 1, 1, 2, 2]


def test_long_tokens_differ_past_eight_bytes() -> None:
    words = [
        "abcdefgh",
        "abcdefghi",
        "abcdefghj",
        "abcdefghijklmnopqrstuvwxyz0123456789x",
        "abcdefghijklmnopqrstuvwxyz0123456789y",
    ]
    batch = hash_tokens([" ".join(words)])
    assert len(set(batch.hashes.tolist())) == len(words)


def test_ngrams_never_span_segments() -> None:
    batch = hash_tokens(["one two three", "four five"])
    grams, seg = ngram_hashes(batch, 2)
    assert seg.tolist() == [0, 0, 1]  # (one two) (two three) (four five); no (three four)
    joined, _ = ngram_hashes(hash_tokens(["one two three four five"]), 2)
    assert set(grams.tolist()) < set(joined.tolist())
    assert ngram_hashes(hash_tokens(["too short"]), 3)[0].size == 0
    with pytest.raises(ValueError):
        ngram_hashes(batch, 0)


def test_ngram_hash_is_order_sensitive() -> None:
    a, _ = ngram_hashes(hash_tokens(["alpha beta gamma"]), 3)
    b, _ = ngram_hashes(hash_tokens(["gamma beta alpha"]), 3)
    assert a[0] != b[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=8))
def test_batch_hashing_equals_one_text_at_a_time(texts: list[str]) -> None:
    batch = hash_tokens(texts)
    assert batch.hashes.size == sum(len(tokens(t)) for t in texts)
    for i, text in enumerate(texts):
        alone = hash_tokens([text]).hashes
        assert np.array_equal(batch.hashes[batch.segment == i], alone)
