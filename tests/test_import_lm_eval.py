"""`promgate import lm-eval` on a real lm-eval-harness run (frozen in tests/data/lmeval_slice/run).

The run is lm-eval 0.4.13 with --log_samples on bench/lmeval/tasks/'s five tasks (--limit 3),
SmolLM2-135M-Instruct fp32 on CPU. Imported, then gated, the per-benchmark accuracies must be
the ones lm-eval's own results file reports; every malformed input is an error naming the
file, line and field.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from promgate.cli import main
from promgate.errors import SchemaError
from promgate.importers.lm_eval import (
    find_runs,
    import_lm_eval,
    import_runs,
    load_eval_items,
    write_import,
)
from promgate.results import read_results

RUN = Path(__file__).parent / "data" / "lmeval_slice" / "run"
BENCHMARKS = {
    "promgate_arc_easy": "arc_easy",
    "promgate_arc_challenge": "arc_challenge",
    "promgate_piqa": "piqa",
    "promgate_winogrande": "winogrande",
    "promgate_mmlu": "mmlu",
}


@pytest.fixture(scope="module")
def items(mirror):
    """The five benchmarks' eval splits, read once for the tests that break the run."""
    return load_eval_items(sorted(set(BENCHMARKS.values())), mirror)


@pytest.fixture
def run_copy(tmp_path) -> Path:
    """A writable copy of the frozen run, for tests that break it."""
    return Path(shutil.copytree(RUN, tmp_path / "run"))


def _reported() -> dict[str, float]:
    (run,) = find_runs(RUN)
    return {BENCHMARKS[t]: r["acc,none"] for t, r in run.results["results"].items()}


def _samples(root: Path, task: str) -> Path:
    (path,) = root.glob(f"samples_{task}_*.jsonl")
    return path


def _rewrite(path: Path, line: int, edit) -> None:
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[line - 1] = edit(rows[line - 1])
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_import_maps_every_doc_and_keeps_lm_evals_scores(mirror, tmp_path):
    imported = import_lm_eval(RUN, mirror=mirror)
    assert sorted(imported.items) == sorted(BENCHMARKS.values())
    summary = write_import(imported, tmp_path / "out", "smollm2")
    reported = _reported()
    for benchmark, items in imported.items.items():
        results = read_results(tmp_path / "out" / f"{benchmark}.jsonl")
        assert [r.id for r in results] == sorted(r.id for r in results)
        assert all(r.id.startswith(f"{benchmark}/") and r.model_id == "smollm2" for r in results)
        accuracy = sum(r.value for r in results) / len(results)
        assert accuracy == pytest.approx(reported[benchmark], abs=1e-12)
        assert summary["benchmarks"][benchmark]["accuracy"] == pytest.approx(accuracy)
        for result, item in zip(results, items, strict=True):
            assert result.choice_logprobs == item.logprobs
            assert result.stratum == item.item.metadata.stratum
            assert 0.0 <= result.confidence <= 1.0
            # The requests lm-eval sent are exactly the pairs promgate scores.
            assert item.same_requests is True
    wino = read_results(tmp_path / "out" / "winogrande.jsonl")
    assert all(r.cluster and r.id.startswith(f"winogrande/{r.cluster}") for r in wino)


def test_logprobs_come_from_the_sample_lines(items):
    imported = import_runs(find_runs(RUN), items)
    first = min(imported.items["piqa"], key=lambda i: i.doc_id)
    row = json.loads(_samples(RUN, "promgate_piqa").read_text().splitlines()[0])
    assert first.item.id == "piqa/valid/0"
    assert first.logprobs == [float(r[0]) for r in row["filtered_resps"]]
    assert first.acc == bool(row["acc"]) and first.acc_norm == bool(row["acc_norm"])


def test_cli_import_then_gate_reports_lm_evals_accuracies(mirror, tmp_path, capsys):
    root = Path(__file__).resolve().parent.parent
    for name in ("baseline", "smollm2-copy"):
        argv = ["import", "lm-eval", str(RUN), "--out", str(tmp_path / name)]
        assert main([*argv, "--mirror", str(mirror)]) == 0
    assert "promgate_mmlu -> mmlu: n=3" in capsys.readouterr().out
    gate = tmp_path / "gate" / "gate.json"
    argv = ["gate", "--root", str(root), "--baseline", str(tmp_path / "baseline")]
    argv += ["--candidate", str(tmp_path / "smollm2-copy"), "--policy", "miso_v1"]
    assert main([*argv, "--out", str(gate)]) == 0
    report = json.loads(gate.read_text())
    assert sorted(report["benchmarks"]) == sorted(BENCHMARKS.values())
    gated = report["candidates"]["smollm2-copy"]["benchmarks"]
    for benchmark, acc in _reported().items():
        assert gated[benchmark]["baseline_acc"] == pytest.approx(acc, abs=1e-12)
        assert gated[benchmark]["candidate_acc"] == pytest.approx(acc, abs=1e-12)
        assert gated[benchmark]["delta"] == 0.0


def test_stock_task_names_map_too(items, run_copy):
    """lm-eval's own arc_easy / mmlu_<subject> tasks log the same docs under other names."""
    for old, new in (("promgate_arc_easy", "arc_easy"), ("promgate_mmlu", "mmlu_abstract_algebra")):
        path = _samples(run_copy, old)
        path.rename(path.with_name(path.name.replace(old, new)))
        (results,) = run_copy.glob("results_*.json")
        data = json.loads(results.read_text())
        for key in ("results", "n-samples"):
            data[key][new] = data[key].pop(old)
        results.write_text(json.dumps(data))
    imported = import_runs(find_runs(run_copy), items)
    assert {i.task for i in imported.items["arc_easy"]} == {"arc_easy"}
    assert all(i.item.id.startswith("mmlu/abstract_algebra/") for i in imported.items["mmlu"])


def _error(run_copy: Path, items) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        import_runs(find_runs(run_copy), items)
    return caught.value


def test_unknown_task_is_named_with_its_results_file(items, run_copy):
    (results,) = run_copy.glob("results_*.json")
    data = json.loads(results.read_text())
    data["results"]["hellaswag"] = {"acc,none": 0.5}
    results.write_text(json.dumps(data))
    err = _error(run_copy, items)
    assert err.path == str(results) and err.field == "results.hellaswag"
    assert "unknown lm-eval task" in str(err)


def test_missing_metric_names_file_line_and_field(items, run_copy):
    path = _samples(run_copy, "promgate_winogrande")
    _rewrite(path, 2, lambda s: json.dumps({k: v for k, v in json.loads(s).items() if k != "acc"}))
    err = _error(run_copy, items)
    assert (err.path, err.line, err.field) == (str(path), 2, "acc")


def test_malformed_line_and_bad_loglikelihood_are_located(items, run_copy):
    path = _samples(run_copy, "promgate_arc_easy")
    _rewrite(path, 3, lambda s: s[:-5])
    err = _error(run_copy, items)
    assert (err.path, err.line) == (str(path), 3)

    shutil.copyfile(RUN / path.name, path)

    def nan_first(s: str) -> str:
        row = json.loads(s)
        row["filtered_resps"][0][0] = "nan"
        return json.dumps(row)

    _rewrite(path, 1, nan_first)
    err = _error(run_copy, items)
    assert (err.line, err.field) == (1, "filtered_resps[0]")


def test_a_doc_that_is_not_a_promgate_item_is_named(items, run_copy):
    path = _samples(run_copy, "promgate_piqa")

    def other_goal(s: str) -> str:
        row = json.loads(s)
        row["doc"]["goal"] = "How do I test an importer?"
        return json.dumps(row)

    _rewrite(path, 2, other_goal)
    err = _error(run_copy, items)
    assert err.path == str(path) and "1 of 3 docs map to no item" in str(err)
    assert "line 2 (doc_id 1)" in str(err)


def test_samples_that_disagree_with_the_results_file_are_refused(items, run_copy):
    (results,) = run_copy.glob("results_*.json")
    data = json.loads(results.read_text())
    data["results"]["promgate_piqa"]["acc,none"] += 1 / 3
    results.write_text(json.dumps(data))
    err = _error(run_copy, items)
    assert err.field == "results.promgate_piqa.acc,none"


def test_an_acc_that_contradicts_the_loglikelihoods_is_refused(items, run_copy):
    path = _samples(run_copy, "promgate_arc_challenge")

    def flip(s: str) -> str:
        row = json.loads(s)
        row["acc"] = 1.0 - float(row["acc"])
        return json.dumps(row)

    _rewrite(path, 1, flip)
    err = _error(run_copy, items)
    assert (err.path, err.line, err.field) == (str(path), 1, "acc")


def test_duplicate_doc_and_missing_samples_file(items, run_copy):
    path = _samples(run_copy, "promgate_mmlu")
    rows = path.read_text().splitlines()
    path.write_text("\n".join([*rows, rows[0]]) + "\n")
    err = _error(run_copy, items)
    assert (err.line, err.field) == (len(rows) + 1, "doc_id")

    path.unlink()
    err = _error(run_copy, items)
    assert err.field == "results.promgate_mmlu" and "--log_samples" in str(err)


def test_cli_error_exits_2_naming_the_file(mirror, run_copy, tmp_path, capsys):
    path = _samples(run_copy, "promgate_winogrande")
    _rewrite(path, 1, lambda s: s.replace('"doc_id": 0', '"doc_id": "zero"'))
    argv = ["import", "lm-eval", str(run_copy), "--out", str(tmp_path / "o")]
    assert main([*argv, "--mirror", str(mirror)]) == 2
    err = capsys.readouterr().err
    assert path.name in err and "line 1" in err and "doc_id" in err
    assert not (tmp_path / "o").exists()
