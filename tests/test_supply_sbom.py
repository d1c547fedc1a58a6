"""The environment SBOM and the ML-BOM: CycloneDX 1.6, valid against the shipped schema."""

from __future__ import annotations

import json

from promgate.gates.report import GateReport
from promgate.io import sha256_file
from promgate.supply import layout as L
from supply_helpers import attested_template, cyclonedx_validator


def test_environment_sbom_is_valid_cyclonedx_1_6_and_lists_the_stack():
    text = (attested_template() / L.ENV_SBOM).read_text()
    assert cyclonedx_validator(fast_iri=True)(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    names = {c["name"].lower() for c in doc["components"]}
    assert {"model-signing", "cyclonedx-bom", "dvc", "pydantic"} <= names
    assert doc["metadata"]["component"]["name"] == "promgate"


def test_ml_bom_is_valid_cyclonedx_1_6_strict():
    text = (attested_template() / L.ML_BOM).read_text()
    assert cyclonedx_validator()(text) is None


def test_ml_bom_models_datasets_and_hashes():
    root = attested_template()
    doc = json.loads((root / L.ML_BOM).read_text())
    by_ref = {c["bom-ref"]: c for c in doc["components"]}
    assert by_ref["model:baseline"]["type"] == "machine-learning-model"
    cand = by_ref["model:lora-s1"]
    assert cand["type"] == "machine-learning-model"
    weights = root / "models/candidates/lora-s1/adapter_model.safetensors"
    assert cand["hashes"] == [{"alg": "SHA-256", "content": sha256_file(weights)}]
    assert {c["name"] for c in cand["components"]} >= {"adapter_model.safetensors"}
    arc = by_ref["data:arc"]
    assert arc["type"] == "data" and arc["data"][0]["type"] == "dataset"
    assert arc["hashes"][0]["content"] == sha256_file(root / "data/prepared/arc.jsonl")
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert set(deps["model:lora-s1"]) == {"model:baseline", "data:train-corpus"}
    ext = doc["externalReferences"][0]
    assert ext["type"] == "bom" and ext["hashes"][0]["content"] == sha256_file(root / L.ENV_SBOM)


def test_model_card_carries_the_gate_metrics_with_their_cis():
    root = attested_template()
    gate = GateReport.model_validate_json((root / L.GATE_JSON).read_bytes())
    doc = json.loads((root / L.ML_BOM).read_text())
    card = next(c for c in doc["components"] if c["bom-ref"] == "model:lora-s2")["modelCard"]
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    stats = gate.candidates["lora-s2"].benchmarks["mmlu"]
    delta = next(m for m in metrics if m["slice"] == "mmlu" and "delta" in m["type"])
    assert float(delta["value"]) == float(f"{stats.delta_pp:.6g}")
    assert float(delta["confidenceInterval"]["lowerBound"]) == float(f"{stats.ci_low_pp:.6g}")
    avg = next(m for m in metrics if m["slice"] == "suite")
    assert float(avg["value"]) == float(f"{gate.candidates['lora-s2'].average.delta_pp:.6g}")
    assert card["modelParameters"]["datasets"] == [{"ref": "data:train-corpus"}]
