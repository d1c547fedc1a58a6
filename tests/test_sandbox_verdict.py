"""Verdict classification: what the sandbox observed -> passed or a typed failure."""

from __future__ import annotations

import signal

import pytest

from promgate.sandbox.verdict import Observation, classify


def observe(**changes) -> Observation:
    base = {
        "passed": False,
        "timed_out": False,
        "exit_code": None,
        "signal": None,
        "cpu_s": 0.1,
        "tamper": 0,
        "note_kind": None,
        "note": "",
        "cpu_limit_s": 2,
        "wall_limit_s": 4.0,
    }
    return Observation(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({"passed": True, "exit_code": 0}, "passed"),
        ({"exit_code": 11}, "wrong_answer"),
        ({"exit_code": 12}, "crash"),
        ({"exit_code": 13}, "memory"),
        ({"exit_code": 14}, "sandbox_violation"),
        ({"exit_code": 15}, "sandbox_violation"),
        ({"exit_code": 0}, "crash"),  # exited cleanly, but the tests never reported
        ({"exit_code": 3}, "crash"),
        ({"signal": signal.SIGXCPU}, "timeout"),
        ({"signal": signal.SIGKILL, "cpu_s": 2.5}, "timeout"),
        ({"signal": signal.SIGKILL, "cpu_s": 0.2}, "crash"),
        ({"signal": signal.SIGSEGV}, "crash"),
        ({"timed_out": True}, "timeout"),
        ({}, "crash"),  # no exit record at all
        ({"exit_code": 11, "tamper": 1}, "sandbox_violation"),
    ],
)
def test_classify(changes, verdict):
    assert classify(observe(**changes))[0] == verdict


def test_an_authenticated_pass_outranks_everything_after_it():
    # The tests ran to their end; whatever the process did afterwards cannot undo that.
    assert classify(observe(passed=True, timed_out=True, signal=9))[0] == "passed"


def test_the_programs_own_note_is_detail_only():
    verdict, detail = classify(observe(exit_code=11, note_kind="wrong_answer", note="x != y"))
    assert (verdict, detail) == ("wrong_answer", "x != y")
    verdict, detail = classify(observe(exit_code=12, note_kind="passed", note="trust me"))
    assert (verdict, detail) == ("crash", "")
