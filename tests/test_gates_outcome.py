"""Gate outcomes and the fail-closed decision rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from promgate.gates.outcome import (
    Decision,
    GateOutcome,
    Reason,
    Status,
    decide,
    suite_decision,
    worst,
)


def _o(status: str, required: bool = True, reason: str = "OK") -> GateOutcome:
    return GateOutcome(
        gate="g",
        status=Status(status),
        reason=Reason(reason),
        message="m",
        policy_ref="p@1#gates.g",
        required=required,
    )


def test_every_required_gate_passing_is_go():
    assert decide([_o("PASS"), _o("PASS"), _o("WAIVED")]) is Decision.GO


def test_a_required_failure_is_no_go():
    assert decide([_o("PASS"), _o("FAIL", reason="REGRESSION")]) is Decision.NO_GO


def test_blocked_outranks_failed():
    outcomes = [_o("FAIL"), _o("BLOCKED", reason="MISSING_EVIDENCE"), _o("PASS")]
    assert decide(outcomes) is Decision.BLOCKED


def test_optional_gates_are_reported_but_do_not_decide():
    assert decide([_o("PASS"), _o("FAIL", required=False), _o("BLOCKED", False)]) is Decision.GO


def test_no_evidence_at_all_is_blocked():
    assert decide([]) is Decision.BLOCKED
    assert decide([_o("PASS", required=False)]) is Decision.BLOCKED


def test_worst_decision_across_seeds():
    assert worst([Decision.GO, Decision.GO]) is Decision.GO
    assert worst([Decision.GO, Decision.NO_GO]) is Decision.NO_GO
    assert worst([Decision.NO_GO, Decision.BLOCKED, Decision.GO]) is Decision.BLOCKED
    assert worst([]) is Decision.BLOCKED


def test_reasons_are_a_closed_list():
    with pytest.raises(ValidationError):
        GateOutcome.model_validate(
            {"gate": "g", "status": "FAIL", "reason": "VIBES", "message": "", "policy_ref": "p"}
        )


def test_codes_print_as_themselves():
    assert f"{Decision.NO_GO}" == "NO_GO" and str(Reason.SCHEMA) == "SCHEMA"
    assert _o("PASS").model_dump(mode="json")["status"] == "PASS"


GO, NO_GO, BLOCKED = Decision.GO, Decision.NO_GO, Decision.BLOCKED


def test_rule_all_needs_every_seed_and_every_suite_gate():
    assert suite_decision("all", {"s1": GO, "s2": GO}, [_o("PASS")]) is GO
    assert suite_decision("all", {"s1": GO, "s2": NO_GO}, [_o("PASS")]) is NO_GO
    assert suite_decision("all", {"s1": GO}, [_o("BLOCKED", reason="MISSING_EVIDENCE")]) is BLOCKED
    assert suite_decision("all", {"s1": GO}, []) is GO  # no suite gates configured
    assert suite_decision("all", {"s1": GO}, [_o("FAIL", required=False)]) is GO


def test_rule_certify_lets_the_suite_gates_decide():
    # A failed seed is weighed by the seeds gate (2 of 3 pass), not decisive by itself.
    assert suite_decision("certify", {"a": GO, "b": GO, "c": NO_GO}, [_o("PASS")]) is GO
    assert suite_decision("certify", {"a": GO}, [_o("FAIL")]) is NO_GO
    assert suite_decision("certify", {"a": GO}, []) is BLOCKED  # nothing decided: fail closed


def test_no_candidates_is_blocked_whatever_the_suite_says():
    for rule in ("all", "certify"):
        assert suite_decision(rule, {}, [_o("PASS")]) is BLOCKED


def test_warnings_travel_with_an_outcome():
    o = _o("PASS").model_copy(update={"warnings": ["arc: underpowered"]})
    assert GateOutcome.model_validate(o.model_dump(mode="json")).warnings == ["arc: underpowered"]
