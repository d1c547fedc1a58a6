"""``promgate verify``: every signature, digest and statement, then the gate recomputed.

The signed SLSA provenance is the root: once its signature verifies (with the public key,
the CA chain, or the Sigstore identity, ``promgate.supply.trust``), it lists every output
(with digests), every input, and every model_signing signature to check. Key- and
certificate-signed evidence is checked offline; Sigstore keyless needs Sigstore's trusted root.
The first failure is the one reported; the rest are listed after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from promgate.gates.report import GateReport
from promgate.io import sha256_file
from promgate.supply import layout as L
from promgate.supply.decision import DecisionRecord
from promgate.supply.dsse import DsseError, bundle_method, parse_statement
from promgate.supply.errors import SupplyChainError, VerificationError
from promgate.supply.provenance import PREDICATE_TYPE as SLSA_PROVENANCE
from promgate.supply.provenance import ROLE_CODE, ROLE_INPUT
from promgate.supply.recompute import (
    CERTIFICATION_OUTPUTS,
    GATE_OUTPUTS,
    first_difference,
    first_differing_line,
    recomputed_outputs,
)
from promgate.supply.sign import verify_subject
from promgate.supply.trust import Trust, Verifier, resolve_verifier
from promgate.supply.vsa import PREDICATE_TYPE as SLSA_VSA

# Byproducts that are trust material rather than signatures: role -> check name.
_TRUST_FILES = {"public key": "digest:public-key", "certificate chain": "digest:certificate-chain"}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyReport:
    signing_method: str | None = None
    trusted: str = ""  # the key, CA or identity the signatures were checked against
    key_fingerprint: str = ""
    key_source: str = ""
    development_key: bool | None = None
    decision: str | None = None
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failures

    def add(self, name: str, problem: str | None, passed: str = "") -> bool:
        self.checks.append(Check(name, problem is None, problem or passed))
        return problem is None

    def raise_first(self) -> None:
        if self.failures:
            first = self.failures[0]
            raise VerificationError(first.name, first.detail)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "decision": self.decision,
            "signing_method": self.signing_method,
            "trusted": self.trusted,
            "key_fingerprint_sha256": self.key_fingerprint,
            "key_source": self.key_source,
            "development_key": self.development_key,
            "first_failure": self.failures[0].__dict__ if self.failures else None,
            "checks": [c.__dict__ for c in self.checks],
            "notes": self.notes,
        }


def _digest_problem(path: Path, expected: str) -> str | None:
    if not path.is_file():
        return f"{path.name}: missing"
    actual = sha256_file(path)
    return (
        None
        if actual == expected
        else f"sha256 {actual[:12]}… differs from signed {expected[:12]}…"
    )


def _load_bundle(root: Path, rel: str) -> dict[str, Any]:
    try:
        return json.loads((root / rel).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DsseError(f"{rel}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise DsseError(f"{rel}: not JSON ({exc.msg})") from exc


def verify_attestations(
    root: Path,
    public_key: Path | None = None,
    *,
    trust: Trust | None = None,
    recompute: bool = True,
) -> VerifyReport:
    """Check the attestations under ``root``; the report lists every check in order.

    ``public_key`` is shorthand for ``Trust(public_key=...)``; with no trust given, the key
    or chain the attestations ship is trusted (and the report says so).
    """
    root = Path(root).resolve()
    trust = trust or Trust()
    if public_key is not None:
        trust = replace(trust, public_key=Path(public_key))
    report = VerifyReport()
    if not (root / L.PROVENANCE).is_file():
        report.add("attestations", f"{L.PROVENANCE} not found: run the attest stage first")
        return report
    try:
        bundle = _load_bundle(root, L.PROVENANCE)
        report.signing_method = bundle_method(bundle)
        verifier, notes = resolve_verifier(report.signing_method, trust, root / L.ATTESTATIONS)
    except DsseError as exc:
        report.add("statement:provenance", f"{L.PROVENANCE}: {exc}")
        return report
    except SupplyChainError as exc:
        report.add("trust", str(exc))
        return report
    report.notes += notes
    report.trusted = verifier.anchor()
    report.key_fingerprint = getattr(verifier, "fingerprint", "")
    report.key_source = "given" if verifier.source == "given" else "shipped with the evidence"

    try:
        provenance = parse_statement(verifier.open_bytes(bundle), SLSA_PROVENANCE)
    except DsseError as exc:
        report.add("statement:provenance", f"{L.PROVENANCE}: {exc}")
        return report
    report.add("statement:provenance", None, "signature verifies; SLSA provenance v1")
    predicate = provenance["predicate"]
    signer = predicate["buildDefinition"]["internalParameters"].get("signer", {})
    report.development_key = bool(signer.get("development_key"))
    if report.development_key:
        report.notes.append(f"signed with a DEVELOPMENT key: {signer.get('notice', '')}")

    params = predicate["buildDefinition"]["externalParameters"]["params"]
    _check_signatures(root, verifier, predicate["runDetails"]["byproducts"], params, report)
    _check_subjects(root, provenance["subject"], report)
    _check_supply_evidence(root, report)
    _check_inputs(root, predicate["buildDefinition"]["resolvedDependencies"], report)
    decision = _check_decision(root, report)
    _check_vsa(root, verifier, decision, report)
    if recompute and not report.failures:
        _check_recompute(root, params, report)
    return report


def _check_signatures(
    root: Path,
    verifier: Verifier,
    byproducts: list[dict[str, Any]],
    params: dict[str, Any],
    report: VerifyReport,
) -> None:
    expected = L.raw_evidence_subjects(params)
    expected += L.attestation_subjects()
    listed = {b.get("annotations", {}).get("subject"): b for b in byproducts}
    for subject in expected:
        name = f"signature:{subject.name}"
        entry = listed.get(subject.name)
        if entry is None:
            report.add(name, f"{subject.path}: no signature listed in the provenance")
            continue
        sig = root / entry["name"]
        problem = _digest_problem(sig, entry["digest"]["sha256"])
        if problem:
            report.add(name, f"{entry['name']}: signature file changed ({problem})")
            continue
        config = verifier.model_signing_config()
        problem = verify_subject(root / subject.path, sig, config, shown=subject.path)
        report.add(name, problem, f"{subject.path} matches {entry['name']}")
    for entry in byproducts:
        check = _TRUST_FILES.get(entry.get("annotations", {}).get("role"))
        if check:
            problem = _digest_problem(root / entry["name"], entry["digest"]["sha256"])
            report.add(check, f"{entry['name']}: {problem}" if problem else None)


def _check_subjects(root: Path, subjects: list[dict[str, Any]], report: VerifyReport) -> None:
    bad = [
        f"{s['name']}: {p}"
        for s in subjects
        if (p := _digest_problem(root / s["name"], s["digest"]["sha256"]))
    ]
    report.add("digest:subjects", bad[0] if bad else None, f"{len(subjects)} files match")


def _check_supply_evidence(root: Path, report: VerifyReport) -> None:
    """The checkpoints the gate's supply-chain evidence describes are the ones attested.

    ``metrics/supply_chain.json`` is signed with the rest of ``metrics/``; this binds the
    digests it recorded before the gate to the checkpoints signed after it.
    """
    path = root / L.SUPPLY_CHAIN_JSON
    if not path.is_file():
        return  # the policy in force may not read it; the gate says BLOCKED if it does
    try:
        candidates = json.loads(path.read_text(encoding="utf-8"))["checkpoints"]["candidates"]
        files = {
            f"{entry['path']}/{name}": digest
            for entry in candidates.values()
            for name, digest in (entry.get("files") or {}).items()
        }
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        report.add("supply:checkpoints", f"{L.SUPPLY_CHAIN_JSON}: unreadable ({exc!r})")
        return
    bad = [
        f"{rel}: {p} (the gate's supply-chain evidence describes other files)"
        for rel, digest in sorted(files.items())
        if (p := _digest_problem(root / rel, digest))
    ]
    passed = f"{len(files)} checkpoint files match {L.SUPPLY_CHAIN_JSON}"
    report.add("supply:checkpoints", bad[0] if bad else None, passed)


def _check_inputs(root: Path, deps: list[dict[str, Any]], report: VerifyReport) -> None:
    inputs = [d for d in deps if d.get("annotations", {}).get("role") == ROLE_INPUT]
    bad = [
        f"{d['name']}: {p}"
        for d in inputs
        if (p := _digest_problem(root / d["name"], d["digest"]["sha256"]))
    ]
    report.add("digest:inputs", bad[0] if bad else None, f"{len(inputs)} inputs match")
    code = [d for d in deps if d.get("annotations", {}).get("role") == ROLE_CODE]
    moved = [d["name"] for d in code if _digest_problem(root / d["name"], d["digest"]["sha256"])]
    if moved:
        report.notes.append(
            f"{len(moved)} code file(s) differ from the run that was attested (first: {moved[0]});"
            " the recomputed gate decides whether that changes anything"
        )


def _check_decision(root: Path, report: VerifyReport) -> DecisionRecord | None:
    try:
        record = DecisionRecord.model_validate_json((root / L.DECISION).read_bytes())
        gate = GateReport.model_validate_json((root / L.GATE_JSON).read_bytes())
    except (OSError, ValidationError) as exc:
        report.add(
            "decision", f"cannot read the decision or gate.json ({str(exc).splitlines()[0]})"
        )
        return None
    report.decision = str(record.decision)
    problem = None
    if record.gate_report.get("sha256") != sha256_file(root / L.GATE_JSON):
        problem = f"{L.DECISION} names a different {L.GATE_JSON} (sha256 differs)"
    elif record.decision is not gate.decision:
        problem = f"{L.DECISION} says {record.decision}, {L.GATE_JSON} says {gate.decision}"
    elif record.candidates != {c: r.decision for c, r in gate.candidates.items()}:
        problem = f"{L.DECISION} candidates' decisions differ from {L.GATE_JSON}"
    elif record.outcomes != gate.outcomes or record.policy != gate.policy:
        problem = f"{L.DECISION} outcomes or policy differ from {L.GATE_JSON}"
    report.add("decision", problem, f"{record.decision}, consistent with {L.GATE_JSON}")
    return record


def _check_vsa(
    root: Path, verifier: Verifier, record: DecisionRecord | None, report: VerifyReport
) -> None:
    try:
        vsa = parse_statement(verifier.open_bytes(_load_bundle(root, L.VSA)), SLSA_VSA)
    except DsseError as exc:
        report.add("statement:vsa", f"{L.VSA}: {exc}")
        return
    predicate = vsa["predicate"]
    problems = [
        f"input attestation {a['uri']}: {p}"
        for a in predicate.get("inputAttestations", [])
        if (p := _digest_problem(root / a["uri"], a["digest"]["sha256"]))
    ]
    problems += [
        f"{s['name']}: {p}"
        for s in vsa["subject"]
        if (p := _digest_problem(root / s["name"], s["digest"]["sha256"]))
    ]
    if record is not None:
        expected = "PASSED" if str(record.decision) == "GO" else "FAILED"
        result = predicate.get("verificationResult")
        if result != expected:
            problems.append(f"verificationResult {result} but decision {record.decision}")
    report.add("statement:vsa", problems[0] if problems else None, "signature, subjects, result")


def _check_recompute(root: Path, params: dict[str, Any], report: VerifyReport) -> None:
    outputs = list(GATE_OUTPUTS)
    try:
        with recomputed_outputs(root, params) as scratch:
            # Certification files: compared when either side has them (one side alone differs).
            outputs += [
                rel
                for rel in CERTIFICATION_OUTPUTS
                if (scratch / rel).is_file() or (root / rel).is_file()
            ]
            fresh = {
                rel: (scratch / rel).read_bytes() if (scratch / rel).is_file() else None
                for rel in outputs
            }
    except Exception as exc:  # the gate code itself failing is a verification failure
        report.add("recompute:gate", f"could not recompute the gate ({type(exc).__name__}: {exc})")
        return
    for rel, recomputed in fresh.items():
        signed = (root / rel).read_bytes() if (root / rel).is_file() else None
        if recomputed == signed:
            continue
        if recomputed is None or signed is None:
            side = "the recomputation" if recomputed is None else "the signed tree"
            report.add("recompute:gate", f"{rel} is missing from {side}")
            return
        if rel.endswith(".json"):
            where = first_difference(json.loads(signed), json.loads(recomputed))
            where = f"at {where}" if where else "in formatting only"
        else:
            where = f"at line {first_differing_line(signed.decode(), recomputed.decode())}"
        report.add("recompute:gate", f"{rel} differs from the recomputation {where}")
        return
    report.add("recompute:gate", None, f"{', '.join(outputs)} reproduced byte for byte")
