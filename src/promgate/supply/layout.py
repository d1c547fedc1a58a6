"""Where the evidence and the attestations live, relative to the repository root.

One place for every path, so the attest stage, ``promgate verify`` and the registry agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from promgate.pipeline import BASELINE_ID, candidate_id

ATTESTATIONS = "attestations"
# What a verifier needs besides the bundles, by signing method (none for Sigstore keyless:
# its bundles carry the certificate, and the identity to expect is the verifier's to say).
PUBLIC_KEY_FILE = "signing-key.pub.pem"
CHAIN_FILE = "signing-chain.pem"
PUBLIC_KEY = f"{ATTESTATIONS}/{PUBLIC_KEY_FILE}"
SIGNING_CHAIN = f"{ATTESTATIONS}/{CHAIN_FILE}"
SIGNATURES = f"{ATTESTATIONS}/signatures"
DECISION = f"{ATTESTATIONS}/decision.json"
ENV_SBOM = f"{ATTESTATIONS}/sbom/environment.cdx.json"
ML_BOM = f"{ATTESTATIONS}/sbom/ml-bom.cdx.json"
PROVENANCE = f"{ATTESTATIONS}/statements/slsa-provenance.sigstore.json"
VSA = f"{ATTESTATIONS}/statements/verification-summary.sigstore.json"
SECRET_SCAN = f"{ATTESTATIONS}/secret-scan.json"
README = f"{ATTESTATIONS}/README.md"

GATE_JSON = "reports/gate.json"
CERTIFICATION_JSON = "reports/certification.json"  # which variants are safe, across seeds
GATE_OUTPUTS = ("reports/gate.json", "reports/promotion.md", "reports/promotion.html")
METRICS = "metrics"
DATA_MANIFEST = "data/prepared/manifest.json"
PREPARED_DIR = "data/prepared"
RESULTS = "results"
CANDIDATES = "models/candidates"
PARAMS = "params.yaml"

# The supply_check stage (before the gate): its evidence for the policy's supply_chain gate,
# and what it made to get there (environment SBOM, checkpoint signatures, secret scan).
SUPPLY_CHAIN_JSON = "metrics/supply_chain.json"
SUPPLY_DIR = "supply"
SUPPLY_SBOM = f"{SUPPLY_DIR}/sbom/environment.cdx.json"
SUPPLY_SIGNATURES = f"{SUPPLY_DIR}/signatures"
SUPPLY_SECRET_SCAN = f"{SUPPLY_DIR}/secret-scan.json"
BASE_MODEL = "models/base"

LEDGER = "registry/ledger.jsonl"
DEV_KEY_DIR = ".promgate/keys"


@dataclass(frozen=True)
class Subject:
    """One thing signed with model_signing: a file or a folder, and where its signature goes.

    ``name`` is stable and short (``checkpoint:lora-s42``); verify reports use it.
    """

    name: str
    kind: str
    path: str

    @property
    def signature(self) -> str:
        return f"{SIGNATURES}/{self.name.replace(':', '-')}.sig"


def evidence_subjects(candidates: list[str], certified: bool = False) -> list[Subject]:
    """What the pipeline produced before attest: checkpoints, data manifest, results, gate,
    and with ``certified`` (params name a certification policy) the certification."""
    subjects = [Subject(f"checkpoint:{c}", "checkpoint", f"{CANDIDATES}/{c}") for c in candidates]
    # Results per model, not the whole folder: a stale folder from an earlier sweep is not
    # evidence for this decision and would not exist in a reviewer's checkout.
    subjects += [
        Subject(f"results:{m}", "results", f"{RESULTS}/{m}") for m in [BASELINE_ID, *candidates]
    ]
    subjects += [
        Subject("data-manifest", "data", DATA_MANIFEST),
        Subject("gate", "gate", GATE_JSON),
        Subject("report-md", "report", "reports/promotion.md"),
        Subject("report-html", "report", "reports/promotion.html"),
        # All of metrics/, not only gate.json: the gates read evidence there too.
        Subject("metrics", "metrics", METRICS),
    ]
    if certified:
        subjects.append(Subject("certification", "gate", CERTIFICATION_JSON))
    return subjects


def attestation_subjects() -> list[Subject]:
    """Documents the attest stage writes and signs itself."""
    return [
        Subject("decision", "decision", DECISION),
        Subject("sbom-environment", "sbom", ENV_SBOM),
        Subject("ml-bom", "sbom", ML_BOM),
    ]


def candidate_ids(seeds: list[int], variants: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Every candidate of a run: each seed's probe adapter, then the variants cut from it."""
    probes = [candidate_id(s) for s in seeds]
    return probes + [candidate_id(s, v) for s in seeds for v in variants]


def raw_candidate_ids(params: dict) -> list[str]:
    """``candidate_ids`` from params.yaml as read without validation (attest, verify)."""
    variants = (params.get("variants") or {}).get("names") or []
    return candidate_ids(list(params.get("seeds") or []), list(variants))


def raw_evidence_subjects(params: dict) -> list[Subject]:
    """``evidence_subjects`` of the run params.yaml (read without validation) describes."""
    certified = bool((params.get("certification") or {}).get("policy"))
    return evidence_subjects(raw_candidate_ids(params), certified=certified)


__all__ = [
    "BASELINE_ID",
    "Subject",
    "attestation_subjects",
    "candidate_ids",
    "evidence_subjects",
    "raw_candidate_ids",
    "raw_evidence_subjects",
]
