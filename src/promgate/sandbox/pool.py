"""Run many sandboxed programs at once, one worker per core."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from promgate.sandbox.limits import Limits
from promgate.sandbox.runner import RunResult, run_program


def default_workers() -> int:
    """The cores this process may use (affinity, not the machine's count)."""
    return max(1, len(os.sched_getaffinity(0)))


def run_many(
    jobs: Sequence[tuple[str, str]],
    limits: Limits | None = None,
    *,
    workers: int | None = None,
    guard: bool = True,
    backend: str | None = None,
    fresh: bool = False,
) -> list[RunResult]:
    """Run each ``(program, tests)`` pair; results come back in the order of ``jobs``.

    Threads are enough: each worker only waits on its sandbox (or on the zygote it took from
    the pool for this program and gives back after).
    """
    limits = limits or Limits()
    options = {"guard": guard, "backend": backend, "fresh": fresh}
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as executor:
        futures = [
            executor.submit(run_program, program, tests, limits, **options)
            for program, tests in jobs
        ]
        return [future.result() for future in futures]
