"""Greedy generation against transformers' own generate, on the real model."""

import pytest
import torch

from promgate.scoring.generate import chat_prompt, generate_greedy, truncate_at_stop

pytestmark = pytest.mark.model

QUESTIONS = [
    "What is 12 + 30?",
    "Name a colour of the sky.",
    "A farmer has 3 cows and buys 4 more. How many cows does the farmer have now? Explain.",
    "Say hi.",
]


def _reference(model, tokenizer, prompts, max_new_tokens, stop):
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )
    new = out[:, enc.input_ids.shape[1] :]
    return [truncate_at_stop(tokenizer.decode(row, skip_special_tokens=True), stop) for row in new]


def test_same_text_as_transformers_generate(baseline):
    prompts = [chat_prompt(baseline.tokenizer, q) for q in QUESTIONS]
    ours = generate_greedy(
        baseline.model,
        baseline.tokenizer,
        prompts,
        max_new_tokens=40,
        batch_size=4,
        stop=["Question:"],
    )
    expected = _reference(baseline.model, baseline.tokenizer, prompts, 40, ["Question:"])
    assert ours == expected
    assert any(len(text) > 20 for text in ours)


def test_stop_string_cuts_and_order_is_kept(baseline):
    prompts = [chat_prompt(baseline.tokenizer, q) for q in QUESTIONS[:2]]
    free = generate_greedy(
        baseline.model, baseline.tokenizer, prompts, max_new_tokens=24, batch_size=1, stop=[]
    )
    marker = free[0].split()[1] if len(free[0].split()) > 1 else free[0][:3]
    cut = generate_greedy(
        baseline.model, baseline.tokenizer, prompts, max_new_tokens=24, batch_size=2, stop=[marker]
    )
    assert marker not in cut[0] and free[0].startswith(cut[0])
    assert cut[1] == truncate_at_stop(free[1], [marker])


def test_runner_and_transformers_decode_the_same_text(baseline):
    """Rows finish at different steps (end of sequence, a stop string, the budget), so the
    runner's cache is compacted on the way; every answer must still be the same text."""
    prompts = [chat_prompt(baseline.tokenizer, q) for q in QUESTIONS] * 4
    kwargs = dict(max_new_tokens=30, batch_size=16, stop=["Question:", "\n\n"])
    runner = generate_greedy(baseline.model, baseline.tokenizer, prompts, engine="runner", **kwargs)
    plain = generate_greedy(
        baseline.model, baseline.tokenizer, prompts, engine="transformers", **kwargs
    )
    assert runner == plain
    assert len({len(text) for text in runner}) > 2  # answers did end at different steps


def test_sampled_runner_draws_what_transformers_draws(baseline):
    from promgate.scoring.generate import Sampling

    prompts = [chat_prompt(baseline.tokenizer, "Write a short poem about the sea.")] * 3
    texts = {
        engine: generate_greedy(
            baseline.model,
            baseline.tokenizer,
            prompts,
            max_new_tokens=12,
            batch_size=3,
            stop=[],
            sampling=Sampling(0.8, 0.95),
            seeds=[1, 2, 3],
            engine=engine,
        )
        for engine in ("runner", "transformers")
    }
    assert texts["runner"] == texts["transformers"]


def test_unknown_engine_is_refused(baseline):
    with pytest.raises(ValueError, match="engine"):
        generate_greedy(
            baseline.model,
            baseline.tokenizer,
            ["x"],
            max_new_tokens=1,
            batch_size=1,
            stop=[],
            engine="fast",
        )


def test_runner_batches_fill_the_cache_budget(monkeypatch):
    from promgate.scoring import generate

    monkeypatch.setattr(generate, "CACHE_TOKENS", 1000)
    # Longest first; each batch holds as many rows as (prompt + budget) positions allow.
    lengths = [100, 300, 50, 120, 60, 900]
    batches = generate._cache_batches(lengths, max_new_tokens=100)
    assert batches == [[5], [1, 3], [0, 4, 2]]
    assert generate._cache_batches([2000], max_new_tokens=100) == [[0]]  # alone if too long


def test_shared_prefix_leaves_every_prompt_a_token_of_its_own():
    from promgate.scoring.generate import MIN_SHARED_PREFIX, _shared_prefix

    system = list(range(100, 100 + MIN_SHARED_PREFIX + 2))
    assert _shared_prefix([[*system, 1, 2], [*system, 3]]) == len(system)
    assert _shared_prefix([[*system, 1, 2], system]) == len(system) - 1  # one token kept
    assert _shared_prefix([[*system[:4], 1], [*system[:4], 2]]) == 0  # too short to be worth it
    assert _shared_prefix([[*system, 1]]) == 0  # a lone prompt has nothing to share


def test_runner_without_a_shared_prefix_decodes_what_transformers_does(baseline):
    prompts = ["The capital of France is", "1, 2, 3, 4,", "Once upon a time there"]
    kwargs = dict(max_new_tokens=12, batch_size=3, stop=[])
    runner = generate_greedy(baseline.model, baseline.tokenizer, prompts, engine="runner", **kwargs)
    plain = generate_greedy(
        baseline.model, baseline.tokenizer, prompts, engine="transformers", **kwargs
    )
    assert runner == plain
