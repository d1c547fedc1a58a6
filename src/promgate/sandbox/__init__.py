"""Running untrusted programs (model-written code) in an isolated, resource-capped sandbox.

``run_program(program, tests)`` is the entry point; ``run_many`` runs a batch on all cores.
Each result carries a verdict (passed, or the failure kind) and the sandbox's report of what
this host enforced and what it could not. Programs run in warm zygotes where the host allows
(``zygote``, ``_zygote``); ``close_zygotes()`` ends the idle ones (they also end at exit).

Where things live: the host side in ``runner`` (with ``isolation`` choosing the backend,
``sweep`` finding leftovers, ``verdict`` classifying, ``zygote`` pooling warm sandboxes);
the inside in ``_driver`` (process layout and the threat model), ``_zygote`` (one namespace
serving many programs) and ``_guard`` (the audit-hook policy).
"""

from promgate.sandbox.isolation import select_backend
from promgate.sandbox.limits import Limits
from promgate.sandbox.pool import default_workers, run_many
from promgate.sandbox.runner import RunResult, SandboxError, SandboxReport, run_program
from promgate.sandbox.verdict import FAILURE_KINDS, Verdict
from promgate.sandbox.zygote import close_zygotes

__all__ = [
    "FAILURE_KINDS",
    "Limits",
    "RunResult",
    "SandboxError",
    "SandboxReport",
    "Verdict",
    "close_zygotes",
    "default_workers",
    "run_many",
    "run_program",
    "select_backend",
]
