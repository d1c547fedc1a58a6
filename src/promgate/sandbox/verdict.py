"""Turn what the sandbox observed into one verdict: passed, or a typed failure."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["passed", "wrong_answer", "timeout", "memory", "crash", "sandbox_violation"]
FAILURE_KINDS: tuple[Verdict, ...] = (
    "wrong_answer",
    "timeout",
    "memory",
    "crash",
    "sandbox_violation",
)

# Exit codes of the run process, set by the driver (and forgeable by the program, which can
# only ever relabel a failure with them: a pass never comes from an exit code).
_BY_EXIT_CODE: dict[int, Verdict] = {
    11: "wrong_answer",
    12: "crash",
    13: "memory",
    14: "sandbox_violation",
    15: "sandbox_violation",
}


@dataclass(frozen=True)
class Observation:
    passed: bool  # the supervisor authenticated a pass report
    timed_out: bool  # the harness hit the wall-clock limit
    exit_code: int | None  # of the run process, from its supervisor
    signal: int | None
    cpu_s: float | None
    tamper: int  # connections to the supervisor from another process
    note_kind: str | None  # the driver's (or the program's) own claim: detail only
    note: str
    cpu_limit_s: int
    wall_limit_s: float


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def classify(obs: Observation) -> tuple[Verdict, str]:
    if obs.passed:
        return "passed", ""
    if obs.tamper:
        return "sandbox_violation", f"{obs.tamper} connection(s) to the supervisor from elsewhere"
    if obs.timed_out:
        return "timeout", f"wall-clock limit of {obs.wall_limit_s:g} s"
    if obs.signal is not None:
        name = _signal_name(obs.signal)
        if obs.signal == signal.SIGXCPU:
            return "timeout", f"CPU-time limit of {obs.cpu_limit_s} s ({name})"
        if obs.signal == signal.SIGKILL and (obs.cpu_s or 0.0) >= obs.cpu_limit_s - 0.1:
            return "timeout", f"CPU-time limit of {obs.cpu_limit_s} s (SIGKILL)"
        return "crash", f"killed by {name}"
    if obs.exit_code is None:
        return "crash", "the sandbox ended without an exit record"
    kind = _BY_EXIT_CODE.get(obs.exit_code)
    if kind is None:
        return "crash", f"exited with status {obs.exit_code} before the tests completed"
    return kind, obs.note if obs.note_kind == kind else ""
