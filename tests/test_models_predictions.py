"""The predictions backend: files already written, scored by promgate's own extraction,
matching and sandbox; anything missing or malformed is named, never scored."""

from __future__ import annotations

import json

import pytest

from promgate.data.schema import Item
from promgate.errors import MissingEvidenceError, SchemaError
from promgate.models.backend import GenerationRequest, LoglikelihoodRequest
from promgate.models.predictions import PredictionsBackend
from promgate.results import read_results
from promgate.scoring.runner import evaluate_model
from serve_helpers import GSM8K_ITEMS, MC_ITEMS, META, eval_config

CODE_ITEM = Item(
    id="humaneval/0",
    benchmark="humaneval",
    split="test",
    kind="code",
    prompt='def add(a, b):\n    """Return a + b."""\n',
    target="    return a + b\n",
    tests="def check(candidate):\n    assert candidate(2, 3) == 5\n",
    entry_point="add",
    metadata=META,
)

MC_LOGPROBS = {
    "tiny/1": [-5.0, -1.0, -7.0, -9.0],  # picks 1: correct
    "tiny/2": [-3.0, -1.0, -2.0],  # picks 1: wrong (answer 0)
    "tiny/3": [-4.0, -0.5, -3.0, -6.0],  # picks 1: correct
    "tiny/4": [-2.0, -2.5],  # picks 0: wrong (answer 1)
}


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _complete_folder(root):
    _write(root / "tiny.jsonl", [{"id": k, "choice_logprobs": v} for k, v in MC_LOGPROBS.items()])
    _write(
        root / "gsm8k.jsonl",
        [
            {"id": "gsm8k/0", "prediction": "12 + 30 = 42. #### 42"},
            {"id": "gsm8k/1", "prediction": "He has 3 + 4 = 8 apples."},
        ],
    )
    _write(root / "humaneval.jsonl", [{"id": "humaneval/0", "prediction": "    return a + b\n"}])
    return root


def test_predictions_are_scored_like_the_models_own_answers(tmp_path):
    backend = PredictionsBackend(_complete_folder(tmp_path / "preds"))
    items = {"tiny": MC_ITEMS, "gsm8k": GSM8K_ITEMS, "humaneval": [CODE_ITEM]}
    summary = evaluate_model(
        backend, items, eval_config(), tmp_path / "r", tmp_path / "m.json", model_id="imported"
    )
    tiny = read_results(tmp_path / "r" / "tiny.jsonl")
    assert [r.correct for r in tiny] == [True, False, True, False]
    assert tiny[0].choice_logprobs == MC_LOGPROBS["tiny/1"]
    gsm = read_results(tmp_path / "r" / "gsm8k.jsonl")
    assert [r.correct for r in gsm] == [True, False]  # 8 is extracted, and is wrong
    (code,) = read_results(tmp_path / "r" / "humaneval.jsonl")
    assert code.correct is True and code.n_samples == 1  # ran in the sandbox
    assert summary["benchmarks"]["tiny"]["accuracy"] == 0.5
    assert summary["backend"] == "predictions" and summary["model_sha256"] is None


def test_a_missing_item_is_named(tmp_path):
    folder = _complete_folder(tmp_path / "preds")
    _write(folder / "gsm8k.jsonl", [{"id": "gsm8k/0", "prediction": "#### 42"}])
    backend = PredictionsBackend(folder)
    with pytest.raises(MissingEvidenceError, match=r"no prediction for item 'gsm8k/1'"):
        backend.generate([GenerationRequest(i.prompt, 8, item_id=i.id) for i in GSM8K_ITEMS])


def test_wrong_choice_count_names_file_line_and_field(tmp_path):
    folder = _write(tmp_path / "p" / "tiny.jsonl", [{"id": "tiny/2", "choice_logprobs": [-1.0]}])
    requests = [LoglikelihoodRequest("c", " x", "tiny/2", c) for c in range(3)]
    with pytest.raises(SchemaError) as err:
        PredictionsBackend(folder.parent).loglikelihood(requests)
    assert err.value.line == 1 and err.value.field == "choice_logprobs"
    assert "3 choices" in str(err.value) and str(folder) in str(err.value)


def test_a_generation_where_logprobs_are_needed_is_refused(tmp_path):
    folder = _write(tmp_path / "p" / "tiny.jsonl", [{"id": "tiny/1", "prediction": "B"}])
    with pytest.raises(SchemaError, match="needs choice_logprobs"):
        PredictionsBackend(folder.parent).loglikelihood([LoglikelihoodRequest("c", " x", "tiny/1")])


@pytest.mark.parametrize(
    ("lines", "line", "field"),
    [
        (['{"id": "a/1", "prediction": "x"}', '{"id": "a/1", "prediction": "y"}'], 2, "id"),
        (['{"id": "a/1", "prediction": "x"}', "{oops"], 2, None),
        (['{"id": "a/1", "choice_logprobs": ["high"]}'], 1, "choice_logprobs.0"),
        (['{"id": "a/1", "predicton": "typo"}'], 1, "predicton"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, lines, line, field):
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError) as err:
        PredictionsBackend(tmp_path).generate([GenerationRequest("p", 4, item_id="a/1")])
    assert err.value.line == line and err.value.field == field


def test_an_absent_or_empty_folder_is_missing_evidence(tmp_path):
    with pytest.raises(MissingEvidenceError, match="no predictions folder"):
        PredictionsBackend(tmp_path / "nope")
    with pytest.raises(MissingEvidenceError, match=r"no <benchmark>\.jsonl"):
        PredictionsBackend(tmp_path).generate([GenerationRequest("p", 4, item_id="a/1")])
