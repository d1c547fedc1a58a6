"""Hashed n-gram index of the eval items, and the per-document lookup of a corpus batch.

The index holds each eval item's distinct n-gram hashes (sorted, with a CSR posting list to
the items that contain them). A corpus batch is hashed the same way and looked up with one
``searchsorted``; the result says, per (document, item) pair, how many of the item's
distinct n-grams the document contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from promgate.contamination.tokens import hash_tokens, ngram_hashes

_FILTER_BITS = 22
_FILTER_SHIFT = np.uint64(64 - _FILTER_BITS)


@dataclass(frozen=True)
class PairCounts:
    """Distinct matched n-grams per (document, item) pair of one corpus batch."""

    doc: np.ndarray  # int64, index of the document within the batch
    item: np.ndarray  # int64, index of the eval item
    matched: np.ndarray  # int64


def _grams_by_owner(
    segments: Sequence[str], owners: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(owner, n-gram hash) pairs, n-grams confined to their segment; owners[s] owns segment s."""
    grams, seg = ngram_hashes(hash_tokens(segments), n)
    return owners[seg], grams


def _unique_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (left, right) pairs, sorted by right then left."""
    if left.size == 0:
        return left, right
    order = np.lexsort((left, right))
    left, right = left[order], right[order]
    keep = np.ones(left.size, dtype=bool)
    keep[1:] = (left[1:] != left[:-1]) | (right[1:] != right[:-1])
    return left[keep], right[keep]


class NgramIndex:
    """Distinct n-grams of each eval item; ``grams_per_item[i] == 0`` means too short to check."""

    def __init__(self, n: int, item_segments: Sequence[Sequence[str]]) -> None:
        self.n = n
        self.n_items = len(item_segments)
        flat = [text for segs in item_segments for text in segs]
        owners = np.repeat(
            np.arange(self.n_items, dtype=np.int64),
            np.fromiter((len(s) for s in item_segments), dtype=np.int64, count=self.n_items),
        )
        items, grams = _unique_pairs(*_grams_by_owner(flat, owners, n))
        self.grams_per_item = np.bincount(items, minlength=self.n_items)
        self.keys, first = np.unique(grams, return_index=True)
        self.indptr = np.append(first, grams.size).astype(np.int64)
        self.postings = items
        # A 4 MiB presence table on the top 22 hash bits: most corpus n-grams miss the eval
        # sets, and one table read rejects them far faster than a binary search.
        self._present = np.zeros(1 << _FILTER_BITS, dtype=bool)
        self._present[self.keys >> _FILTER_SHIFT] = True

    def items_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expand key indices to (position in ``keys``, item) pairs through the posting lists."""
        counts = self.indptr[keys + 1] - self.indptr[keys]
        total = int(counts.sum())
        owner = np.repeat(np.arange(keys.size, dtype=np.int64), counts)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        return owner, self.postings[np.repeat(self.indptr[keys], counts) + within]

    def lookup(self, doc_segments: Sequence[Sequence[str]]) -> tuple[PairCounts, np.ndarray]:
        """Per (doc, item) matched-gram counts, and the distinct key indices each doc hit.

        Returns ``(pairs, (doc, key) pairs as two arrays stacked in a 2 x k array)``.
        """
        n_docs = len(doc_segments)
        flat = [text for segs in doc_segments for text in segs]
        owners = np.repeat(
            np.arange(n_docs, dtype=np.int64),
            np.fromiter((len(s) for s in doc_segments), dtype=np.int64, count=n_docs),
        )
        docs, grams = _grams_by_owner(flat, owners, self.n)
        empty = np.empty(0, np.int64)
        if grams.size == 0 or self.keys.size == 0:
            return PairCounts(empty, empty, empty), np.stack([empty, empty])
        maybe = np.flatnonzero(self._present[grams >> _FILTER_SHIFT])
        pos = np.searchsorted(self.keys, grams[maybe])
        np.minimum(pos, self.keys.size - 1, out=pos)
        hit = self.keys[pos] == grams[maybe]
        hit_docs, hit_keys = _unique_pairs(docs[maybe[hit]], pos[hit].astype(np.int64))
        owner, items = self.items_of(hit_keys)
        pair_docs = hit_docs[owner]
        combined = pair_docs * self.n_items + items
        uniq, matched = np.unique(combined, return_counts=True)
        pairs = PairCounts(uniq // self.n_items, uniq % self.n_items, matched.astype(np.int64))
        return pairs, np.stack([hit_docs, hit_keys])

    def coverage(self, hit_keys: np.ndarray) -> np.ndarray:
        """Per item, how many of its distinct n-grams are among ``hit_keys`` (distinct keys)."""
        _, items = self.items_of(np.unique(hit_keys))
        return np.bincount(items, minlength=self.n_items)
