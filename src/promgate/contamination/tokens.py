"""Normalised tokens and their 64-bit hashes, for many texts at once.

Normalisation: Unicode lower case; ASCII punctuation, whitespace and common Unicode
punctuation become separators; letters, digits, ``_`` and other non-ASCII characters form
tokens. Everything after ``str.lower`` runs in numpy over the UTF-8 bytes, because a
per-token Python loop cannot stream a corpus at tens of MB/s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_SPACE = 0x20
_MAX_OFFSET = 32  # tabulation rows; bytes past the 32nd of a token reuse the last row
_SEED = 0x5EED_70CE

# bytes.translate table: keep [a-z0-9_] and every non-ASCII byte, blank the rest.
_TABLE = bytes(
    b if (0x30 <= b <= 0x39 or 0x61 <= b <= 0x7A or b == 0x5F or b >= 0x80) else _SPACE
    for b in range(256)
)
# Curly quotes, dashes, ellipsis, minus and the Unicode spaces: separators, as their ASCII
# forms are.
_UNICODE_SEPARATORS = tuple(
    ch.encode("utf-8")
    for ch in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2212"
    "\u0085\u00a0\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200C))
)
# One regex pass: 28 bytes.replace passes cost more than the whole tokenizer otherwise.
_UNICODE_SEPARATOR_RE = re.compile(b"|".join(re.escape(sep) for sep in _UNICODE_SEPARATORS))

_RS = "\x1e"  # ASCII record separator: joins segments; the table blanks it like punctuation
_RS_BYTE = 0x1E

_rng = np.random.default_rng(_SEED)
# Odd multipliers: one per 8-byte word of a token, and one per position of an n-gram.
_WORD = _rng.integers(0, 2**63, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_POSITION = _rng.integers(0, 2**63, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def normalise(text: str) -> bytes:
    """Lower-cased UTF-8 with every separator replaced by one ASCII space byte."""
    data = text.lower().encode("utf-8")
    if not data.isascii():
        data = _UNICODE_SEPARATOR_RE.sub(b" ", data)
    return data.translate(_TABLE)


def tokens(text: str) -> list[str]:
    """The normalised tokens of one text (for tests and the naive baseline)."""
    # Split on the ASCII space only: str.split() would also split on Unicode spaces
    # (U+0085, U+2003, ...) that the byte-level tokenizer keeps inside tokens.
    return [t.decode("utf-8") for t in normalise(text).split(b" ") if t]


def mix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads every input bit over the output (wrapping)."""
    values = values ^ (values >> _S33)
    values = values * _M1
    values = values ^ (values >> _S33)
    values = values * _M2
    return values ^ (values >> _S33)


@dataclass(frozen=True)
class TokenBatch:
    """Token hashes of a batch of segments; ``segment[i]`` is the index of token i's text."""

    hashes: np.ndarray  # uint64
    segment: np.ndarray  # int64, non-decreasing
    n_segments: int


def _normalised_buffer(segments: Sequence[str]) -> tuple[bytes, np.ndarray]:
    """All segments normalised into one buffer, and each segment's start offset in it.

    Segments are joined with a record separator and normalised in one call (far fewer
    Python calls than one per segment); the separator's byte positions give the offsets.
    A text that itself holds the separator takes the slower per-segment path.
    """
    joined = _RS.join(segments)
    if joined.count(_RS) == len(segments) - 1:
        data = joined.lower().encode("utf-8")
        if not data.isascii():
            data = _UNICODE_SEPARATOR_RE.sub(b" ", data)
        marks = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _RS_BYTE)
        return data.translate(_TABLE), np.concatenate([[0], marks + 1]).astype(np.int64)
    parts = [normalise(s) for s in segments]
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)) + 1
    return b" ".join(parts), np.cumsum(lengths) - lengths


def hash_tokens(segments: Sequence[str]) -> TokenBatch:
    """Hash every normalised token of every segment; tokens never span two segments."""
    if not segments:
        return TokenBatch(np.empty(0, np.uint64), np.empty(0, np.int64), 0)
    data, seg_start = _normalised_buffer(segments)
    buf = np.frombuffer(data, dtype=np.uint8)
    word = buf != _SPACE
    edges = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    bounds = np.flatnonzero(edges)  # alternate: a token's start, then its end
    if bounds.size == 0:
        return TokenBatch(np.empty(0, np.uint64), np.empty(0, np.int64), len(segments))
    starts, ends = bounds[0::2], bounds[1::2]
    hashes = _hash_spans(buf, starts, ends - starts)
    segment = np.searchsorted(seg_start, starts, side="right") - 1
    return TokenBatch(hashes, segment.astype(np.int64), len(segments))


def _hash_spans(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Hash byte spans 8 bytes at a time: one unaligned little-endian load per word."""
    padded = np.zeros(buf.size + 8, dtype=np.uint8)
    padded[: buf.size] = buf
    # words[i] is bytes i..i+7 read as one uint64: a strided view, nothing is copied.
    words = np.ndarray(shape=(buf.size,), dtype="<u8", buffer=padded.data, strides=(1,))
    hashes = mix64(
        (words[starts] & _LOW_BYTES[np.minimum(lengths, 8)]) * _WORD[0] + lengths.astype(np.uint64)
    )
    long = np.flatnonzero(lengths > 8)
    k = 1
    while long.size:  # rare: tokens over 8 bytes fold in their later words
        rest = lengths[long] - 8 * k
        word = words[starts[long] + 8 * k] & _LOW_BYTES[np.minimum(rest, 8)]
        hashes[long] = mix64(hashes[long] ^ (word * _WORD[k % len(_WORD)]))
        long = long[rest > 8]
        k += 1
    return hashes


def ngram_hashes(batch: TokenBatch, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every n-gram inside one segment, with each n-gram's segment index."""
    if not 1 <= n <= len(_POSITION):
        raise ValueError(f"n must be in 1..{len(_POSITION)}, got {n}")
    count = batch.hashes.size - n + 1
    if count <= 0:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    grams = batch.hashes[:count] * _POSITION[0]
    for k in range(1, n):
        grams += batch.hashes[k : k + count] * _POSITION[k]
    inside = batch.segment[:count] == batch.segment[n - 1 : n - 1 + count]
    return mix64(grams[inside]), batch.segment[:count][inside]
