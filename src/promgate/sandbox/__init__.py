"""Running untrusted programs (model-written code) in an isolated, resource-capped sandbox.

``run_program(program, tests)`` is the entry point; ``run_many`` runs a batch on all cores.
Each result carries a verdict (passed, or the failure kind) and the sandbox's report of what
this host enforced and what it could not.

Where things live: the host side in ``runner`` (with ``isolation`` choosing the backend,
``sweep`` finding leftovers, ``verdict`` classifying); the inside in ``_driver`` (process
layout and the threat model) and ``_guard`` (the audit-hook policy).
"""

from promgate.sandbox.isolation import select_backend
from promgate.sandbox.limits import Limits
from promgate.sandbox.pool import default_workers, run_many
from promgate.sandbox.runner import RunResult, SandboxError, SandboxReport, run_program
from promgate.sandbox.verdict import FAILURE_KINDS, Verdict

__all__ = [
    "FAILURE_KINDS",
    "Limits",
    "RunResult",
    "SandboxError",
    "SandboxReport",
    "Verdict",
    "default_workers",
    "run_many",
    "run_program",
    "select_backend",
]
