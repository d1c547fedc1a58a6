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
    assert set(report["candidates"]) == {"lora-s42", "lora-s7"}
    shown = run(["dvc", "exp", "show", "--json"], path, env).stdout
    assert "lora-s7" in shown
