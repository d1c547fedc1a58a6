"""The README's story, end to end: real DVC, real Hydra, real SmolLM2, smoke-sized data."""

from __future__ import annotations

import json
import time

import pytest

from e2e_helpers import run, scratch_clone, user_env

pytestmark = [pytest.mark.e2e, pytest.mark.model]

EXIT_FOR = {"GO": 0, "NO_GO": 1, "BLOCKED": 3}


@pytest.fixture(scope="module")
def repo(tmp_path_factory, mirror):
    path = scratch_clone(tmp_path_factory.mktemp("e2e"))
    env = user_env(PROMGATE_MIRROR=str(mirror))
    run(["promgate", "config", "sync", "profile=smoke"], path, env)
    run(["git", "commit", "-qam", "smoke profile"], path, env)
    run(["dvc", "repro"], path, env)
    return path, env


def test_repro_writes_a_decision_with_evidence(repo):
    path, env = repo
    report = json.loads((path / "reports/gate.json").read_text())
    assert report["decision"] in EXIT_FOR
    params_benchmarks = [
        "arc_easy",
        "arc_challenge",
        "mmlu",
        "winogrande",
        "piqa",
        "gsm8k",
        "humaneval",
    ]
    candidate = report["candidates"]["lora-s42"]
    for benchmark in params_benchmarks:
        row = candidate["benchmarks"][benchmark]
        for key in (
            "n",
            "baseline_acc",
            "candidate_acc",
            "delta_pp",
            "ci_low_pp",
            "ci_high_pp",
            "p_value",
        ):
            assert key in row, (benchmark, key)
        assert row["n"] == 4
        assert row["clean"]["n"] + row["clean"]["n_excluded"] == 4  # contamination flags read
    words = (path / "reports/promotion.md").read_text()
    assert report["decision"].replace("_", "-") in words or report["decision"] in words
    page = (path / "reports/promotion.html").read_text()
    assert "<svg" in page and "arc_easy" in page
    check = run(["promgate", "check", "reports/gate.json"], path, env, check=False)
    assert check.returncode == EXIT_FOR[report["decision"]]


def test_results_are_per_item_and_baseline_is_shared(repo):
    path, _ = repo
    for model_id in ("baseline", "lora-s42"):
        lines = (path / "results" / model_id / "arc_easy.jsonl").read_text().splitlines()
        assert len(lines) == 4
        assert all(json.loads(line)["model_id"] == model_id for line in lines)


def test_second_repro_is_a_no_op(repo):
    path, env = repo
    started = time.perf_counter()
    result = run(["dvc", "repro"], path, env)
    elapsed = time.perf_counter() - started
    assert "Running stage" not in result.stdout
    assert elapsed < 30, elapsed  # generous for a loaded CI box; typically ~3 s


def test_metrics_are_visible_to_dvc(repo):
    path, env = repo
    shown = run(["dvc", "metrics", "show", "--json"], path, env).stdout
    assert "arc_easy" in shown and "accuracy" in shown


def test_new_seed_trains_only_that_seed(repo):
    path, env = repo
    before = (path / "results/baseline/arc_easy.jsonl").stat().st_mtime_ns
    result = run(["dvc", "exp", "run", "-S", "profile=smoke", "-S", "seeds=[42,7]"], path, env)
    out = result.stdout
    assert "Running stage 'train@7'" in out and "Running stage 'evaluate@7'" in out
    assert "Running stage 'train@42'" not in out
    assert "Running stage 'baseline'" not in out
    assert (path / "results/baseline/arc_easy.jsonl").stat().st_mtime_ns == before
    report = json.loads((path / "reports/gate.json").read_text())
    # The smoke profile cuts one variant (per_layer) from each seed's probe adapter.
    assert set(report["candidates"]) == {
        "lora-s42",
        "lora-s42-per_layer",
        "lora-s7",
        "lora-s7-per_layer",
    }
    assert "Running stage 'variants@7-per_layer'" in out
    assert "Running stage 'evaluate_variant@7-per_layer'" in out
    shown = run(["dvc", "exp", "show", "--json"], path, env).stdout
    assert "lora-s7" in shown


def test_preflight_repro_and_training_evidence_reach_the_gate(repo):
    path, _ = repo
    assert json.loads((path / "reports/preflight.json").read_text())["passed"] is True
    repro = json.loads((path / "metrics/repro.json").read_text())
    assert repro["reproduced"] is True and repro["loss_curve_equal"] and repro["weights_equal"]
    train = json.loads((path / "metrics/train/lora-s42.json").read_text())
    assert train["status"] == "completed" and train["merge_check"]["passed"] is True
    for field in ("nonfinite_steps", "val_loss_first", "val_loss_final", "tokens_per_s"):
        assert train[field] is not None, field
    report = json.loads((path / "reports/gate.json").read_text())
    status = {o["gate"]: o["status"] for o in report["outcomes"]}
    assert status["repro"] == status["preflight"] == status["merge_check"] == "PASS"


def test_a_diverging_learning_rate_blocks_the_candidate(repo):
    path, env = repo
    run(["dvc", "exp", "run", "-S", "profile=smoke", "-S", "train.learning_rate=1e6"], path, env)
    train = json.loads((path / "metrics/train/lora-s42.json").read_text())
    assert train["status"] == "diverged" and train["adapter_sha256"] is None
    failed = "models/candidates/lora-s42/FAILED.json"
    assert (path / failed).is_file() and (path / "results/lora-s42/UNAVAILABLE.json").is_file()
    report = json.loads((path / "reports/gate.json").read_text())
    assert report["decision"] == "BLOCKED"
    candidate = report["candidates"]["lora-s42"]
    assert candidate["decision"] == "BLOCKED"
    diverged = [o for o in candidate["outcomes"] if o["reason"] == "DIVERGED"]
    assert diverged and all(failed in o["message"] and "diverged" in o["message"] for o in diverged)
    assert run(["promgate", "check", "reports/gate.json"], path, env, check=False).returncode == 3


def test_a_queued_seed_sweep_runs_in_the_background(repo):
    path, env = repo
    run(["dvc", "exp", "run", "--queue", "-S", "profile=smoke", "-S", "seeds=[11]"], path, env)
    run(["dvc", "queue", "start"], path, env)
    deadline = time.monotonic() + 3600
    while True:
        status = run(["dvc", "queue", "status"], path, env).stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        assert time.monotonic() < deadline, status
        time.sleep(10)
    run(["dvc", "queue", "stop"], path, env, check=False)  # no idle worker left behind
    assert "Success" in status and "Failed" not in status, status
    shown = run(["dvc", "exp", "show", "--json"], path, env).stdout
    assert "lora-s11" in shown
