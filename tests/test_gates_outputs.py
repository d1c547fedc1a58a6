"""Gate outputs on disk (gate.json, metrics, reports) and the CI exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gate_helpers import BENCHES, POLICY, suite
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.outputs import check_exit_code, write_gate_outputs
from promgate.gates.report import GateReport


def test_outputs_round_trip_and_metrics_are_numbers_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dirs = suite(Path("r"), {"good": {"arc": 24, "mmlu": 24}, "bad": {"mmlu": -8}})
    report = evaluate_promotion(Path("r/baseline"), dirs, BENCHES, POLICY)
    paths = write_gate_outputs(report, Path("reports"), Path("metrics/gate.json"), policy=POLICY)
    data = json.loads(paths["gate"].read_text())
    assert GateReport.model_validate(data) == report
    assert data["policy"]["sha256"] and data["generated_by"]["promgate"]
    assert "r/baseline/arc.jsonl" in data["inputs"]  # relative: stable across checkouts
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["decision_go"] == 0 and metrics["good"]["decision_go"] == 1
    assert metrics["bad"]["mmlu"]["delta_pp"] == -2.0
    assert (
        metrics["good"]["arc"]["p_adjusted"]
        == report.candidates["good"].benchmarks["arc"].p_adjusted
    )
    assert metrics["seeds"]["good"]["pass_rate"] == 1.0  # each id is its own recipe

    def numbers_only(node):
        if isinstance(node, dict):
            return all(numbers_only(v) for v in node.values())
        return isinstance(node, (int, float)) and not isinstance(node, bool)

    assert numbers_only(metrics)
    assert paths["promotion_md"].read_text().startswith("# Promotion decision: NO_GO")
    assert "<title>Promotion decision: NO_GO</title>" in paths["promotion_html"].read_text()


def test_the_same_inputs_give_byte_identical_outputs(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 3}})
    written = []
    for run in ("a", "b"):
        report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
        paths = write_gate_outputs(
            report, tmp_path / run, tmp_path / run / "metrics.json", policy=POLICY
        )
        written.append({k: p.read_bytes() for k, p in paths.items()})
    assert written[0] == written[1]
    assert set(written[0]) == {"gate", "promotion_md", "promotion_html", "metrics"}


def test_a_different_policy_writes_nothing(tmp_path):
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    other = POLICY.model_copy(update={"version": "2"})
    with pytest.raises(ValueError, match="not the one the report was judged under"):
        write_gate_outputs(report, tmp_path / "reports", tmp_path / "m.json", policy=other)
    assert not (tmp_path / "reports").exists() and not (tmp_path / "m.json").exists()


@pytest.mark.parametrize(
    ("shifts", "code"),
    [
        ({"c": {"arc": 24, "mmlu": 24}}, 0),
        ({"c": {"arc": 24, "mmlu": -8}}, 1),
        ({"c": {"arc": 24, "mmlu": 24}, "gone": None}, 3),
    ],
)
def test_check_exit_code_follows_the_decision(tmp_path, shifts, code):
    dirs = suite(tmp_path, {k: v for k, v in shifts.items() if v is not None})
    if "gone" in shifts:
        dirs["gone"] = tmp_path / "gone"
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    paths = write_gate_outputs(
        report, tmp_path / "reports", tmp_path / "metrics.json", policy=POLICY
    )
    out = io.StringIO()
    assert check_exit_code(paths["gate"], stream=out) == code
    assert report.decision.value in out.getvalue()


@pytest.mark.parametrize(
    "content",
    ["", "{truncated", '{"decision": "GO"}', "[]", '"GO"'],
)
def test_check_exit_code_fails_closed_on_a_corrupt_file(tmp_path, content):
    path = tmp_path / "gate.json"
    path.write_text(content)
    out = io.StringIO()
    assert check_exit_code(path, stream=out) == 3
    assert "fail closed" in out.getvalue()


def test_check_exit_code_fails_closed_on_missing_file_and_on_tampering(tmp_path):
    assert check_exit_code(tmp_path / "none.json", stream=io.StringIO()) == 3
    dirs = suite(tmp_path, {"c": {"arc": 24, "mmlu": -8}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    data = report.model_dump(mode="json")
    data["decision"] = data["candidates"]["c"]["decision"] = "GO"  # outcomes still say FAIL
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(data))
    out = io.StringIO()
    assert check_exit_code(path, stream=out) == 3
    assert "outcomes say otherwise" in out.getvalue()


def test_check_fails_closed_when_a_suite_outcome_was_edited(tmp_path):
    dirs = suite(tmp_path, {"lora-s1": {"arc": 24, "mmlu": 24}, "lora-s2": {"mmlu": -8}})
    report = evaluate_promotion(tmp_path / "baseline", dirs, BENCHES, POLICY)
    data = report.model_dump(mode="json")
    assert data["suite_outcomes"][0]["gate"] == "seeds"
    data["suite_outcomes"][0]["status"] = "PASS"  # the flat list still says FAIL
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(data))
    out = io.StringIO()
    assert check_exit_code(path, stream=out) == 3
    assert "flat outcome list" in out.getvalue()
