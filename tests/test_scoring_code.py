"""Code scoring: programs as upstream composes them, sandboxed verdicts, unbiased pass@k.

The reference solutions are the ground truth for the executor: every HumanEval canonical
solution must pass (the MBPP references, with their record, are in test_mbpp_references.py).
"""

from __future__ import annotations

from math import comb
from pathlib import Path

import pytest

from promgate.config import CodeSamplingConfig
from promgate.data.loaders import load_humaneval, load_mbpp
from promgate.data.schema import Item
from promgate.results import ItemResult
from promgate.sandbox import Limits
from promgate.scoring.code import (
    CodeScore,
    code_summary,
    generation_requests,
    limits_for,
    pass_at_k,
    pass_at_k_summary,
    program_and_tests,
    sample_seed,
    sandbox_metadata,
    score_answers,
    score_completions,
    score_items,
    stop_sequences,
)
from promgate.scoring.code_prompt import CHAT_STOP

REFERENCE_LIMITS = Limits(wall_timeout_s=20.0, cpu_time_s=10)


@pytest.fixture(scope="module")
def humaneval(mirror: Path) -> list[Item]:
    return load_humaneval(mirror / "humaneval/HumanEval.jsonl.gz")


def references(items: list[Item]) -> dict[str, str]:
    scores = score_completions(items, {it.id: [it.target] for it in items}, REFERENCE_LIMITS)
    return {score.item_id: score.runs[0].verdict for score in scores}


def failures(verdicts: dict[str, str]) -> dict[str, str]:
    return {item_id: verdict for item_id, verdict in verdicts.items() if verdict != "passed"}


# --- pass@k ---------------------------------------------------------------------------------


def test_pass_at_k_matches_definition():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert abs(pass_at_k(10, 3, 1) - 0.3) < 1e-12
    assert abs(pass_at_k(20, 5, 10) - (1 - comb(15, 10) / comb(20, 10))) < 1e-12
    assert pass_at_k(12, 3, 10) == 1.0  # fewer than k failures: some draw of k must pass


def test_pass_at_k_refuses_impossible_inputs():
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 10)
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)


def test_pass_at_k_summary_over_items():
    def result(n: int, c: int) -> ItemResult:
        return ItemResult(
            id=f"x/{n}{c}", benchmark="x", model_id="m", score=c / n, n_samples=n, n_correct=c
        )

    summary = pass_at_k_summary([result(10, 0), result(10, 5)])
    assert summary["pass@1"] == pytest.approx(0.25)
    assert summary["pass@10"] == pytest.approx(0.5)
    assert pass_at_k_summary([result(1, 1)]) == {"pass@1": 1.0, "pass@10": None}


# --- programs as upstream composes them ----------------------------------------------------


def test_humaneval_program_is_prompt_plus_completion_then_check(humaneval):
    item = humaneval[0]
    program, tests = program_and_tests(item, "    return True\n")
    assert program == item.prompt + "    return True\n"
    assert tests.startswith(item.tests) and tests.rstrip().endswith(f"check({item.entry_point})")


def test_mbpp_program_is_the_completion_then_the_asserts(mirror):
    item = load_mbpp(mirror / "mbpp/mbpp.jsonl")[0]
    assert program_and_tests(item, "code") == ("code", item.tests)
    assert "[DONE]" in stop_sequences("mbpp") and "\ndef " in stop_sequences("humaneval")


def test_unknown_benchmark_has_no_format(humaneval):
    item = humaneval[0].model_copy(update={"benchmark": "apps"})
    with pytest.raises(ValueError, match="no code-execution format"):
        program_and_tests(item, "")


# --- the reference solutions -----------------------------------------------------------------


def test_all_164_humaneval_canonical_solutions_pass(humaneval):
    verdicts = references(humaneval)
    assert len(verdicts) == 164
    assert failures(verdicts) == {}


def test_wrong_completions_fail(humaneval, mirror):
    """The negative control: the same harness does fail code that is wrong."""
    mbpp = load_mbpp(mirror / "mbpp/mbpp.jsonl")[:10]
    wrong = {it.id: ["    return None\n"] for it in humaneval[:10]}
    wrong |= {it.id: [it.target.replace("return", "return None and", 1)] for it in mbpp}
    scores = score_completions(humaneval[:10] + mbpp, wrong, REFERENCE_LIMITS)
    assert all(score.c == 0 for score in scores)
    assert {score.failure for score in scores} <= {"wrong_answer", "crash"}


# --- items with n samples ------------------------------------------------------------------


def test_n_samples_give_unbiased_pass_at_k(humaneval):
    item = humaneval[2]  # truncate_number
    samples = [item.target] * 3 + ["    return 0.0\n", "    return number\n"] * 6
    [result] = score_items([item], {item.id: samples}, limits_for(5.0), model_id="m")
    assert (result.n_samples, result.n_correct) == (15, 3)
    assert result.score == pytest.approx(0.2) and result.correct is None
    assert result.error == "wrong_answer"
    assert pass_at_k_summary([result])["pass@10"] == pytest.approx(pass_at_k(15, 3, 10))


def test_single_sample_sets_correct(humaneval):
    item = humaneval[2]
    [good] = score_items([item], {item.id: [item.target]}, limits_for(5.0), model_id="m")
    assert good.correct is True and good.score == 1.0 and good.error is None
    assert good.stratum == item.metadata.stratum and good.prediction == item.target


def test_majority_failure_kind():
    from promgate.sandbox.runner import RunResult

    def run(verdict: str) -> RunResult:
        return RunResult(verdict, "", 0, None, "", "", 0, 0, 0.0, None, None, None)  # type: ignore[arg-type]

    score = CodeScore("x", (run("timeout"), run("crash"), run("crash"), run("passed")))
    assert (score.n, score.c, score.failure) == (4, 1, "crash")
    assert CodeScore("x", (run("passed"),)).failure is None


def test_sandbox_metadata_is_reportable():
    meta = sandbox_metadata()
    assert meta["backend"] and meta["protections"]["audit_guard"] == "enforced"


# --- sampling: requests, answers, per-item pass@k --------------------------------------------


def test_one_greedy_request_per_item_by_default(humaneval):
    requests = generation_requests(
        humaneval[:3],
        "humaneval",
        prompt_format="completion",
        sampling=CodeSamplingConfig(),
        max_new_tokens=64,
    )
    assert [r.item_id for r in requests] == [it.id for it in humaneval[:3]]
    assert all(not r.sampled and r.seed is None and r.stop for r in requests)
    assert requests[0].prompt == humaneval[0].prompt and not requests[0].chat


def test_n_seeded_samples_per_item(humaneval):
    sampling = CodeSamplingConfig(n=4, temperature=0.8, top_p=0.95, seed=7)
    requests = generation_requests(
        humaneval[:2], "humaneval", prompt_format="chat", sampling=sampling, max_new_tokens=64
    )
    assert len(requests) == 8 and requests[3].item_id == humaneval[0].id
    assert all(r.sampled and r.chat and r.stop == CHAT_STOP for r in requests)
    assert len({r.seed for r in requests}) == 8
    again = generation_requests(
        humaneval[1:2], "humaneval", prompt_format="chat", sampling=sampling, max_new_tokens=64
    )
    assert [r.seed for r in again] == [r.seed for r in requests[4:]]  # the item fixes its seeds
    assert requests[0].content()["seed"] == requests[0].seed  # cache keys tell samples apart


def test_sample_seeds_depend_on_config_seed_item_and_index():
    seeds = {sample_seed(s, i, k) for s in (1, 2) for i in ("a/1", "a/2") for k in range(3)}
    assert len(seeds) == 12 and all(0 <= s < 2**63 for s in seeds)


def test_answers_become_items_with_pass_at_k(humaneval):
    item = humaneval[2]  # truncate_number
    good = f"```python\n{item.prompt}{item.target}```"
    answers = [good] * 3 + ["```python\n    return 0.0\n```"] * 9
    [result] = score_answers([item], answers, "chat", limits_for(5.0), model_id="m")
    assert (result.n_samples, result.n_correct) == (12, 3)
    assert result.pass_at == {"pass@1": 0.25, "pass@10": pytest.approx(pass_at_k(12, 3, 10))}
    assert result.prediction == good  # the model's raw answer, not the derived completion
    summary = code_summary([result])
    assert summary["pass@10"] == pytest.approx(pass_at_k(12, 3, 10))
    assert summary["n_samples"] == [12] and "not_evaluable" not in summary


def test_pass_at_10_is_not_evaluable_from_one_sample(humaneval):
    item = humaneval[2]
    [result] = score_answers([item], [item.target], "completion", limits_for(5.0), model_id="m")
    assert result.pass_at == {"pass@1": 1.0} and result.correct is True
    summary = code_summary([result])
    assert summary["pass@1"] == 1.0 and summary["pass@10"] is None
    assert "n_samples >= 10" in summary["not_evaluable"]["pass@10"]


def test_answers_must_split_evenly(humaneval):
    with pytest.raises(ValueError, match="split evenly"):
        score_answers(humaneval[:2], ["x"] * 3, "completion", limits_for(5.0), model_id="m")


@pytest.mark.parametrize(
    "fields",
    [
        {"pass_at": {"pass@1": 0.5}},  # n=4, c=1 gives 0.25
        {"pass_at": {"pass@10": 1.0}},  # k > n
        {"pass_at": {"top1": 0.25}},
    ],
)
def test_item_pass_at_must_agree_with_its_counts(fields):
    base = {"id": "x/1", "benchmark": "x", "model_id": "m", "score": 0.25}
    with pytest.raises(ValueError, match="pass_at"):
        ItemResult(**base, n_samples=4, n_correct=1, **fields)
    assert ItemResult(**base, n_samples=4, n_correct=1, pass_at={"pass@1": 0.25}).pass_at


# --- what phase3_codegen's pass@k gates read -------------------------------------------------


@pytest.mark.parametrize("n", [1, 10])
def test_phase3_pass_at_k_gates_read_scored_results(mirror, tmp_path, n):
    """Scored MBPP results, written and read back, through the shipped policy's gates."""
    from promgate.gates.outcome import Reason, Status
    from promgate.gates.policy import load_policy
    from promgate.gates.suite_gates import absolute_outcome
    from promgate.results import read_results, write_results

    items = load_mbpp(mirror / "mbpp/mbpp.jsonl")[:8]
    wrong = "def nothing():\n    pass\n"
    solved = max(1, n * 6 // 10)  # passing samples of each solved item (its one, at n = 1)
    answers = []
    for i, item in enumerate(items):
        good = solved if i < 4 else 0  # half the items solved, half never
        answers += [item.target] * good + [wrong] * (n - good)
    results = score_answers(items, answers, "completion", limits_for(5.0), model_id="lora-s42")
    path = tmp_path / "mbpp.jsonl"
    write_results(path, results)
    rows = read_results(path)
    policy = load_policy("conf/policy/phase3_codegen.yaml")
    p1 = absolute_outcome("pass_at_1_mvp", "lora-s42", rows, str(path), policy)
    p10 = absolute_outcome("pass_at_10_mvp", "lora-s42", rows, str(path), policy)
    expected_p1 = 50.0 * solved / n  # 50 % greedy; 30 % from 10 samples
    assert p1.status is Status.PASS and p1.evidence["value_pct"] == pytest.approx(expected_p1)
    if n == 1:
        assert (p10.status, p10.reason) == (Status.BLOCKED, Reason.MISSING_EVIDENCE)
    else:
        assert p10.status is Status.PASS and p10.evidence["value_pct"] == pytest.approx(50.0)


# --- the pipeline path on the real model -------------------------------------------------------


@pytest.mark.model
def test_sampled_code_evaluation_on_the_real_model(baseline, humaneval, tmp_path):
    """Requests -> hf backend -> sandbox -> results and metrics, twice with the same seeds."""
    import json

    from promgate.config import EvalConfig
    from promgate.models.hf_backend import HFBackend
    from promgate.results import read_results
    from promgate.scoring.runner import evaluate_model

    backend = HFBackend(baseline, batch_size=4, model_hash="0" * 64)
    cfg = EvalConfig(
        batch_size=4,
        max_new_tokens={"humaneval": 24},
        code_timeout_s=5.0,
        threads=1,
        code_prompt="chat",
        code_sampling=CodeSamplingConfig(n=3, temperature=0.8, top_p=0.95, seed=5),
    )
    runs = []
    for attempt in ("a", "b"):
        metrics = tmp_path / attempt / "metrics.json"
        evaluate_model(
            backend,
            {"humaneval": humaneval[:2]},
            cfg,
            tmp_path / attempt,
            metrics,
            model_id="baseline",
        )
        runs.append((read_results(tmp_path / attempt / "humaneval.jsonl"), metrics))
    (results, metrics), (again, _) = runs
    assert [r.n_samples for r in results] == [3, 3] and all(
        r.n_correct is not None for r in results
    )
    assert all(set(r.pass_at) == {"pass@1"} for r in results)
    assert [r.prediction for r in results] == [r.prediction for r in again]  # seeded
    summary = json.loads(metrics.read_text())["benchmarks"]["humaneval"]
    assert summary["pass@10"] is None and "pass@10" in summary["not_evaluable"]
    assert summary["n_samples"] == [3] and summary["sandbox"]["backend"]
