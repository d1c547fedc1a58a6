"""The ML-BOM: models and datasets of one promotion as a CycloneDX 1.6 document.

cyclonedx-python-lib builds the components, hashes, properties and dependency graph; it has
no model card or component data yet, so ``modelCard`` (with the gate's metrics and their CIs
as ``quantitativeAnalysis``) and ``data`` are added to its JSON here. The document has no
serial number or timestamp: the same evidence gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6

from promgate import __version__
from promgate.gates.report import CandidateReport, GateReport
from promgate.io import read_json, sha256_file
from promgate.train.candidate import TRAIN_CARD_FILE

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def _sha(digest: str) -> list[HashType]:
    return [HashType(alg=HashAlgorithm.SHA_256, content=digest)]


def _props(values: dict[str, Any]) -> list[Property]:
    return [
        Property(name=f"promgate:{k}", value=str(v)) for k, v in values.items() if v is not None
    ]


def _train_card(folder: Path) -> dict[str, Any]:
    path = folder / TRAIN_CARD_FILE
    return read_json(path) if path.is_file() else {}


def _files(folder: Path) -> list[Component]:
    return [
        Component(
            type=ComponentType.FILE,
            name=p.relative_to(folder).as_posix(),
            hashes=_sha(sha256_file(p)),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]


def _metric(
    kind: str, value: float, bench: str, ci: tuple[float, float] | None = None
) -> dict[str, Any]:
    metric: dict[str, Any] = {"type": kind, "value": f"{value:.6g}", "slice": bench}
    if ci is not None:
        metric["confidenceInterval"] = {"lowerBound": f"{ci[0]:.6g}", "upperBound": f"{ci[1]:.6g}"}
    return metric


def _candidate_metrics(cand: CandidateReport) -> list[dict[str, Any]]:
    """Accuracy and Δ (pp, with the bootstrap CI) per benchmark, then the suite average."""
    out = []
    for bench, st in cand.benchmarks.items():
        out.append(_metric("accuracy", st.candidate_acc, bench))
        ci = (st.ci_low_pp, st.ci_high_pp)
        out.append(_metric("accuracy delta vs baseline (pp)", st.delta_pp, bench, ci))
    if cand.average is not None:
        avg = cand.average
        ci = (avg.ci_low_pp, avg.ci_high_pp)
        out.append(
            _metric("macro-average accuracy delta vs baseline (pp)", avg.delta_pp, "suite", ci)
        )
    return out


def _baseline_metrics(gate: GateReport) -> list[dict[str, Any]]:
    first = next(iter(gate.candidates.values()), None)
    if first is None:
        return []
    return [_metric("accuracy", st.baseline_acc, b) for b, st in first.benchmarks.items()]


def _model_card(
    params: dict[str, Any], metrics: list[dict[str, Any]], card: dict[str, Any]
) -> dict[str, Any]:
    lora = (card.get("config") or {}).get("lora") or {}
    dtype = params.get("dtype", "float32")
    arch = f"{params['name']} (GGUF {params['gguf_file']}, dequantised to {dtype})"
    if lora:
        modules = ",".join(lora.get("target_modules", []))
        arch = f"LoRA adapter r={lora.get('r')} alpha={lora.get('alpha')} on {modules} of {arch}"
    model_parameters: dict[str, Any] = {
        "task": "text-generation",
        "modelArchitecture": arch,
        "inputs": [{"format": "text"}],
        "outputs": [{"format": "text"}],
    }
    if card:
        model_parameters["approach"] = {"type": "supervised"}
        model_parameters["datasets"] = [{"ref": "data:train-corpus"}]
    return {
        "modelParameters": model_parameters,
        "quantitativeAnalysis": {"performanceMetrics": metrics},
    }


def _dataset_data(bench: str, info: dict[str, Any], seed: Any) -> list[dict[str, Any]]:
    text = (
        f"{info.get('n_sampled')} of {info.get('n_total')} items from split "
        f"{info.get('split')!s}, stratified sample with seed {seed}"
    )
    return [{"type": "dataset", "name": bench, "classification": "public", "description": text}]


def _top(gate: GateReport, signer: dict[str, Any]) -> Component:
    """The BOM's subject: this promotion run, its decision and who signed it."""
    return Component(
        type=ComponentType.APPLICATION,
        name="promgate-promotion",
        version=__version__,
        bom_ref="promotion",
        description=f"baseline {gate.baseline} vs {', '.join(gate.candidates)}: {gate.decision}",
        properties=_props(
            {
                "decision": gate.decision,
                "policy": f"{gate.policy.name}@{gate.policy.version}",
                "policy-sha256": gate.policy.sha256,
                "signing-method": signer.get("mode", "key"),
                "signing-key-sha256": signer.get("key_fingerprint_sha256"),
                "signing-certificate-sha256": signer.get("certificate", {}).get(
                    "certificate_sha256"
                ),
                "signing-identity": signer.get("identity"),
                "signing-development-key": str(signer["development_key"]).lower(),
            }
        ),
    )


def _datasets(
    manifest: dict[str, Any], manifest_path: Path, corpus_sha: str | None
) -> list[Component]:
    """The training corpus first, then each prepared benchmark sample, then the manifest."""
    data = [
        Component(
            type=ComponentType.DATA,
            name="train-corpus",
            bom_ref="data:train-corpus",
            hashes=_sha(corpus_sha) if corpus_sha else [],
            properties=_props({"role": "training data (decontaminated corpus)"}),
        )
    ]
    for bench, info in sorted(manifest.get("benchmarks", {}).items()):
        output, upstream = info.get("output") or {}, info.get("upstream") or {}
        props = {
            "role": "evaluation data (prepared sample)",
            "path": f"data/prepared/{output.get('path', bench + '.jsonl')}",
            "license": info.get("license"),
            "upstream-repository": upstream.get("repository"),
            "upstream-commit": upstream.get("commit"),
        }
        data.append(
            Component(
                type=ComponentType.DATA,
                name=bench,
                bom_ref=f"data:{bench}",
                hashes=_sha(output["sha256"]) if output.get("sha256") else [],
                properties=_props(props),
            )
        )
    data.append(
        Component(
            type=ComponentType.DATA,
            name="prepared-data-manifest",
            bom_ref="data:manifest",
            hashes=_sha(sha256_file(manifest_path)),
        )
    )
    return data


def _models(
    root: Path,
    model: dict[str, Any],
    gate: GateReport,
    dirs: dict[str, Path],
    cards: dict[str, Any],
) -> list[Component]:
    """The baseline (by its pinned GGUF digest) first, then each candidate checkpoint folder."""
    baseline_props = {"role": "baseline", "package": model["package"], "file": model["gguf_file"]}
    models = [
        Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            name=model["name"],
            bom_ref="model:baseline",
            hashes=_sha(model["gguf_sha256"]),
            properties=_props(baseline_props),
        )
    ]
    for cid, folder in dirs.items():
        weights = folder / ADAPTER_WEIGHTS
        cand = gate.candidates.get(cid)
        props = {
            "role": "candidate",
            "path": folder.relative_to(root).as_posix(),
            "decision": cand.decision if cand else "not judged",
            "seed": cards[cid].get("seed"),
            "base-model-tree-sha256": cards[cid].get("base_model_sha256"),
        }
        models.append(
            Component(
                type=ComponentType.MACHINE_LEARNING_MODEL,
                name=cid,
                bom_ref=f"model:{cid}",
                hashes=_sha(sha256_file(weights)) if weights.is_file() else [],
                components=_files(folder),
                properties=_props(props),
            )
        )
    return models


def _add_cards(doc: dict[str, Any], model: dict[str, Any], gate: GateReport, cards: dict[str, Any],
               manifest: dict[str, Any]) -> None:  # fmt: skip
    """The fields cyclonedx-python-lib lacks: model cards and dataset descriptions."""
    benchmarks = manifest.get("benchmarks", {})
    for comp in doc["components"]:
        kind, _, name = comp.get("bom-ref", "").partition(":")
        if kind == "model" and name == "baseline":
            comp["modelCard"] = _model_card(model, _baseline_metrics(gate), {})
        elif kind == "model":
            cand = gate.candidates.get(name)
            metrics = _candidate_metrics(cand) if cand else []
            comp["modelCard"] = _model_card(model, metrics, cards.get(name, {}))
        elif kind == "data" and name in benchmarks:
            comp["data"] = _dataset_data(name, benchmarks[name], manifest.get("seed"))


def build_mlbom(
    root: Path,
    *,
    model: dict[str, Any],
    gate: GateReport,
    candidate_dirs: dict[str, Path],
    manifest_path: Path,
    env_sbom: Path,
    signer: dict[str, Any],
) -> dict[str, Any]:
    """The ML-BOM as a JSON object (validate with the CycloneDX 1.6 schema in tests)."""
    manifest = read_json(manifest_path)
    cards = {cid: _train_card(d) for cid, d in candidate_dirs.items()}
    corpus_sha = next((c["corpus_sha256"] for c in cards.values() if c.get("corpus_sha256")), None)
    bom = Bom()
    top = bom.metadata.component = _top(gate, signer)
    models = _models(root, model, gate, candidate_dirs, cards)
    data = _datasets(manifest, manifest_path, corpus_sha)
    for comp in [*models, *data]:
        bom.components.add(comp)
    for candidate in models[1:]:
        bom.register_dependency(candidate, [models[0], data[0]])
    bom.register_dependency(top, models + data[1:])

    doc = json.loads(JsonV1Dot6(bom).output_as_string())
    doc.pop("serialNumber", None)  # reproducible: same evidence, same bytes
    doc["metadata"].pop("timestamp", None)
    doc["externalReferences"] = [
        {
            "type": "bom",
            "url": env_sbom.name,
            "comment": "the Python environment that ran the pipeline (CycloneDX 1.6)",
            "hashes": [{"alg": "SHA-256", "content": sha256_file(env_sbom)}],
        }
    ]
    _add_cards(doc, model, gate, cards, manifest)
    return doc
