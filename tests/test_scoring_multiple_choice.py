"""Multiple-choice scoring against the real SmolLM2 model."""

import pytest
import torch

from promgate.data.schema import Item
from promgate.scoring import multiple_choice

pytestmark = pytest.mark.model

META = {"source": "test", "stratum": "s", "license": "test"}


def _mc(item_id, prompt, choices, answer):
    return Item(
        id=item_id,
        benchmark="t",
        split="test",
        kind="multiple_choice",
        prompt=prompt,
        target=choices[answer],
        choices=choices,
        answer_index=answer,
        metadata=META,
    )


ITEMS = [
    _mc(
        "t/1",
        "Question: Which gas do plants take from the air to make food?\nAnswer:",
        [" oxygen", " carbon dioxide", " helium", " neon gas inside glass tubes"],
        1,
    ),
    _mc(
        "t/2",
        "Question: What is the boiling point of water at sea level?\nAnswer:",
        [" 100 degrees Celsius", " 10 degrees Celsius", " 1000 degrees Celsius"],
        0,
    ),
    _mc(
        "t/3",
        "The following are multiple choice questions (with answers) about math.\n\n"
        "What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer:",
        [" A", " B", " C", " D"],
        1,
    ),
    Item(
        id="w/1",
        benchmark="w",
        split="dev",
        kind="multiple_choice",
        prompt="Sarah was a much better surgeon than Maria so _ always got the easier cases.",
        target="Maria",
        choices=["Sarah", "Maria"],
        answer_index=1,
        contexts=[
            "Sarah was a much better surgeon than Maria so Sarah",
            "Sarah was a much better surgeon than Maria so Maria",
        ],
        continuation=" always got the easier cases.",
        metadata=META,
    ),
]


def _reference(model, tokenizer, context, continuation):
    """One unpadded forward pass over context + continuation, no batching tricks."""
    ctx, cont = multiple_choice.encode_pair(tokenizer, context, continuation)
    with torch.inference_mode():
        logprobs = model(torch.tensor([ctx + cont])).logits.log_softmax(-1)[0]
    return sum(float(logprobs[len(ctx) - 1 + j, tok]) for j, tok in enumerate(cont))


def test_batched_scores_equal_unbatched_reference(baseline):
    scored = multiple_choice.score_items(baseline.model, baseline.tokenizer, ITEMS, batch_size=16)
    for item, scores in zip(ITEMS, scored, strict=True):
        pairs = multiple_choice.choice_pairs(item)
        expected = [_reference(baseline.model, baseline.tokenizer, c, x) for c, x in pairs]
        assert scores.logprobs == pytest.approx(expected, abs=2e-4)


def test_batch_size_does_not_change_scores(baseline):
    one = multiple_choice.score_items(baseline.model, baseline.tokenizer, ITEMS, batch_size=1)
    many = multiple_choice.score_items(baseline.model, baseline.tokenizer, ITEMS, batch_size=8)
    for a, b in zip(one, many, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=2e-4)
        assert a.prediction == b.prediction


def test_choices_sharing_a_context_are_packed_into_one_row(baseline):
    requests = multiple_choice.build_requests(baseline.tokenizer, ITEMS)
    rows = multiple_choice.pack_requests(requests, 2048)
    # Three items with one shared context each, and WinoGrande's two distinct contexts.
    assert len(rows) == 5
    mmlu = next(r for r in rows if len(r.requests) == 4 and r.requests[0].item_index == 2)
    assert mmlu.length == len(mmlu.context)  # one-token letters add nothing to the row


def test_trailing_context_space_moves_to_continuation(baseline):
    ctx, cont = multiple_choice.encode_pair(baseline.tokenizer, "Answer: ", "yes")
    ctx2, cont2 = multiple_choice.encode_pair(baseline.tokenizer, "Answer:", " yes")
    assert (ctx, cont) == (ctx2, cont2)


def test_sensible_answers_and_confidence(baseline):
    scored = multiple_choice.score_items(baseline.model, baseline.tokenizer, ITEMS[:2], 4)
    assert [s.prediction for s in scored] == [1, 0]
    assert all(0.0 < s.confidence <= 1.0 for s in scored)


def test_runner_and_transformers_score_alike(baseline):
    requests = multiple_choice.build_requests(baseline.tokenizer, ITEMS)
    scores = {
        engine: multiple_choice.score_requests(
            baseline.model, baseline.tokenizer, requests, 2, engine=engine
        )
        for engine in ("runner", "transformers")
    }
    for key, value in scores["transformers"].items():
        assert scores["runner"][key] == pytest.approx(value, abs=1e-4)


def test_token_budget_batches_follow_row_length():
    def row(length: int) -> multiple_choice.PackedRow:
        return multiple_choice.PackedRow(tuple(range(length)))

    rows = [row(n) for n in (500, 300, 250, 100, 100, 100, 90, 10)]
    groups = multiple_choice.batches(rows, max_rows=4, max_tokens=800)
    # 500 alone (two would pad to 1000); 300 and 250 (2 x 300); then rows of 100 four at most.
    assert [[r.length for r in g] for g in groups] == [
        [500],
        [300, 250],
        [100, 100, 100, 90],
        [10],
    ]
    # A row longer than the budget still gets a batch of its own.
    assert [len(g) for g in multiple_choice.batches([row(900)], 4, 800)] == [1]
