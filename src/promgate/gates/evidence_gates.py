"""Gates on artifacts other than paired results: JSON evidence files, the results schema, and
shares of other gates ("≥ 75 % of stretch goals").

A gate is BLOCKED only when its verdict depends on evidence that is absent: a check that
fails on the fields present decides FAIL even if another field is missing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from promgate.gates.benchmark_gates import blocked
from promgate.gates.inputs import EvidenceStore, Unusable, field_value, finite_number, shown
from promgate.gates.outcome import GateOutcome, Reason, Status
from promgate.gates.policy import Policy
from promgate.gates.policy_gates import FieldCheck
from promgate.gates.seed_gates import training_run

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "eq": operator.eq,
}
_SYMBOL = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "="}
_FAIL_REASON = {
    "lt": Reason.ABOVE_LIMIT,
    "le": Reason.ABOVE_LIMIT,
    "gt": Reason.BELOW_THRESHOLD,
    "ge": Reason.BELOW_THRESHOLD,
    "eq": Reason.MISMATCH,
}


def evidence_file(template: str, candidate: str | None, seed: int | None) -> str:
    """The evidence path for one candidate (``{candidate}``, ``{run}``, ``{seed}`` filled in).

    ``{run}`` is the training run the candidate's weights come from: a variant cut from a
    seed's adapter (``lora-s42-per_layer``) shares that seed's run (``lora-s42``), whose
    training metrics are the variant's own.
    """
    return (
        template.replace("{candidate}", candidate or "")
        .replace("{run}", training_run(candidate) if candidate else "")
        .replace("{seed}", "" if seed is None else str(seed))
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value(data: dict[str, Any], check: FieldCheck, path: str) -> Any:
    """The value a check compares; raises Unusable when it is absent or of the wrong type."""
    try:
        raw = field_value(data, check.field)
        base = field_value(data, check.relative_to) if check.relative_to else None
    except KeyError as exc:
        field = exc.args[0]
        msg = f"{path}: field '{field}' is absent"
        raise Unusable(Reason.MISSING_EVIDENCE, msg, {"path": path, "field": field}) from None
    if check.comparator == "eq" and not _is_number(check.bound):
        return raw  # a flag or a label, compared as it is
    number = finite_number(raw)
    if number is None:
        msg = f"{path}: field '{check.field}' is not a finite number"
        raise Unusable(Reason.SCHEMA, msg, {"path": path, "field": check.field})
    if check.relative_to is None:
        return number
    other = finite_number(base)
    if other is None or other == 0.0:
        msg = f"{path}: field '{check.relative_to}' is not a finite non-zero number"
        raise Unusable(Reason.SCHEMA, msg, {"path": path, "field": check.relative_to})
    return (number - other) / abs(other)


def _describe(check: FieldCheck) -> str:
    subject = check.field
    if check.relative_to:
        subject = f"({check.field} − {check.relative_to}) / {check.relative_to}"
    return f"{subject} {_SYMBOL[check.comparator]} {check.bound!r}"


def evidence_outcome(
    name: str,
    candidate: str | None,
    seed: int | None,
    store: EvidenceStore,
    root: Path,
    policy: Policy,
) -> GateOutcome:
    cfg = policy.gates.evidence[name]
    file = root / evidence_file(cfg.file, candidate, seed)
    data = store.artifact(file)
    if isinstance(data, Unusable):
        return blocked(policy, name, candidate, None, data)
    path = str(shown(file))
    values: dict[str, Any] = {}
    failed: list[FieldCheck] = []
    missing: list[Unusable] = []
    for check in cfg.checks:
        try:
            value = _value(data, check, path)
        except Unusable as err:
            missing.append(err)
            continue
        values[_describe(check)] = value
        # bool is an int in Python: True == 1 would pass "eq: 1"; a type mismatch fails.
        same_kind = isinstance(value, bool) == isinstance(check.bound, bool)
        if not (same_kind and _OPS[check.comparator](value, check.bound)):
            failed.append(check)
    evidence = {"path": path, "sha256": store.artifact_digests.get(path), "values": values}
    if failed:
        evidence["failed"] = [_describe(c) for c in failed]
        evidence["missing"] = [m.evidence.get("field") for m in missing]
        message = f"{path}: {'; '.join(_describe(c) for c in failed)} does not hold"
        reason = cfg.fail_reason or _FAIL_REASON[failed[0].comparator]
        return policy.outcome(
            name, Status.FAIL, reason, message, candidate=candidate, evidence=evidence
        )
    if missing:
        first = missing[0]
        first.evidence.update(evidence, missing=[m.evidence.get("field") for m in missing])
        return blocked(policy, name, candidate, None, first)
    message = f"{path}: {'; '.join(values)} hold"
    return policy.outcome(
        name, Status.PASS, Reason.OK, message, candidate=candidate, evidence=evidence
    )


def results_schema_outcome(
    candidate: str, files: Mapping[str, Unusable | None], policy: Policy
) -> GateOutcome:
    """PASS when every results file read for this candidate validated; else the first fault.

    ``files`` maps each results file to None (valid) or why it could not be used. Missing
    files are left to the gates that need them; here they mean the schema was not checked.
    """
    bad = {p: e for p, e in files.items() if e is not None and e.reason is Reason.SCHEMA}
    absent = sorted(p for p, e in files.items() if e is not None and p not in bad)
    if bad:
        first = sorted(bad)[0]
        err = bad[first]
        err_evidence = {**err.evidence, "invalid_files": sorted(bad)}
        return blocked(
            policy,
            "results_schema",
            candidate,
            None,
            Unusable(Reason.SCHEMA, err.message, err_evidence),
        )
    valid = sorted(p for p, e in files.items() if e is None)
    if not valid:
        err = Unusable(Reason.MISSING_EVIDENCE, "no results file could be read", {"absent": absent})
        return blocked(policy, "results_schema", candidate, None, err)
    message = f"{len(valid)} results file(s) validate against the ItemResult schema"
    if absent:
        message += f"; {len(absent)} absent (judged by the gates that need them)"
    return policy.outcome(
        "results_schema",
        Status.PASS,
        Reason.OK,
        message,
        candidate=candidate,
        evidence={"valid": valid, "absent": absent},
    )


def share_outcome(
    name: str, candidate: str | None, members: Sequence[GateOutcome], policy: Policy
) -> GateOutcome:
    """PASS when at least ``min_share`` of the member gates passed; BLOCKED while the members
    that could not be evaluated could still change that; else FAIL."""
    cfg = policy.gates.share[name]
    by_gate: dict[str, list[GateOutcome]] = {g: [] for g in cfg.gates}
    for o in members:
        if o.gate in by_gate:
            by_gate[o.gate].append(o)

    def state(outcomes: list[GateOutcome]) -> Status:
        if not outcomes or any(o.status is Status.BLOCKED for o in outcomes):
            return Status.BLOCKED
        return Status.PASS if all(o.status is Status.PASS for o in outcomes) else Status.FAIL

    states = {g: state(v) for g, v in by_gate.items()}
    met = sorted(g for g, s in states.items() if s is Status.PASS)
    open_ = sorted(g for g, s in states.items() if s is Status.BLOCKED)
    total = len(cfg.gates)
    need = cfg.min_share * total
    evidence = {"met": met, "not_evaluable": open_, "of": total, "min_share": cfg.min_share}
    counted = f"{len(met)} of {total} met ({len(met) / total:.0%}; needs ≥ {cfg.min_share:.0%})"
    if len(met) >= need - 1e-9:
        return policy.outcome(
            name, Status.PASS, Reason.OK, counted, candidate=candidate, evidence=evidence
        )
    if len(met) + len(open_) >= need - 1e-9:
        err = Unusable(
            Reason.MISSING_EVIDENCE, f"{counted}; not evaluable: {', '.join(open_)}", evidence
        )
        return blocked(policy, name, candidate, None, err)
    return policy.outcome(
        name, Status.FAIL, Reason.BELOW_THRESHOLD, counted, candidate=candidate, evidence=evidence
    )
