"""The attest stage end to end on a small project: what attestations/ holds and says."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from promgate.errors import MissingEvidenceError
from promgate.supply import layout as L
from promgate.supply.attest import run_attest
from promgate.supply.errors import SecretFoundError
from promgate.supply.keys import ENV_KEY, generate_dev_key, resolve_signing_key
from supply_helpers import attested_template, make_project, reuse_environment_sbom


def _statement(root: Path, rel: str) -> dict:
    bundle = json.loads((root / rel).read_text())
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))


def test_attestations_hold_every_signature_statement_and_sbom():
    root = attested_template()
    for rel in (L.PUBLIC_KEY, L.DECISION, L.ENV_SBOM, L.ML_BOM, L.PROVENANCE, L.VSA, L.SECRET_SCAN):
        assert (root / rel).is_file(), rel
    sigs = sorted(p.name for p in (root / L.SIGNATURES).iterdir())
    assert "checkpoint-lora-s1.sig" in sigs and "results-baseline.sig" in sigs
    assert "certification.sig" in sigs
    # 2 checkpoints, 3 results folders, manifest, 5 gate outputs (gate, certification, 2
    # reports, metrics), 3 docs
    assert len(sigs) == 14


def test_development_key_is_marked_everywhere():
    root = attested_template()
    assert (root / ".promgate/keys/dev-signing-key.pem").stat().st_mode & 0o077 == 0
    provenance = _statement(root, L.PROVENANCE)
    signer = provenance["predicate"]["buildDefinition"]["internalParameters"]["signer"]
    assert signer["development_key"] is True and "DEVELOPMENT KEY" in signer["notice"]
    assert _statement(root, L.VSA)["predicate"]["promgate"]["signer"]["development_key"] is True
    assert json.loads((root / L.DECISION).read_text())["signer"]["development_key"] is True
    assert "DEVELOPMENT KEY" in (root / L.README).read_text()
    props = json.loads((root / L.ML_BOM).read_text())["metadata"]["component"]["properties"]
    assert {"name": "promgate:signing-development-key", "value": "true"} in props


def test_provenance_is_slsa_v1_with_inputs_outputs_and_signatures():
    root = attested_template()
    statement = _statement(root, L.PROVENANCE)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    names = {s["name"] for s in statement["subject"]}
    assert {
        "reports/gate.json",
        L.DECISION,
        "models/candidates/lora-s1/adapter_model.safetensors",
    } <= names
    build = statement["predicate"]["buildDefinition"]
    assert build["externalParameters"]["params"]["seeds"] == [1, 2]
    inputs = {d.get("name") for d in build["resolvedDependencies"]}
    assert {"params.yaml", "data/prepared/manifest.json", "data/prepared/arc.jsonl"} <= inputs
    signs = {
        b["annotations"].get("signs") for b in statement["predicate"]["runDetails"]["byproducts"]
    }
    assert "results/lora-s2" in signs


def test_vsa_records_the_decision():
    root = attested_template()
    predicate = _statement(root, L.VSA)["predicate"]
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["promgate"]["decision"] == "GO"
    assert predicate["policy"]["uri"] == "promgate:policy:test@1"


def test_bundles_parse_as_sigstore_bundles():
    from sigstore_models.bundle.v1 import Bundle

    root = attested_template()
    for rel in (L.PROVENANCE, L.VSA, f"{L.SIGNATURES}/gate.sig"):
        bundle = Bundle.from_json((root / rel).read_text())
        assert bundle.dsse_envelope.payload_type == "application/vnd.in-toto+json"


def test_missing_evidence_stops_the_stage_before_anything_is_written(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "results/lora-s2/mmlu.jsonl").unlink()
    import shutil

    shutil.rmtree(root / "results/lora-s2")
    with pytest.raises(MissingEvidenceError, match="results/lora-s2"):
        run_attest(root)
    assert not (root / L.ATTESTATIONS).exists()


def test_a_secret_in_a_report_blocks_attestation(tmp_path, monkeypatch):
    reuse_environment_sbom(monkeypatch)
    root = make_project(tmp_path / "p")
    key = tmp_path / "k.pem"
    generate_dev_key(key)
    md = root / "reports/promotion.md"
    md.write_text(md.read_text() + "\n" + key.read_text())
    with pytest.raises(SecretFoundError, match=r"reports/promotion.md, line \d+: .*Private Key"):
        run_attest(root)
    assert not (root / L.ATTESTATIONS).exists(), "nothing may be left half-signed"


def test_configured_key_is_used_and_not_marked_as_development(tmp_path, monkeypatch):
    reuse_environment_sbom(monkeypatch)
    root = make_project(tmp_path / "p")
    key_path = tmp_path / "release.pem"
    generate_dev_key(key_path)
    key = resolve_signing_key(root, {ENV_KEY: str(key_path)})
    summary = run_attest(root, key=key)
    assert summary.signer["development_key"] is False
    assert "notice" not in summary.signer
    assert not (root / ".promgate").exists()
    assert "DEVELOPMENT" not in (root / L.README).read_text()
