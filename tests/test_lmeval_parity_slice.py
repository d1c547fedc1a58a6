"""promgate's scorer against lm-eval-harness's own per-item log-likelihoods, without lm-eval.

tests/data/lmeval_slice/parity_slice.json holds, for the first 20 docs of each of
bench/lmeval/tasks/'s five tasks, the promgate item id and the per-choice log-likelihoods
lm-eval 0.4.13 computed for SmolLM2-135M-Instruct fp32 on CPU (frozen from a real run by
bench/lmeval/freeze_fixtures.py). promgate's scorer on the same model must pick the same
choice and give the same log-likelihoods within a float32 tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promgate.importers.lm_eval import load_eval_items
from promgate.scoring import multiple_choice

SLICE = Path(__file__).parent / "data" / "lmeval_slice" / "parity_slice.json"
# Summed log-likelihoods of fp32 forward passes that batch and pad differently.
TOLERANCE = 2e-3


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return json.loads(SLICE.read_text(encoding="utf-8"))["items"]


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=lambda i: values[i])


def test_the_slice_covers_every_task(rows):
    tasks = {row["task"] for row in rows}
    assert tasks == {
        "promgate_arc_easy",
        "promgate_arc_challenge",
        "promgate_piqa",
        "promgate_winogrande",
        "promgate_mmlu",
    }
    assert all(sum(r["task"] == t for r in rows) == 20 for t in tasks)


def test_promgate_matches_lm_eval_item_by_item(rows, mirror, baseline):
    benchmarks = sorted({row["id"].split("/", 1)[0] for row in rows})
    by_id = {i.id: i for items in load_eval_items(benchmarks, mirror).values() for i in items}
    items = [by_id[row["id"]] for row in rows]
    scores = multiple_choice.score_items(baseline.model, baseline.tokenizer, items, batch_size=8)

    decided = 0
    for row, item, score in zip(rows, items, scores, strict=True):
        theirs = row["logprobs"]
        assert len(score.logprobs) == len(theirs), item.id
        gaps = [abs(a - b) for a, b in zip(score.logprobs, theirs, strict=True)]
        assert max(gaps) <= TOLERANCE, (item.id, score.logprobs, theirs)
        ranked = sorted(theirs, reverse=True)
        if ranked[0] - ranked[1] > 2 * TOLERANCE:  # a near-tie may flip on another CPU
            decided += 1
            assert score.prediction == _argmax(theirs), item.id
            assert (score.prediction == item.answer_index) == row["acc"], item.id
    assert decided >= 0.9 * len(rows)
