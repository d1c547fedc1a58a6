"""``promgate verify``: each kind of tampering is detected, and named as the first failure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promgate.supply import layout as L
from promgate.supply.attest import run_attest
from promgate.supply.errors import VerificationError
from promgate.supply.keys import generate_dev_key, public_pem, resolve_signing_key
from promgate.supply.verify import verify_attestations
from supply_helpers import (
    attested_copy,
    attested_template,
    make_project,
    reuse_environment_sbom,
    run_cli,
)

ADAPTER = "models/candidates/lora-s1/adapter_model.safetensors"


def _flip_byte(path: Path, offset: int = -2) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _first_failure(root: Path, public_key: Path | None = None) -> tuple[str, str]:
    report = verify_attestations(root, public_key)
    assert not report.ok, "tampering went undetected"
    first = report.failures[0]
    return first.name, first.detail


def test_untouched_attestations_verify_and_the_gate_recomputes_byte_for_byte():
    report = verify_attestations(attested_template())
    assert report.ok, report.failures
    names = [c.name for c in report.checks]
    assert names[0] == "statement:provenance" and names[-1] == "recompute:gate"
    assert report.decision == "GO" and report.development_key is True


@pytest.mark.parametrize(
    ("what", "mutate", "check", "detail"),
    [
        ("checkpoint", lambda r: _flip_byte(r / ADAPTER), "signature:checkpoint:lora-s1",
         "adapter_model.safetensors: content changed"),
        ("results file", lambda r: _flip_byte(r / "results/lora-s2/arc.jsonl", 30),
         "signature:results:lora-s2", "results/lora-s2/arc.jsonl: content changed"),
        ("gate.json", lambda r: _flip_byte(r / L.GATE_JSON, 40), "signature:gate",
         "reports/gate.json: content changed"),
        ("certification", lambda r: _flip_byte(r / L.CERTIFICATION_JSON, 40),
         "signature:certification", "reports/certification.json: content changed"),
        ("decision", lambda r: _flip_byte(r / L.DECISION, 40), "signature:decision",
         "attestations/decision.json: content changed"),
        ("environment SBOM", lambda r: _flip_byte(r / L.ENV_SBOM, 100),
         "signature:sbom-environment", "environment.cdx.json: content changed"),
        ("ML-BOM", lambda r: _flip_byte(r / L.ML_BOM, 100), "signature:ml-bom",
         "ml-bom.cdx.json: content changed"),
        ("added file", lambda r: (r / "models/candidates/lora-s2/extra.bin").write_bytes(b"x"),
         "signature:checkpoint:lora-s2", "extra.bin: file was not signed"),
        ("removed file", lambda r: (r / "results/baseline/mmlu.jsonl").unlink(),
         "signature:results:baseline", "results/baseline/mmlu.jsonl: signed file is missing"),
        ("signature file", lambda r: _flip_byte(r / L.SIGNATURES / "gate.sig", 60),
         "signature:gate", "signature file changed"),
        ("prepared data", lambda r: _flip_byte(r / "data/prepared/mmlu.jsonl", 5), "digest:inputs",
         "data/prepared/mmlu.jsonl"),
        ("metrics evidence", lambda r: (r / "metrics/contamination.json").write_text("{}"),
         "signature:metrics", "metrics/contamination.json: file was not signed"),
        ("provenance", lambda r: _flip_byte(r / L.PROVENANCE, 200), "statement:provenance",
         "slsa-provenance"),
        ("VSA", lambda r: _flip_byte(r / L.VSA, 200), "statement:vsa", "verification-summary"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_tampering_is_detected_and_named(tmp_path, what, mutate, check, detail):
    root = attested_copy(tmp_path / "p")
    mutate(root)
    name, message = _first_failure(root)
    assert name == check, f"{what}: first failure was {name}: {message}"
    assert detail in message


def test_a_project_without_attestations_is_a_named_failure(tmp_path):
    name, message = _first_failure(make_project(tmp_path / "p"))
    assert name == "attestations" and "run the attest stage" in message


def test_a_different_public_key_is_named(tmp_path):
    root = attested_copy(tmp_path / "p")
    other = tmp_path / "other.pem"
    generate_dev_key(other)
    pub = tmp_path / "other.pub.pem"
    key = resolve_signing_key(tmp_path, {"PROMGATE_SIGNING_KEY": str(other)})
    pub.write_bytes(public_pem(key.public_key))
    name, message = _first_failure(root, pub)
    assert name == "statement:provenance" and "not the given key" in message


def test_a_swapped_shipped_key_is_named(tmp_path):
    root = attested_copy(tmp_path / "p")
    other = tmp_path / "other.pem"
    generate_dev_key(other)
    key = resolve_signing_key(tmp_path, {"PROMGATE_SIGNING_KEY": str(other)})
    (root / L.PUBLIC_KEY).write_bytes(public_pem(key.public_key))
    name, message = _first_failure(root)
    assert name == "statement:provenance" and "not the given key" in message


def test_pinned_key_passes(tmp_path):
    root = attested_copy(tmp_path / "p")
    pinned = tmp_path / "pinned.pub.pem"
    shutil.copy(root / L.PUBLIC_KEY, pinned)
    report = verify_attestations(root, pinned)
    assert report.ok and report.key_source == "given"


def test_recompute_catches_a_gate_json_that_does_not_follow_from_results(tmp_path, monkeypatch):
    """Results changed and everything re-signed with the right key, gate.json left stale:
    every signature verifies, and only the recomputed gate says what is wrong."""
    reuse_environment_sbom(monkeypatch)
    root = attested_copy(tmp_path / "p")
    path = root / "results/lora-s1/arc.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows[:30]:
        row["correct"] = not row["correct"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_attest(root)
    name, message = _first_failure(root)
    assert name == "recompute:gate", message
    expected = (
        "reports/gate.json differs from the recomputation at candidates.lora-s1.benchmarks.arc"
    )
    assert expected in message


def test_model_signing_cli_verifies_a_checkpoint_on_its_own(tmp_path):
    root = attested_copy(tmp_path / "p")
    cli = Path(sys.executable).parent / "model_signing"
    cmd = [str(cli), "verify", "key", "models/candidates/lora-s1"]
    cmd += ["--signature", f"{L.SIGNATURES}/checkpoint-lora-s1.sig", "--public_key", L.PUBLIC_KEY]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    _flip_byte(root / ADAPTER)
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def test_cli_exit_codes_and_first_mismatch(tmp_path, capsys):
    root = attested_copy(tmp_path / "p")
    assert run_cli("verify", "--root", str(root)) == 0
    assert "verified:" in capsys.readouterr().out
    _flip_byte(root / L.GATE_JSON, 40)
    assert run_cli("verify", "--root", str(root)) == VerificationError.exit_code
    err = capsys.readouterr().err
    assert "VerificationError: signature:gate: reports/gate.json: content changed" in err
    assert run_cli("verify", "--root", str(root), "--json") == VerificationError.exit_code
    assert json.loads(capsys.readouterr().out)["first_failure"]["name"] == "signature:gate"


def test_recompute_binds_the_human_readable_report_too(tmp_path, monkeypatch):
    """A promotion.md edited and re-signed still fails: it is recomputed like gate.json."""
    reuse_environment_sbom(monkeypatch)
    root = attested_copy(tmp_path / "p")
    md = root / "reports/promotion.md"
    md.write_text(md.read_text().replace("GO", "GO (approved by the board)", 1))
    run_attest(root)
    name, message = _first_failure(root)
    assert name == "recompute:gate"
    assert "reports/promotion.md differs from the recomputation at line" in message


def test_variant_checkpoints_are_attested_and_verified(tmp_path):
    root = make_project(tmp_path / "p", n=100, variants=("per_layer",))
    run_attest(root)
    report = verify_attestations(root)
    assert report.ok, report.failures
    names = [c.name for c in report.checks]
    assert "signature:checkpoint:lora-s2-per_layer" in names
    assert "signature:results:lora-s2-per_layer" in names
    _flip_byte(root / "models/candidates/lora-s2-per_layer/adapter_model.safetensors")
    name, message = _first_failure(root)
    assert name == "signature:checkpoint:lora-s2-per_layer" and "content changed" in message


def test_recompute_binds_the_certification(tmp_path, monkeypatch):
    root = attested_copy(tmp_path / "p")
    signed = json.loads((root / L.CERTIFICATION_JSON).read_text())
    assert signed["variants"], "the template run certifies its probe across seeds"
    report = verify_attestations(root)
    (recompute,) = [c for c in report.checks if c.name == "recompute:gate"]
    assert "reports/certification.json" in recompute.detail
