"""Typed gate outcomes and the fail-closed rules that turn them into decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Code(StrEnum):
    """A string code that prints as itself ("GO", not "Decision.GO") in messages."""


class Status(_Code):
    PASS = "PASS"
    FAIL = "FAIL"
    BLOCKED = "BLOCKED"
    WAIVED = "WAIVED"


class Reason(_Code):
    """Closed list: every outcome says why with one of these codes."""

    OK = "OK"
    IMPROVED = "IMPROVED"
    NO_REGRESSION = "NO_REGRESSION"
    REGRESSION = "REGRESSION"
    DETERIORATION = "DETERIORATION"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    ABOVE_LIMIT = "ABOVE_LIMIT"
    MISMATCH = "MISMATCH"
    CI_INCLUDES_ZERO = "CI_INCLUDES_ZERO"
    NOT_SIGNIFICANT = "NOT_SIGNIFICANT"
    UNDERPOWERED = "UNDERPOWERED"
    MISSING_EVIDENCE = "MISSING_EVIDENCE"
    ALIGNMENT = "ALIGNMENT"
    SCHEMA = "SCHEMA"
    CONTAMINATED = "CONTAMINATED"
    # The model has no results because its training stopped: the loss or a gradient blew up,
    # or (TRAINING_FAILED) it failed another training check.
    DIVERGED = "DIVERGED"
    TRAINING_FAILED = "TRAINING_FAILED"


class Decision(_Code):
    GO = "GO"
    NO_GO = "NO_GO"
    BLOCKED = "BLOCKED"


SeedRuleName = Literal["all", "certify"]

# Worse decisions rank higher: the suite gets its worst part's decision.
_SEVERITY = {Decision.GO: 0, Decision.NO_GO: 1, Decision.BLOCKED: 2}


class GateOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate: str
    status: Status
    reason: Reason
    message: str
    candidate: str | None = None
    benchmark: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    policy_ref: str
    required: bool = True
    failure_response: str | None = None
    # Caveats that do not change the status, e.g. an underpowered test under a policy that
    # warns rather than blocks.
    warnings: list[str] = Field(default_factory=list)


def decide(outcomes: Iterable[GateOutcome]) -> Decision:
    """Fail closed: any required BLOCKED -> BLOCKED; else any required FAIL -> NO_GO; else GO.

    Outcomes of gates the policy marks as not required are reported but never decide.
    An empty list is BLOCKED: no evidence is not a pass.
    """
    required = [o for o in outcomes if o.required]
    if not required or any(o.status is Status.BLOCKED for o in required):
        return Decision.BLOCKED
    if any(o.status is Status.FAIL for o in required):
        return Decision.NO_GO
    return Decision.GO


def worst(decisions: Iterable[Decision]) -> Decision:
    """The most severe decision (BLOCKED > NO_GO > GO); none at all is BLOCKED."""
    ranked = sorted(decisions, key=_SEVERITY.__getitem__, reverse=True)
    return ranked[0] if ranked else Decision.BLOCKED


def suite_decision(
    rule: SeedRuleName,
    candidates: Mapping[str, Decision],
    suite_outcomes: Iterable[GateOutcome],
) -> Decision:
    """The promotion decision from the per-candidate decisions and the suite-level outcomes.

    ``all``: every candidate (seed) must be GO, and every required suite gate must pass.
    ``certify``: the per-seed decisions are verdicts that the suite-level ``seeds`` gate
    weighs (pass rate, worst seed); only the suite outcomes decide. Either way no candidates
    at all is BLOCKED, and so is a suite whose required outcomes are empty under ``certify``.
    """
    if not candidates:
        return Decision.BLOCKED
    suite = list(suite_outcomes)
    parts = [decide(suite)] if any(o.required for o in suite) else []
    if rule == "all":
        parts += candidates.values()
    return worst(parts)
