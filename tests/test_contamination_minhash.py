"""Batched MinHash signatures are datasketch's own; LSH finds near duplicates, not strangers."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from promgate.contamination.minhash import MinHasher, NearDuplicateIndex, jaccard, shingle_hashes


def test_signatures_equal_datasketch_bulk() -> None:
    rng = random.Random(0)
    words = [f"word{i}" for i in range(300)]
    texts = [" ".join(rng.choices(words, k=rng.randint(0, 120))) for _ in range(50)]
    texts += ["two words", ""]
    hasher = MinHasher(num_perm=64, seed=5, shingle=3)
    hashes, owner = shingle_hashes(texts, 3)
    ours = hasher.signatures(texts)
    inputs = [[int(h) for h in hashes[owner == i]] for i in range(len(texts))]
    reference = MinHash.bulk(inputs, num_perm=64, seed=5, hashfunc=lambda value: value)
    for i, ref in enumerate(reference):
        assert np.array_equal(ours[i], ref.hashvalues), texts[i][:40]
    # Short texts fall back to single tokens; empty texts stay empty (datasketch's value).
    assert (owner == len(texts) - 2).sum() == 2
    assert np.all(ours[-1] == np.uint32(0xFFFFFFFF))


def test_chunked_reduction_matches_unchunked(monkeypatch) -> None:
    import promgate.contamination.minhash as mh

    rng = random.Random(1)
    texts = [" ".join(rng.choices("abcdefghij", k=rng.randint(3, 60))) for _ in range(40)]
    hasher = MinHasher(num_perm=32, seed=2, shingle=2)
    whole = hasher.signatures(texts)
    monkeypatch.setattr(mh, "_CHUNK", 7)  # forces many chunks, each on a text boundary
    assert np.array_equal(hasher.signatures(texts), whole)


def test_lsh_finds_near_duplicates_only() -> None:
    rng = random.Random(2)
    words = [f"t{i}" for i in range(2000)]
    items = [" ".join(rng.choices(words, k=60)) for _ in range(30)]
    hasher = MinHasher(num_perm=128, seed=1, shingle=3)
    index = NearDuplicateIndex(hasher, hasher.signatures(items), threshold=0.8)
    near = items[4].split()
    near[10] = "changed"  # one word of sixty: Jaccard of 3-shingles stays ~0.9
    docs = [" ".join(near), " ".join(rng.choices(words, k=60)), items[9], ""]
    found = {(row, item) for row, item, _ in index.query(hasher.signatures(docs))}
    assert found == {(0, 4), (2, 9)}
    exact = hasher.signatures([items[9]])[0]
    assert jaccard(exact, hasher.signatures([items[9]])[0]) == 1.0
