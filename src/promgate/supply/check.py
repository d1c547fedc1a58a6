"""The supply_check stage: the supply-chain evidence the gate reads, made before the gate.

``metrics/supply_chain.json`` holds the three flags the policy's ``supply_chain`` gate checks,
each computed from what is on disk and carrying the values it was decided on:

- ``sbom_verified``: cyclonedx-py wrote a CycloneDX 1.6 SBOM of this Python (no schema
  validation: 13 s of IRI checks; the tests validate it) and its components are exactly the
  installed distributions at their installed versions.
- ``checkpoints_signed``: every candidate of ``params.seeds`` exists, its adapter still has the
  digest its training recorded, it was signed with model_signing by the configured signer,
  and that signature verifies over the files as they are now.
- ``provenance_complete``: the packaged GGUF matches the pin ``params.model.gguf_sha256``,
  ``models/base`` records that pin, and every candidate was trained on that ``models/base``.

A secret-scan finding stops all signing (so ``checkpoints_signed`` is false), as in attest.
``produce`` writes ``supply/`` (SBOM, scan, signatures, the public key or chain); ``evaluate``
reads it back with a verifier and writes the JSON, so a change made after signing is caught.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

from promgate.config import Params, load_params
from promgate.errors import PromgateError
from promgate.io import read_json, sha256_file, sha256_tree, write_json
from promgate.models.hf import MODEL_CARD_FILE, locate_gguf
from promgate.supply import layout as L
from promgate.supply.errors import SecretFoundError
from promgate.supply.sbom import SPEC_VERSION, environment_sbom
from promgate.supply.secret_scan import ScanReport, scan_files
from promgate.supply.sign import sign_subject, verify_subject
from promgate.supply.signer import Signer, resolve_signer
from promgate.supply.trust import Verifier
from promgate.train.candidate import FAILED_FILE, TRAIN_CARD_FILE
from promgate.train.variants import VARIANT_CARD_FILE

SCHEMA_VERSION = 1
ADAPTER_FILE = "adapter_model.safetensors"
# Text files inside a checkpoint that the secret scan reads (weights are binary).
_TEXT_SUFFIXES = {".json", ".md", ".txt", ".yaml", ".yml", ".jinja", ".py"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def signature_path(candidate: str) -> str:
    return f"{L.SUPPLY_SIGNATURES}/checkpoint-{candidate}.sig"


@dataclass
class Check:
    """One flag of the evidence: whether it holds, why not, and what it was decided on."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, **self.detail}


def check_sbom(path: Path) -> Check:
    """The SBOM lists exactly the distributions installed here, at their versions."""
    if not path.is_file():
        return Check(False, [f"{path.name}: not found"])
    try:
        doc = read_json(path)
    except PromgateError as exc:
        return Check(False, [str(exc)])
    problems = []
    if doc.get("bomFormat") != "CycloneDX" or doc.get("specVersion") != SPEC_VERSION:
        problems.append(f"not a CycloneDX {SPEC_VERSION} document")
    listed = {_normalise(c.get("name", "")): c.get("version") for c in doc.get("components", [])}
    installed = {_normalise(d.metadata["Name"]): d.version for d in distributions()}
    missing = sorted(set(installed) - set(listed))
    extra = sorted(set(listed) - set(installed))
    differ = sorted(n for n in set(installed) & set(listed) if installed[n] != listed[n])
    problems += [f"installed but not listed: {n} {installed[n]}" for n in missing[:3]]
    problems += [f"listed but not installed: {n}" for n in extra[:3]]
    problems += [f"{n}: listed {listed[n]}, installed {installed[n]}" for n in differ[:3]]
    detail = {
        "path": L.SUPPLY_SBOM,
        "sha256": sha256_file(path),
        "spec_version": doc.get("specVersion"),
        "components": len(listed),
        "installed_distributions": len(installed),
        "schema_validated": False,
    }
    return Check(not problems, problems, detail)


def check_provenance(root: Path, params: Params, candidates: list[str]) -> Check:
    """GGUF = pin; models/base built from the pin; every candidate trained on models/base."""
    model, problems = params.model, []
    gguf: dict[str, Any] = {
        "file": f"{model.package}/{model.gguf_file}",
        "pinned": model.gguf_sha256,
    }
    try:
        gguf["sha256"] = sha256_file(locate_gguf(model, verify=False))
        if gguf["sha256"] != model.gguf_sha256:
            problems.append(f"{gguf['file']}: sha256 differs from params model.gguf_sha256")
    except PromgateError as exc:
        problems.append(f"base GGUF: {exc}")
    base = root / L.BASE_MODEL
    card_path = base / MODEL_CARD_FILE
    base_info: dict[str, Any] = {"path": L.BASE_MODEL}
    if card_path.is_file():
        card = read_json(card_path)
        base_info["gguf_sha256"] = card.get("gguf_sha256")
        if card.get("gguf_sha256") != model.gguf_sha256:
            problems.append(f"{L.BASE_MODEL}/{MODEL_CARD_FILE}: built from another GGUF")
        base_info["tree_sha256"] = sha256_tree(base)
    else:
        problems.append(f"{L.BASE_MODEL}/{MODEL_CARD_FILE}: not found")
    trained_on: dict[str, str | None] = {}
    for cid in candidates:
        folder = root / L.CANDIDATES / cid
        if (folder / FAILED_FILE).is_file():
            continue  # no checkpoint: the gate blocks the candidate on its own
        # A variant was cut from its seed's probe adapter: that adapter must be the one it
        # names, and the probe's training says which base it was trained on.
        source, problem = _variant_source(root, folder)
        if problem:
            problems.append(problem)
        card_file = (source or folder) / TRAIN_CARD_FILE
        recorded = read_json(card_file).get("base_model_sha256") if card_file.is_file() else None
        trained_on[cid] = recorded
        if recorded is None:
            problems.append(f"{card_file.relative_to(root).as_posix()}: no base model digest")
        elif recorded != base_info.get("tree_sha256"):
            problems.append(f"{cid}: trained on a different {L.BASE_MODEL}")
    detail = {"gguf": gguf, "base": base_info, "candidates_trained_on": trained_on}
    return Check(not problems, problems, detail)


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _variant_source(root: Path, folder: Path) -> tuple[Path | None, str | None]:
    """(the probe folder a variant was cut from, a problem with it); (None, None) when
    ``folder`` is not a variant."""
    card_path = folder / VARIANT_CARD_FILE
    if not card_path.is_file():
        return None, None
    card = read_json(card_path)
    shown = card_path.relative_to(root).as_posix()
    rel, digest = card.get("source_adapter"), card.get("source_adapter_sha256")
    if not rel or not digest:
        return None, f"{shown}: names no source adapter and digest"
    source = root / rel
    if not (source / ADAPTER_FILE).is_file():
        return source, f"{shown}: source adapter {rel}/{ADAPTER_FILE} not found"
    if sha256_file(source / ADAPTER_FILE) != digest:
        return source, f"{shown}: source adapter {rel} differs from the one it was cut from"
    return source, None


def _unchanged_since_training(folder: Path) -> str | None:
    """None when the adapter has the digest its training (or, for a variant, its cut)
    recorded; else why not."""
    name = VARIANT_CARD_FILE if (folder / VARIANT_CARD_FILE).is_file() else TRAIN_CARD_FILE
    card_path = folder / name
    if not card_path.is_file():
        return f"{TRAIN_CARD_FILE}: not found"
    card = read_json(card_path)
    recorded = (card.get("adapter") or {}).get("sha256") or (card.get("summary") or {}).get(
        "adapter_sha256"
    )
    if not recorded:
        return f"{name}: records no adapter digest"
    if not (folder / ADAPTER_FILE).is_file():
        return f"{ADAPTER_FILE}: not found"
    if sha256_file(folder / ADAPTER_FILE) != recorded:
        return f"{ADAPTER_FILE}: differs from the digest its training recorded"
    return None


def check_checkpoints(
    root: Path, candidates: list[str], verifier: Verifier, scan: dict[str, Any] | None
) -> Check:
    """Each trained candidate is unchanged since training, signed, and its signature holds.

    A candidate whose training failed (``FAILED.json``, no adapter) has no checkpoint to sign;
    the gate blocks it on its own. With no trained candidate at all, nothing is signed: false.
    """
    problems: list[str] = []
    per: dict[str, Any] = {}
    if scan is None or scan.get("findings"):
        why = "secret scan missing" if scan is None else "secret scan found something"
        problems.append(f"{why}: nothing was signed ({L.SUPPLY_SECRET_SCAN})")
    for cid in candidates:
        rel = f"{L.CANDIDATES}/{cid}"
        folder = root / rel
        entry: dict[str, Any] = {"path": rel, "signature": signature_path(cid)}
        per[cid] = entry
        if (folder / FAILED_FILE).is_file():
            entry.update(trained=False, verified=None, problem=None)
            continue
        if not folder.is_dir():
            problem = f"{rel}: not found"
        else:
            entry["files"] = _files(folder)
            problem = _unchanged_since_training(folder)
            problem = f"{rel}/{problem}" if problem else None
            if problem is None:
                config = verifier.model_signing_config()
                problem = verify_subject(folder, root / signature_path(cid), config, shown=rel)
        entry.update(trained=True, verified=problem is None, problem=problem)
        if problem:
            problems.append(problem)
    if not any(e["trained"] for e in per.values()):
        problems.append("no trained candidate: no checkpoint was signed")
    detail = {"method": verifier.method, "trusted": verifier.anchor(), "candidates": per}
    return Check(not problems, problems, detail)


def _scan_targets(root: Path, candidates: list[str]) -> list[tuple[str, Path]]:
    rels = [L.PARAMS, L.DATA_MANIFEST, f"{L.BASE_MODEL}/{MODEL_CARD_FILE}", L.SUPPLY_SBOM]
    for cid in candidates:
        folder = root / L.CANDIDATES / cid
        if folder.is_dir():
            rels += [
                p.relative_to(root).as_posix()
                for p in sorted(folder.rglob("*"))
                if p.is_file() and p.suffix in _TEXT_SUFFIXES
            ]
    return [(rel, root / rel) for rel in rels if (root / rel).is_file()]


@dataclass
class SupplyCheck:
    evidence: dict[str, Any]
    timings_s: dict[str, float]


def produce(root: Path, params: Params, signer: Signer) -> dict[str, float]:
    """Rebuild ``supply/``: SBOM, secret scan, then (only if clean) checkpoint signatures."""
    timings: dict[str, float] = {}
    out = root / L.SUPPLY_DIR
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    candidates = L.candidate_ids(params.seeds, params.variants.names)
    started = time.perf_counter()
    environment_sbom(root / L.SUPPLY_SBOM, pyproject=root / "pyproject.toml")
    timings["sbom_environment"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    report = ScanReport()
    # A finding is recorded in the report: the gate fails on it and nothing below is signed.
    with contextlib.suppress(SecretFoundError):
        scan_files(_scan_targets(root, candidates), report)
    write_json(root / L.SUPPLY_SECRET_SCAN, report.to_json())
    timings["secret_scan"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    for name, (_, content) in signer.public_files().items():
        (out / name).write_bytes(content)
    if not report.findings:
        config = signer.signing_config()
        for cid in candidates:
            folder = root / L.CANDIDATES / cid
            failed = (folder / FAILED_FILE).is_file()
            if folder.is_dir() and not failed and _unchanged_since_training(folder) is None:
                sign_subject(folder, root / signature_path(cid), config)
    timings["sign_checkpoints"] = round(time.perf_counter() - started, 3)
    return timings


def evaluate(
    root: Path, params: Params, signer: dict[str, Any], verifier: Verifier
) -> dict[str, Any]:
    """Read ``supply/`` and the models back; write and return ``metrics/supply_chain.json``."""
    candidates = L.candidate_ids(params.seeds, params.variants.names)
    scan_path = root / L.SUPPLY_SECRET_SCAN
    scan = read_json(scan_path) if scan_path.is_file() else None
    sbom = check_sbom(root / L.SUPPLY_SBOM)
    checkpoints = check_checkpoints(root, candidates, verifier, scan)
    provenance = check_provenance(root, params, candidates)
    evidence = {
        "schema_version": SCHEMA_VERSION,
        "sbom_verified": sbom.ok,
        "checkpoints_signed": checkpoints.ok,
        "provenance_complete": provenance.ok,
        "secret_scan_clean": scan is not None and not scan.get("findings"),
        "signer": signer,
        "sbom": sbom.to_json(),
        "checkpoints": checkpoints.to_json(),
        "provenance": provenance.to_json(),
        "secret_scan": {
            "path": L.SUPPLY_SECRET_SCAN,
            "files": len(scan["files"]) if scan else 0,
            "findings": scan["findings"] if scan else None,
        },
    }
    write_json(root / L.SUPPLY_CHAIN_JSON, evidence)
    return evidence


def run_supply_check(root: Path, *, signer: Signer | None = None) -> SupplyCheck:
    """The stage: stale evidence is removed first, so a failed run leaves none to pass on."""
    root = Path(root).resolve()
    (root / L.SUPPLY_CHAIN_JSON).unlink(missing_ok=True)
    params = load_params(root / L.PARAMS)
    signer = signer or resolve_signer(root)
    try:
        timings = produce(root, params, signer)
    except BaseException:
        shutil.rmtree(root / L.SUPPLY_DIR, ignore_errors=True)
        raise
    started = time.perf_counter()
    evidence = evaluate(root, params, signer.describe(), signer.verifier(root / L.SUPPLY_DIR))
    timings["evaluate"] = round(time.perf_counter() - started, 3)
    return SupplyCheck(evidence, timings)
