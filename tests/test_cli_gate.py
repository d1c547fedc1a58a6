"""`promgate gate` and `promgate check` as a user runs them: folders in, gate.json out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gate_helpers import POLICY_DATA, REPO, merged, suite
from promgate.cli import main

BENCHES = ["arc", "mmlu"]


def _promgate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("promgate")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "promgate.cli"]
    return subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def policy_file(tmp_path) -> Path:
    path = tmp_path / "policy.yaml"
    data = merged(POLICY_DATA, {"bootstrap": {"resamples": 1_000}})
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _gate_args(root: Path, policy: Path, candidates: list[str], out: str = "out/gate.json"):
    args = ["gate", "--baseline", str(root / "baseline"), "--policy", str(policy)]
    for cid in candidates:
        args += ["--candidate", str(root / cid)]
    return [*args, "--out", str(root / out)]


def test_gate_then_check_in_a_subprocess_go(tmp_path, policy_file):
    suite(tmp_path, {"lora-s1": {"arc": 24, "mmlu": 24}, "lora-s2": {"arc": 20, "mmlu": 24}})
    done = _promgate(*_gate_args(tmp_path, policy_file, ["lora-s1", "lora-s2"]), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "decision: GO" in done.stdout
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"gate.json", "gate.md", "gate.html"}
    data = json.loads((out / "gate.json").read_text())
    assert data["benchmarks"] == BENCHES and list(data["candidates"]) == ["lora-s1", "lora-s2"]
    assert data["seeds"]["lora"]["n_seeds"] == 2
    check = _promgate("check", str(out / "gate.json"), cwd=tmp_path)
    assert check.returncode == 0 and "GO under policy test@1" in check.stderr


@pytest.mark.parametrize(
    ("shifts", "missing", "code"),
    [
        ({"c": {"arc": 24, "mmlu": -8}}, False, 1),  # a regression: NO_GO
        ({"c": {"arc": 24, "mmlu": 24}}, True, 3),  # a results file gone: BLOCKED
    ],
)
def test_check_exit_codes_follow_the_decision(tmp_path, policy_file, shifts, missing, code):
    dirs = suite(tmp_path, shifts)
    if missing:
        (dirs["c"] / "mmlu.jsonl").unlink()
    assert main(_gate_args(tmp_path, policy_file, ["c"])) == 0  # gate records, never fails
    check = _promgate("check", str(tmp_path / "out/gate.json"), cwd=tmp_path)
    assert check.returncode == code, check.stderr


def test_a_missing_candidate_folder_is_blocked_not_a_crash(tmp_path, policy_file, capsys):
    suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    assert main(_gate_args(tmp_path, policy_file, ["c", "nowhere"])) == 0
    assert "decision: BLOCKED" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "out/gate.json")]) == 3


def test_same_inputs_give_byte_identical_outputs(tmp_path, policy_file):
    suite(tmp_path, {"c": {"arc": 24, "mmlu": 3}})
    runs = []
    for out in ("a/gate.json", "b/gate.json"):
        assert main(_gate_args(tmp_path, policy_file, ["c"], out)) == 0
        folder = (tmp_path / out).parent
        runs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
    assert runs[0] == runs[1]


def test_benchmarks_default_to_the_baseline_folder_minus_other_gates(tmp_path, policy_file):
    suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}}, benches=["arc", "mmlu", "mmlu_perturbed"])
    data = yaml.safe_load(policy_file.read_text())
    data["gates"] = {"contamination_suite": {"benchmarks": ["mmlu_perturbed"]}}
    policy_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert main(_gate_args(tmp_path, policy_file, ["c"])) == 0
    report = json.loads((tmp_path / "out/gate.json").read_text())
    assert report["benchmarks"] == BENCHES
    assert report["other_benchmarks"] == {"contamination_suite": ["mmlu_perturbed"]}
    assert main([*_gate_args(tmp_path, policy_file, ["c"]), "--benchmark", "arc"]) == 0
    assert json.loads((tmp_path / "out/gate.json").read_text())["benchmarks"] == ["arc"]


def test_a_shipped_policy_by_name(tmp_path, capsys):
    suite(tmp_path, {"c": {"arc": 24, "mmlu": 24}})
    args = _gate_args(tmp_path, Path("x"), ["c"])
    args[args.index("x")] = "claim_gate"
    assert main([*args, "--root", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "out/gate.json").read_text())["policy"]["name"] == "claim_gate"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["gate", "--baseline", "b"], "--candidate, --policy, --out"),
        (
            ["gate", "--baseline", "b", "--candidate", "c", "--policy", "nope", "--out", "o.json"],
            "no policy named 'nope'",
        ),
        (
            [
                "gate",
                "--baseline",
                "b",
                "--candidate",
                "x/c",
                "--candidate",
                "y/c",
                "--policy",
                "miso_v1",
                "--out",
                "o.json",
            ],
            "share a name",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_out_must_not_be_a_report_path(tmp_path, policy_file, capsys):
    suite(tmp_path, {"c": {"arc": 24}})
    assert main(_gate_args(tmp_path, policy_file, ["c"], out="out/gate.md")) == 2
    assert "--out names gate.json" in capsys.readouterr().err


def test_check_usage_error_is_2():
    done = _promgate("check", "a.json", "b.json", cwd=REPO)
    assert done.returncode == 2


def test_without_folder_flags_the_gate_runs_from_params_yaml(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["seeds"] = [1]
    params["data"]["benchmarks"] = BENCHES
    params["policy"]["bootstrap"]["resamples"] = 1_000
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True))
    suite(tmp_path / "results", {"lora-s1": {"arc": 24, "mmlu": 24}})
    assert main(["gate", "--root", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "reports/gate.json").read_text())
    assert data["policy"]["name"] == "miso_v1" and (tmp_path / "metrics/gate.json").exists()
    # miso_v1 without its mandatory evidence (repro, dedupe, ...) is BLOCKED, never GO.
    assert data["decision"] == "BLOCKED"
