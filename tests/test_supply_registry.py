"""Promotion and rollback with real git, real GTO tags and a real DVC remote."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from promgate.io import read_json
from promgate.supply import layout as L
from promgate.supply import ledger
from promgate.supply.attest import run_attest
from promgate.supply.errors import PromotionRefusedError
from promgate.supply.recompute import recomputed_outputs
from promgate.supply.registry import current_version, promote, rollback
from promgate.supply.verify import verify_attestations
from supply_helpers import make_project, reuse_environment_sbom, run_cli

GIT_ENV = {
    "GIT_AUTHOR_NAME": "release-owner",
    "GIT_AUTHOR_EMAIL": "owner@example.org",
    "GIT_COMMITTER_NAME": "release-owner",
    "GIT_COMMITTER_EMAIL": "owner@example.org",
}


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch):
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    reuse_environment_sbom(monkeypatch)


def sh(cwd: Path, *cmd: str) -> str:
    exe = Path(sys.executable).parent / cmd[0]
    argv = [str(exe) if exe.exists() else cmd[0], *cmd[1:]]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stdout}{done.stderr}"
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-qm", message)
    return sh(root, "git", "rev-parse", "HEAD")


def attested_repo(root: Path, *, flips: int = 40) -> Path:
    make_project(root, flips=flips)
    (root / ".gitignore").write_text("/.promgate/\n")
    sh(root, "git", "init", "-q")
    commit_all(root, "evidence")
    run_attest(root)
    commit_all(root, "attest")
    return root


def retrain(root: Path, seed: int) -> None:
    """A new candidate checkpoint (same results, still GO), re-gated, re-attested, committed."""
    weights = root / f"models/candidates/lora-s{seed}/adapter_model.safetensors"
    weights.write_bytes(os.urandom(512))
    run_attest(root)
    commit_all(root, f"retrain lora-s{seed}")


def test_promote_then_rollback_moves_the_stage_tags(tmp_path):
    root = attested_repo(tmp_path / "repo")
    first = promote(root, candidate="lora-s1", reason="first release")
    assert first["version"] == "v0.1.0" and first["tags"] == ["model@v0.1.0", "model#prod#1"]
    assert current_version(root, "model", "prod") == "v0.1.0"
    retrain(root, 1)
    second = promote(root, candidate="lora-s1")
    assert second["version"] == "v0.2.0" and current_version(root, "model", "prod") == "v0.2.0"

    back = rollback(root, reason="latency regression in canary")
    assert back["version"] == "v0.1.0" and back["from_version"] == "v0.2.0"
    assert current_version(root, "model", "prod") == "v0.1.0"
    stage_tag = back["tags"][0]
    assert stage_tag == "model#prod#3"
    assert sh(root, "git", "rev-list", "-n1", stage_tag) == first["commit"]

    entries = ledger.verify_entries(root / L.LEDGER)
    assert [e["action"] for e in entries] == ["promote", "promote", "rollback"]
    with pytest.raises(PromotionRefusedError, match="no earlier signed GO promotion"):
        rollback(root)
    now = ledger.state_at(entries, ledger.parse_time(back["time"]))["model#prod"]
    assert now["version"] == "v0.1.0" and now["reason"] == "latency regression in canary"


def test_promote_refuses_no_go(tmp_path):
    root = attested_repo(tmp_path / "repo", flips=-40)
    assert read_json(root / L.DECISION)["decision"] == "NO_GO"
    with pytest.raises(PromotionRefusedError, match="decision is NO_GO"):
        promote(root, candidate="lora-s1")
    assert sh(root, "git", "tag") == ""


def test_promote_refuses_blocked(tmp_path):
    root = make_project(tmp_path / "repo")
    (root / "results/lora-s2/mmlu.jsonl").unlink()
    from promgate.config import load_params
    from promgate.pipeline import run_gate

    with contextlib.chdir(root):
        run_gate(load_params(root / "params.yaml"), root)
    sh(root, "git", "init", "-q")
    run_attest(root)
    commit_all(root, "blocked run")
    with pytest.raises(PromotionRefusedError, match="decision is BLOCKED"):
        promote(root, candidate="lora-s1")


def test_promote_refuses_uncommitted_evidence_and_tampering(tmp_path):
    root = attested_repo(tmp_path / "repo")
    (root / L.ATTESTATIONS / "notes.txt").write_text("draft\n")
    with pytest.raises(PromotionRefusedError, match="commit the evidence first"):
        promote(root, candidate="lora-s1")
    (root / L.ATTESTATIONS / "notes.txt").unlink()
    data = bytearray((root / "results/baseline/arc.jsonl").read_bytes())
    data[10] ^= 1
    (root / "results/baseline/arc.jsonl").write_bytes(bytes(data))
    from promgate.supply.errors import VerificationError

    with pytest.raises(VerificationError, match="signature:results:baseline"):
        promote(root, candidate="lora-s1")


def test_promote_needs_a_candidate_when_several_pass(tmp_path):
    root = attested_repo(tmp_path / "repo")
    with pytest.raises(PromotionRefusedError, match="--candidate"):
        promote(root)


def test_reviewer_clones_the_promotion_tag_pulls_and_verifies(tmp_path):
    root = make_project(tmp_path / "repo")
    (root / ".gitignore").write_text("/.promgate/\n")
    sh(root, "git", "init", "-q")
    sh(root, "dvc", "init", "-q")
    sh(root, "dvc", "config", "core.analytics", "false")
    sh(root, "dvc", "remote", "add", "-d", "local", str(tmp_path / "dvc-remote"))
    sh(root, "dvc", "add", "-q", "data/prepared", "results", "models/candidates")
    commit_all(root, "evidence (DVC-tracked)")
    run_attest(root)
    commit_all(root, "attest")
    sh(root, "dvc", "push", "-q")
    entry = promote(root, candidate="lora-s2")
    assert ".promgate/" not in sh(root, "git", "ls-files"), "the private key is never committed"
    shutil.copy(root / L.PUBLIC_KEY, tmp_path / "trusted.pub.pem")

    fresh = tmp_path / "fresh"
    sh(tmp_path, "git", "clone", "-q", str(root), str(fresh))
    sh(fresh, "git", "checkout", "-q", entry["tags"][0])
    assert not (fresh / "results").exists()
    sh(fresh, "dvc", "pull", "-q")

    report = verify_attestations(fresh, tmp_path / "trusted.pub.pem")
    assert report.ok, report.failures
    params = yaml.safe_load((fresh / "params.yaml").read_text())
    with recomputed_outputs(fresh, params) as scratch:
        recomputed = (scratch / L.GATE_JSON).read_bytes()
    assert recomputed == (fresh / L.GATE_JSON).read_bytes() == (root / L.GATE_JSON).read_bytes()


def test_cli_promote_ledger_and_rollback(tmp_path, capsys):
    root = attested_repo(tmp_path / "repo")
    assert run_cli("promote", "--root", root, "--candidate", "lora-s2", "--version", "v1.0.0") == 0
    assert "model#prod = v1.0.0" in capsys.readouterr().out
    assert run_cli("ledger", "verify", "--root", root) == 0
    assert run_cli("ledger", "at", "2000-01-01T00:00:00Z", "--root", root) == 0
    assert "nothing was in any stage" in capsys.readouterr().out
    assert run_cli("rollback", "--root", root) == PromotionRefusedError.exit_code
    assert "no earlier signed GO promotion" in capsys.readouterr().err
