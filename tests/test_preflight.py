"""Preflight on real prepared (smoke-sized) data: passes when labels and the baseline line up,
stops with a named blocker (and its report on disk) when they do not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from e2e_helpers import run, scratch_clone, user_env
from promgate.data.prepare import prepare
from promgate.preflight import PreflightError, read_report, require_passed, run_preflight


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _baseline(root: Path) -> None:
    """A baseline results file per prepared benchmark, one result per item."""
    for bench in json.loads((root / "data/prepared/manifest.json").read_text())["benchmarks"]:
        items = _lines(root / "data/prepared" / f"{bench}.jsonl")
        results = [
            {
                "id": item["id"],
                "benchmark": bench,
                "model_id": "baseline",
                "stratum": item["metadata"]["stratum"],
                "correct": i % 2 == 0,
            }
            for i, item in enumerate(items)
        ]
        _write(root / "results/baseline" / f"{bench}.jsonl", results)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, mirror, params) -> Path:
    root = tmp_path_factory.mktemp("preflight")
    benchmarks = params.data.benchmarks
    prepare(benchmarks, 4, {}, seed=1234, out_dir=root / "data/prepared", mirror=mirror)
    _baseline(root)
    return root


@pytest.fixture
def project(prepared, tmp_path) -> Path:
    import shutil

    shutil.copytree(prepared, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_real_prepared_data_passes_with_power_warnings(project, params):
    report = run_preflight(params, project)
    assert report.passed and report.blockers == 0
    assert read_report(project / "reports/preflight.json") == report
    arc = report.benchmarks["arc_easy"]
    assert arc.labels.items == arc.labels.labelled == 4
    assert arc.baseline is not None and arc.baseline.aligned
    # Four items cannot detect +3 pp: recorded as a warning, never a blocker.
    assert arc.power is not None and not arc.power.detectable
    warned = {f.benchmark for f in report.findings if f.check == "power"}
    assert "arc_easy" in warned
    assert require_passed(project / "reports/preflight.json").passed


def test_an_item_without_its_label_is_a_named_blocker(project, params):
    path = project / "data/prepared/gsm8k.jsonl"
    rows = _lines(path)
    rows[1]["target"] = "  "
    _write(path, rows)
    with pytest.raises(PreflightError, match="no label") as err:
        run_preflight(params, project)
    assert (err.value.path, err.value.line, err.value.field) == (
        "data/prepared/gsm8k.jsonl",
        2,
        "target",
    )
    report = read_report(project / "reports/preflight.json")  # written before the error
    blockers = [f for f in report.findings if f.severity == "blocker"]
    assert not report.passed and blockers[0].field == "target"
    with pytest.raises(PreflightError, match="gsm8k"):
        require_passed(project / "reports/preflight.json")


def test_a_stratum_without_labelled_items_is_a_blocker(project, params):
    path = project / "data/prepared/mmlu.jsonl"
    rows = _lines(path)
    gone = rows[0]["metadata"]["stratum"]
    _write(path, [r for r in rows if r["metadata"]["stratum"] != gone])
    _baseline(project)  # the baseline follows the file, so only the stratum is at fault
    with pytest.raises(PreflightError, match=f"stratum '{gone}'"):
        run_preflight(params, project)


def test_a_baseline_missing_an_item_is_a_named_blocker(project, params):
    path = project / "results/baseline/piqa.jsonl"
    rows = _lines(path)
    _write(path, rows[1:])
    with pytest.raises(PreflightError, match=f"no baseline result: {rows[0]['id']}") as err:
        run_preflight(params, project)
    assert err.value.path == "results/baseline/piqa.jsonl"
    report = read_report(project / "reports/preflight.json")
    assert report.benchmarks["piqa"].baseline.missing == 1


def test_a_baseline_with_another_stratum_is_misaligned(project, params):
    path = project / "results/baseline/arc_challenge.jsonl"
    rows = _lines(path)
    rows[0]["stratum"] = "somewhere-else"
    _write(path, rows)
    with pytest.raises(PreflightError, match="another stratum"):
        run_preflight(params, project)


def test_no_report_means_no_training(tmp_path):
    with pytest.raises(PreflightError, match="run the preflight stage first"):
        require_passed(tmp_path / "reports/preflight.json")


def test_the_stage_stops_with_exit_2_and_leaves_its_report(prepared, tmp_path):
    repo = scratch_clone(tmp_path / "repo")
    import shutil

    shutil.copytree(prepared, repo, dirs_exist_ok=True)
    path = repo / "results/baseline/winogrande.jsonl"
    rows = _lines(path)
    _write(path, [*rows, rows[0]])  # a duplicate id
    result = run(["python", "stages/preflight.py"], repo, user_env(), check=False)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "PreflightError" in last and "results/baseline/winogrande.jsonl" in last
    assert "more than once" in last
    report = json.loads((repo / "reports/preflight.json").read_text())
    assert report["passed"] is False


def _suite(root: Path) -> None:
    """A contamination-resistant suite: MMLU's items renamed, and an empty GSM8K variant."""
    rows = _lines(root / "data/prepared/mmlu.jsonl")
    for row in rows:
        row["id"] = row["id"].replace("mmlu/", "mmlu_perturbed/")
        row["benchmark"] = "mmlu_perturbed"
    _write(root / "data/perturbed/mmlu_perturbed.jsonl", rows)
    _write(root / "data/perturbed/gsm8k_perturbed.jsonl", [])
    strata = {r["metadata"]["stratum"]: 1 for r in rows}
    manifest = {"benchmarks": {"mmlu_perturbed": {"strata": strata}, "gsm8k_perturbed": {}}}
    (root / "data/perturbed/manifest.json").write_text(json.dumps(manifest))


def test_a_suite_benchmark_the_pipeline_does_not_evaluate_only_warns(project, params):
    _suite(project)
    report = run_preflight(params, project)
    assert report.passed
    warned = {(f.benchmark, f.message) for f in report.findings if f.severity == "warning"}
    assert ("gsm8k_perturbed", "no items") in warned
    assert report.benchmarks["mmlu_perturbed"].role == "contamination_suite"


def test_an_evaluated_suite_benchmark_without_items_is_a_blocker(project, params):
    _suite(project)
    result = {"id": "gsm8k_perturbed/1", "benchmark": "gsm8k_perturbed", "model_id": "baseline"}
    _write(project / "results/baseline/gsm8k_perturbed.jsonl", [{**result, "correct": True}])
    with pytest.raises(PreflightError, match="gsm8k_perturbed: no items"):
        run_preflight(params, project)
