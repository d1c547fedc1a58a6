"""MinHash signatures for many texts at once, bit-identical to datasketch's ``affine32``.

datasketch hashes one document per call (``MinHash.bulk`` loops in Python over shingles);
here the shingles of a whole batch are hashed with numpy, permuted in one matrix and reduced
per document with ``minimum.reduceat``. The permutations are datasketch's own, so the
signatures go straight into a datasketch ``MinHashLSH`` and compare with its MinHashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
from datasketch import MinHash, MinHashLSH

from promgate.contamination.tokens import hash_tokens, ngram_hashes

SCHEME = "affine32"
_EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for a permutation that saw nothing
_CHUNK = 1 << 12  # shingles permuted at once: 128 x 4096 x 4 bytes = 2 MiB stays in cache
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before permuting."""
    s1, m1, s2, m2 = _FMIX32
    values = values ^ (values >> s1)
    values = values * m1
    values = values ^ (values >> s2)
    values = values * m2
    return values ^ (values >> s1)


def shingle_hashes(texts: Sequence[str], shingle: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of each text's word ``shingle``-grams, with each shingle's text index.

    A text shorter than ``shingle`` tokens is represented by its tokens, so it still gets a
    signature (and two such short texts can still match).
    """
    batch = hash_tokens(texts)
    grams, owner = ngram_hashes(batch, shingle)
    short = np.ones(len(texts), dtype=bool)
    short[owner] = False
    if short.any():
        take = short[batch.segment]
        grams = np.concatenate([grams, batch.hashes[take]])
        owner = np.concatenate([owner, batch.segment[take]])
        order = np.argsort(owner, kind="stable")
        grams, owner = grams[order], owner[order]
    return (grams >> np.uint64(32)).astype(np.uint32), owner


class MinHasher:
    """Signatures over word shingles with datasketch's ``affine32`` permutations for ``seed``."""

    def __init__(self, num_perm: int = 128, seed: int = 1, shingle: int = 3) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.shingle = shingle
        a, b = MinHash(num_perm=num_perm, seed=seed).permutations
        self._a = np.asarray(a, dtype=np.uint32)
        self._b = np.asarray(b, dtype=np.uint32)

    def signatures_from_hashes(self, hashes: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
        """(n, num_perm) uint32 signatures from 32-bit input hashes grouped by ``owner``."""
        out = np.full((n, self.num_perm), _EMPTY, dtype=np.uint32)
        if hashes.size == 0:
            return out
        mixed = fmix32(hashes.astype(np.uint32))
        # Chunk on owner boundaries so no document's minimum is split across chunks.
        bounds = np.flatnonzero(np.diff(owner)) + 1
        starts = np.concatenate([[0], bounds])
        chunk_at = np.searchsorted(starts, np.arange(0, hashes.size, _CHUNK), side="right") - 1
        cuts = np.unique(np.append(starts[chunk_at], hashes.size))
        for lo, hi in pairwise(cuts.tolist()):
            # (perm, shingle) layout: the per-document minimum runs along contiguous memory.
            permuted = self._a[:, None] * mixed[None, lo:hi] + self._b[:, None]
            local = starts[(starts >= lo) & (starts < hi)]
            out[owner[local]] = np.minimum.reduceat(permuted, local - lo, axis=1).T
        return out

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        hashes, owner = shingle_hashes(texts, self.shingle)
        return self.signatures_from_hashes(hashes, owner, len(texts))

    def as_datasketch(self, signature: np.ndarray) -> MinHash:
        return MinHash(seed=self.seed, hashvalues=signature, scheme=SCHEME)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash Jaccard estimate between signature rows (broadcasting over leading axes)."""
    return np.mean(a == b, axis=-1)


class NearDuplicateIndex:
    """datasketch LSH over the eval items' signatures; queried with corpus signatures."""

    def __init__(self, hasher: MinHasher, signatures: np.ndarray, threshold: float) -> None:
        self.hasher = hasher
        self.threshold = threshold
        self.signatures = signatures
        self._lsh = MinHashLSH(threshold=threshold, num_perm=hasher.num_perm)
        with self._lsh.insertion_session() as session:
            for i, sig in enumerate(signatures):
                if not np.all(sig == _EMPTY):  # an empty text has no shingles to match
                    session.insert(i, hasher.as_datasketch(sig))

    def query(self, signatures: np.ndarray) -> Iterable[tuple[int, int, float]]:
        """(row of ``signatures``, eval item, estimated Jaccard) for pairs over the threshold."""
        for row, sig in enumerate(signatures):
            if np.all(sig == _EMPTY):
                continue
            found = self._lsh.query(self.hasher.as_datasketch(sig))
            if not found:
                continue
            items = np.asarray(sorted(found), dtype=np.int64)
            scores = jaccard(self.signatures[items], sig[None, :])
            for item, score in zip(items.tolist(), scores.tolist(), strict=True):
                if score >= self.threshold:
                    yield row, item, score
