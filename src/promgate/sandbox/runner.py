"""Run one Python program in its own process group with rlimits and a kill-on-timeout.

This is the first layer of the sandbox: limits, a private working directory, an empty
environment, closed stdin, capped output, and a sentinel that proves the test code ran to
its end. Network isolation and the hostile-program corpus build on it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from promgate.sandbox.limits import Limits

Verdict = Literal["passed", "failed", "timeout", "memory", "crash", "no_sentinel"]


@dataclass(frozen=True)
class RunResult:
    verdict: Verdict
    returncode: int | None
    stdout: str
    stderr: str
    enforced: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"


def _apply_limits(limits: Limits) -> None:
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_time_s, limits.cpu_time_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.address_space_mb * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files,) * 2)
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes,) * 2)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def run_python(program: str, limits: Limits | None = None) -> RunResult:
    """Run ``program``; it passes only if it exits 0 *and* prints the sentinel at its end."""
    limits = limits or Limits()
    sentinel = f"promgate-done-{secrets.token_hex(16)}"
    # The sentinel is printed by the last line, so an early sys.exit(0) or os._exit(0)
    # cannot pass. It is random per run, so the program cannot print it in advance.
    source = program + f"\n\nprint({sentinel!r}, flush=True)\n"
    with tempfile.TemporaryDirectory(prefix="promgate-run-") as workdir:
        script = Path(workdir) / "program.py"
        script.write_text(source, encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", str(script)],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8"},
            start_new_session=True,
            preexec_fn=lambda: _apply_limits(limits),
        )
        timed_out = False
        try:
            out, err = process.communicate(timeout=limits.wall_timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process.pid)
            out, err = process.communicate()
        # Whatever the program left behind in its group goes too.
        _kill_group(process.pid)
    stdout = out[: limits.output_bytes].decode("utf-8", "replace")
    stderr = err[: limits.output_bytes].decode("utf-8", "replace")
    code = process.returncode
    if timed_out or code == -signal.SIGXCPU or code == -signal.SIGKILL:
        verdict: Verdict = "timeout"
    elif "MemoryError" in stderr:
        verdict = "memory"
    elif code != 0:
        verdict = "crash" if code is not None and code < 0 else "failed"
    elif sentinel.encode() not in out:
        verdict = "no_sentinel"
    else:
        verdict = "passed"
    enforced = (
        "rlimit_cpu",
        "rlimit_as",
        "rlimit_fsize",
        "rlimit_nofile",
        "rlimit_nproc",
        "process_group_kill",
        "empty_env",
        "private_tmpdir",
        "closed_stdin",
    )
    return RunResult(verdict, code, stdout, stderr, enforced)
