"""Seeded nucleus sampling in generation: the token choice alone, then on the real model."""

from __future__ import annotations

import pytest
import torch

from promgate.models.backend import GenerationRequest
from promgate.scoring.generate import Sampling, _choose, chat_prompt, generate_sampled


def generators(*seeds: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed) for seed in seeds]


def test_greedy_is_argmax():
    logits = torch.tensor([[0.1, 2.0, 0.3], [5.0, 0.0, 0.0]])
    assert _choose(logits, [0, 1], None, None).tolist() == [1, 0]


def test_top_p_keeps_only_the_nucleus():
    # probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps the first two, never the others
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    drawn = {
        int(_choose(logits, [0], Sampling(1.0, 0.7), generators(seed))[0]) for seed in range(300)
    }
    assert drawn == {0, 1}
    only_top = Sampling(1.0, 0.01)  # the most likely token always stays
    assert {int(_choose(logits, [0], only_top, generators(s))[0]) for s in range(50)} == {0}


def test_temperature_sharpens_and_flattens():
    logits = torch.log(torch.tensor([[0.6, 0.4]]))

    def share_of_first(temperature: float) -> float:
        draws = [
            int(_choose(logits, [0], Sampling(temperature), generators(s))[0]) for s in range(2000)
        ]
        return draws.count(0) / len(draws)

    assert share_of_first(0.2) > 0.85 and 0.5 < share_of_first(1.0) < 0.7


def test_each_row_draws_from_its_own_generator():
    """A row's draw depends on its seed, not on which rows share its batch."""
    logits = torch.zeros((3, 50))
    alone = _choose(logits[:1], [2], Sampling(1.0), {2: torch.Generator().manual_seed(9)})
    together = _choose(logits, [0, 1, 2], Sampling(1.0), generators(1, 2, 9))
    assert int(together[2]) == int(alone[0])


def test_sampling_needs_sane_settings():
    with pytest.raises(ValueError):
        Sampling(0.0)
    with pytest.raises(ValueError):
        Sampling(0.8, 1.5)
    with pytest.raises(ValueError, match="needs temperature > 0 and a seed"):
        GenerationRequest("p", 8, temperature=0.8)


@pytest.mark.model
def test_seeded_samples_repeat_and_differ(baseline):
    tokenizer = baseline.tokenizer
    prompt = chat_prompt(tokenizer, "Write a short poem about the sea.")

    def sample(seeds: list[int], batch_size: int) -> list[str]:
        return generate_sampled(
            baseline.model,
            tokenizer,
            [prompt] * len(seeds),
            seeds,
            sampling=Sampling(0.8, 0.95),
            max_new_tokens=12,
            batch_size=batch_size,
            stop=[],
        )

    first = sample([1, 2, 3, 4], batch_size=4)
    assert sample([1, 2, 3, 4], batch_size=4) == first  # same seeds, same texts
    assert len(set(first)) > 1  # different seeds, different samples
    assert sample([3], batch_size=1) == [first[2]]  # a sample does not depend on its batch
