"""The decision record: what was decided, under which policy, on which evidence, signed by whom.

``attestations/decision.json`` restates gate.json's verdict with the digests of every piece of
evidence, the git revision and the package versions, so one small signed file answers
"what was decided, and on what".
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel, ConfigDict

from promgate.gates.outcome import Decision, GateOutcome
from promgate.gates.report import GateReport, PolicyInfo

# The packages whose versions change what a decision means or how it was attested.
PACKAGES = (
    "promgate",
    "torch",
    "transformers",
    "peft",
    "numpy",
    "scipy",
    "statsmodels",
    "dvc",
    "model-signing",
    "cyclonedx-bom",
    "detect-secrets",
    "gto",
)


class DecisionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    decision: Decision
    policy: PolicyInfo
    baseline: str
    candidates: dict[str, Decision]
    outcomes: list[GateOutcome]
    gate_report: dict[str, str]
    artifacts: dict[str, str]
    git: dict[str, Any]
    packages: dict[str, str]
    signer: dict[str, Any]


def package_versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def build_decision(
    gate: GateReport,
    *,
    gate_path: str,
    gate_sha256: str,
    artifacts: dict[str, str],
    git: dict[str, Any],
    signer: dict[str, Any],
) -> DecisionRecord:
    return DecisionRecord(
        decision=gate.decision,
        policy=gate.policy,
        baseline=gate.baseline,
        candidates={cid: cand.decision for cid, cand in gate.candidates.items()},
        outcomes=gate.outcomes,
        gate_report={"path": gate_path, "sha256": gate_sha256},
        artifacts=dict(sorted(artifacts.items())),
        git=git,
        packages=package_versions(),
        signer=signer,
    )
