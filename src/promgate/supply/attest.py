"""The attest stage: SBOMs, the decision record, a secret scan, signatures and statements.

Everything lands in ``attestations/`` (layout in ``promgate.supply.layout``). The folder is
rebuilt from scratch and removed again if any step fails, so a half-written attestation
never exists; a secret-scan finding stops the stage before anything is signed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from promgate.errors import MissingEvidenceError, SchemaError
from promgate.gates.report import GateReport
from promgate.io import atomic_write_bytes, atomic_write_text, read_json, sha256_file, write_json
from promgate.supply import layout as L
from promgate.supply.decision import DecisionRecord, build_decision, package_versions
from promgate.supply.dsse import statement_bytes
from promgate.supply.gitinfo import revision
from promgate.supply.keys import SigningKey
from promgate.supply.mlbom import build_mlbom
from promgate.supply.provenance import (
    ROLE_INPUT,
    build_provenance,
    code_descriptors,
    file_descriptor,
    tree_descriptors,
)
from promgate.supply.readme import render_readme
from promgate.supply.sbom import environment_sbom
from promgate.supply.secret_scan import ScanReport, scan_files, scan_text
from promgate.supply.sign import sign_subject
from promgate.supply.signer import KeySigner, Signer, resolve_signer
from promgate.supply.vsa import build_vsa


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class AttestSummary:
    decision: str
    signer: dict[str, Any]
    subjects: list[str]
    timings_s: dict[str, float] = field(default_factory=dict)


def load_raw_params(root: Path) -> dict[str, Any]:
    path = root / L.PARAMS
    if not path.is_file():
        raise MissingEvidenceError("params file not found", path=path)
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _gate_report(root: Path) -> GateReport:
    try:
        return GateReport.model_validate(read_json(root / L.GATE_JSON))
    except ValidationError as exc:
        err = exc.errors()[0]
        field_ = ".".join(str(p) for p in err["loc"])
        raise SchemaError(err["msg"], path=root / L.GATE_JSON, field=field_) from exc


def _dependencies(root: Path, params: dict[str, Any], git: dict[str, Any]) -> list[dict[str, Any]]:
    """Inputs with digests: params, data manifest and prepared files, base model, code, commit."""
    deps = [file_descriptor(root, rel, role=ROLE_INPUT) for rel in (L.PARAMS, L.DATA_MANIFEST)]
    manifest = read_json(root / L.DATA_MANIFEST)
    for _, info in sorted(manifest.get("benchmarks", {}).items()):
        out = info.get("output") or {}
        if out.get("path") and out.get("sha256"):
            rel = f"{L.PREPARED_DIR}/{out['path']}"
            deps.append(
                {
                    "name": rel,
                    "digest": {"sha256": out["sha256"]},
                    "annotations": {"role": ROLE_INPUT},
                }
            )
    model = params["model"]
    deps.append(
        {
            "name": f"{model['package']}/{model['gguf_file']}",
            "digest": {"sha256": model["gguf_sha256"]},
            "annotations": {"role": "baseline model", "pinned_by": "params.yaml model.gguf_sha256"},
        }
    )
    deps += code_descriptors(root)
    if git.get("commit"):
        uri = f"git+{git['remote']}" if git.get("remote") else "git+file:."
        deps.append({"uri": uri, "digest": {"gitCommit": git["commit"]}})
    return deps


def _uri_descriptor(root: Path, rel: str) -> dict[str, Any]:
    return {"uri": rel, "digest": {"sha256": sha256_file(root / rel)}}


@dataclass
class _Run:
    """One attestation run: its inputs, signer and step timings, one method per step."""

    root: Path
    params: dict[str, Any]
    candidates: list[str]
    gate: GateReport
    identity: Signer
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signer = self.identity.describe()
        self.git = revision(self.root)
        self.versions = package_versions()
        self.started = utc_now()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)

    def boms(self) -> None:
        root = self.root
        with self.step("sbom_environment"):
            environment_sbom(root / L.ENV_SBOM, pyproject=root / "pyproject.toml")
        with self.step("ml_bom"):
            mlbom = build_mlbom(
                root,
                model=self.params["model"],
                gate=self.gate,
                candidate_dirs={c: root / L.CANDIDATES / c for c in self.candidates},
                manifest_path=root / L.DATA_MANIFEST,
                env_sbom=root / L.ENV_SBOM,
                signer=self.signer,
            )
            write_json(root / L.ML_BOM, mlbom)

    def decision(self, evidence: list[L.Subject]) -> DecisionRecord:
        root = self.root
        files = [d for s in evidence for d in tree_descriptors(root, s.path)]
        record = build_decision(
            self.gate,
            gate_path=L.GATE_JSON,
            gate_sha256=sha256_file(root / L.GATE_JSON),
            artifacts={d["name"]: d["digest"]["sha256"] for d in files},
            git=self.git,
            signer=self.signer,
        )
        write_json(root / L.DECISION, record.model_dump(mode="json"))
        for name, (_, content) in self.identity.public_files().items():
            atomic_write_bytes(root / L.ATTESTATIONS / name, content)
        return record

    def scan(self) -> ScanReport:
        metrics = sorted(p for p in (self.root / L.METRICS).rglob("*") if p.is_file())
        texts = [*L.GATE_OUTPUTS, L.DATA_MANIFEST, *(s.path for s in L.attestation_subjects())]
        texts += [p.relative_to(self.root).as_posix() for p in metrics]
        with self.step("secret_scan"):
            return scan_files((rel, self.root / rel) for rel in texts)

    def sign(self, subjects: list[L.Subject]) -> None:
        config = self.identity.signing_config()
        with self.step("sign_subjects"):
            for subject in subjects:
                sign_subject(self.root / subject.path, self.root / subject.signature, config)

    def provenance(self, subjects: list[L.Subject], scan: ScanReport) -> None:
        root = self.root
        byproducts = [
            file_descriptor(root, s.signature, signs=s.path, subject=s.name, kind=s.kind)
            for s in subjects
        ]
        for name, (role, _) in self.identity.public_files().items():
            byproducts.append(file_descriptor(root, f"{L.ATTESTATIONS}/{name}", role=role))
        statement = build_provenance(
            subjects=[d for s in subjects for d in tree_descriptors(root, s.path)],
            params=self.params,
            dependencies=_dependencies(root, self.params, self.git),
            byproducts=byproducts,
            signer=self.signer,
            git=self.git,
            versions=self.versions,
            started=self.started,
            finished=utc_now(),
        )
        self._sign_statement(L.PROVENANCE, statement, scan)

    def vsa(self, record: DecisionRecord, scan: ScanReport) -> None:
        root, policy = self.root, self.gate.policy
        folders = [f"{L.CANDIDATES}/{c}" for c in self.candidates]
        statement = build_vsa(
            subjects=[d for f in folders for d in tree_descriptors(root, f)],
            decision=record.model_dump(mode="json"),
            policy_uri=f"promgate:policy:{policy.name}@{policy.version}",
            policy_sha256=policy.sha256,
            input_attestations=[_uri_descriptor(root, r) for r in (L.PROVENANCE, L.DECISION)],
            verifier_version=self.versions,
            time_verified=utc_now(),
            signer=self.signer,
        )
        self._sign_statement(L.VSA, statement, scan)

    def _sign_statement(self, rel: str, statement: dict[str, Any], scan: ScanReport) -> None:
        # Statements exist only in memory until signed: scan the exact bytes first.
        scan_text(rel, statement_bytes(statement).decode("utf-8"), scan)
        write_json(self.root / rel, self.identity.sign_dsse(statement_bytes(statement)))


def run_attest(
    root: Path, *, key: SigningKey | None = None, signer: Signer | None = None
) -> AttestSummary:
    """Attest the evidence under ``root``.

    ``signer`` defaults to the configured one (``promgate.supply.signer``); ``key`` is
    shorthand for key-based signing with that key.
    """
    root = Path(root).resolve()
    params = load_raw_params(root)
    evidence = L.raw_evidence_subjects(params)
    for subject in evidence:
        if not (root / subject.path).exists():
            raise MissingEvidenceError("evidence to attest is missing", path=subject.path)
    gate = _gate_report(root)
    out = root / L.ATTESTATIONS
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    try:
        identity = signer or (KeySigner(key) if key else resolve_signer(root))
        run = _Run(root, params, L.raw_candidate_ids(params), gate, identity)
        with run.step("total"):
            run.boms()
            record = run.decision(evidence)
            scan = run.scan()  # before anything is signed
            subjects = [*evidence, *L.attestation_subjects()]
            run.sign(subjects)
            run.provenance(subjects, scan)
            run.vsa(record, scan)
            write_json(root / L.SECRET_SCAN, scan.to_json())
            atomic_write_text(root / L.README, render_readme(record, subjects, run.signer))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # no half-written attestation, ever
        raise
    return AttestSummary(
        decision=str(gate.decision),
        signer=run.signer,
        subjects=[s.name for s in subjects],
        timings_s=run.timings,
    )
