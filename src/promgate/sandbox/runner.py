"""Run one untrusted Python program and its tests in the sandbox; return a typed verdict.

The harness side of the sandbox: it writes the job, starts the backend's command in a new
session with an empty environment and ``/dev/null`` as stdin, waits on a pidfd for the
wall-clock limit, kills the whole tree when it runs out, sweeps the run's uids, and reads
the report channels. stdout, stderr, the notes and the supervisor's result are memfds: the
kernel caps what the program can write to them (RLIMIT_FSIZE), nothing has to drain them
while it runs, and only the first ``output_bytes`` are ever read back.

The in-sandbox half and the threat model are in ``_driver.py`` and ``_guard.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from promgate.errors import PromgateError
from promgate.sandbox.isolation import ENFORCED, SANDBOX_ROOT, Backend, select_backend
from promgate.sandbox.limits import Limits
from promgate.sandbox.sweep import kill_followers, kill_group, sweep
from promgate.sandbox.verdict import Observation, Verdict, classify
from promgate.sandbox.zygote import POOL, Zygote, ZygoteError

# How long past its wall-clock limit a zygote may take to kill a run, clean up and reply.
ZYGOTE_GRACE_S = 10.0
ZYGOTE_SHARED = (
    "unavailable: the programs of one worker share a namespace (a zygote); between them "
    "every process of the run's uid is killed and /work and /tmp are emptied and checked"
)

# Uids handed to runs: far above any account's uid, random so concurrent harnesses (other
# test sessions, other workers) do not collide. Each run takes two: its program's and its
# supervisor's.
_UID_LOW, _UID_HIGH = 1 << 24, (1 << 31) - 4


class SandboxError(PromgateError):
    """The sandbox does not work on this host: no verdict it gave could be trusted."""


@dataclass(frozen=True)
class SandboxReport:
    backend: str
    protections: dict[str, str]
    guard: bool
    uid: int | None
    # Processes of the run's uids still alive once the sandbox process was reaped, killed by
    # the harness's sweep: 0 after a normal exit (the pid namespace died with its init, or
    # the zygote killed the uid's processes); after a timeout of a fresh sandbox, what the
    # kernel was still tearing down.
    processes_swept: int
    # The zygote that ran it (its bubblewrap's host pid), None for a sandbox of its own.
    zygote: int | None = None

    @property
    def unavailable(self) -> dict[str, str]:
        return {k: v for k, v in self.protections.items() if v != ENFORCED}


@dataclass(frozen=True)
class RunResult:
    verdict: Verdict
    detail: str
    returncode: int | None
    signal: int | None
    stdout: str
    stderr: str
    stdout_bytes: int
    stderr_bytes: int
    wall_s: float
    cpu_s: float | None
    maxrss_kb: int | None
    sandbox: SandboxReport = field(repr=False)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def error(self) -> str | None:
        """The failure kind (None on a pass): what ItemResult.error records."""
        return None if self.passed else self.verdict


def _memfd(name: str) -> int:
    return os.memfd_create(f"promgate-{name}")  # close-on-exec; Popen passes it on purpose


def _head(fd: int, limit: int) -> tuple[bytes, int]:
    size = os.fstat(fd).st_size
    return os.pread(fd, min(size, limit), 0), size


def _wait(process: subprocess.Popen, timeout_s: float) -> bool:
    """Wait for exit with no polling delay; False when ``timeout_s`` ran out first."""
    pidfd = os.pidfd_open(process.pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout_s)
    finally:
        os.close(pidfd)
    return bool(ready)


def _driver_args(
    job: Path | None,
    limits: Limits,
    backend: Backend,
    uid: int | None,
    guard: bool,
    fds: tuple[int, int],
) -> list[str]:
    workdir = job / "work" if job is not None else None
    args = {
        "job": str(job) if job is not None else f"{SANDBOX_ROOT}/job",
        "result_fd": fds[0],
        "notes_fd": fds[1],
        "uid": uid if uid is not None else "",
        "sup_uid": uid + 1 if uid is not None else "",
        "cpu": limits.cpu_time_s,
        "as_mb": limits.address_space_mb,
        "nproc": limits.max_processes,
        "nofile": limits.open_files,
        "fsize_mb": limits.file_size_mb,
        "guard": int(guard),
        "writable": ":".join(backend.writable(workdir)),
        "readable": ":".join(backend.readable(job)),
        "deny_spawn": int(not backend.limits_processes),
    }
    return [f"{key}={value}" for key, value in args.items()]


def _parse_result(raw: bytes) -> tuple[bool, dict | None]:
    passed, record = False, None
    for line in raw.decode("utf-8", "replace").splitlines():
        event = json.loads(line)
        if event.get("event") == "pass":
            passed = True
        elif event.get("event") == "exit":
            record = event
    return passed, record


def _parse_note(raw: bytes) -> tuple[str | None, str]:
    lines = [ln for ln in raw.decode("utf-8", "replace").splitlines() if "\t" in ln]
    if not lines:
        return None, ""
    kind, _, detail = lines[-1].partition("\t")
    return kind, detail


def _write_job(root: Path, program: str, tests: str, uid: int | None) -> Path:
    """The job as files, for backends that see the host filesystem."""
    job = root / "job"
    job.mkdir(mode=0o755)
    (job / "program.py").write_text(program, encoding="utf-8")
    (job / "tests.py").write_text(tests, encoding="utf-8")
    for name in ("program.py", "tests.py"):
        (job / name).chmod(0o644)  # readable by the run's uid: tracebacks quote the source
    work = job / "work"
    work.mkdir(mode=0o700)
    if uid is not None:
        os.chown(work, uid, uid)
    root.chmod(0o755)
    return job


def _memfd_with(name: str, text: str) -> int:
    fd = _memfd(name)
    os.write(fd, text.encode("utf-8"))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


_SELF_TEST = Limits(wall_timeout_s=30.0, cpu_time_s=10)
_self_tested: set[str] = set()
_self_test_lock = threading.Lock()


def _self_test(backend: Backend) -> None:
    """Once per backend and process: a known pass and a known failure must come out right.

    A misconfigured host (a uid it cannot switch to, a missing mount) would otherwise turn
    every program into a "crash" and every model's pass@k into 0, silently.
    """
    with _self_test_lock:
        if backend.name in _self_tested:
            return
        good = _execute("def f():\n    return 1\n", "assert f() == 1\n", _SELF_TEST, True, backend)
        bad = _execute("def f():\n    return 1\n", "assert f() == 2\n", _SELF_TEST, True, backend)
        if (good.verdict, bad.verdict) != ("passed", "wrong_answer"):
            raise SandboxError(
                f"the {backend.name} sandbox fails its self-test: a correct program gave "
                f"{good.verdict} ({good.detail}), a wrong one {bad.verdict} ({bad.detail}); "
                f"stderr: {(good.stderr or bad.stderr)[-500:]}"
            )
        _self_tested.add(backend.name)


def run_program(
    program: str,
    tests: str = "",
    limits: Limits | None = None,
    *,
    guard: bool = True,
    backend: str | None = None,
    fresh: bool = False,
) -> RunResult:
    """Run ``program`` and then ``tests`` in one namespace; a pass needs the tests to finish.

    With bubblewrap as root, programs run in warm zygotes (see ``sandbox/_zygote.py``);
    ``fresh=True`` starts a sandbox of its own for this program instead (slower).
    ``guard=False`` leaves only the OS layer (used to test it alone); the pass report is then
    not protected against a program that looks for it, and the result says so. Raises
    :class:`SandboxError` when the sandbox itself does not work here.
    """
    chosen = select_backend(backend)
    _self_test(chosen)
    return _execute(program, tests, limits or Limits(), guard, chosen, fresh)


def uses_zygote(backend: Backend, fresh: bool = False) -> bool:
    """Zygotes need bubblewrap and root: a fresh uid per run is what keeps runs apart."""
    return backend.name == "bwrap" and backend.drop_uid and not fresh


def run_protections(backend: Backend, guard: bool, zygote: bool) -> dict[str, str]:
    """What a run enforces: the backend's protections, the guard's, and namespace reuse."""
    protections = dict(backend.protections)
    protections["audit_guard"] = ENFORCED if guard else "unavailable: disabled for this run"
    protections["pass_report_authenticated"] = (
        ENFORCED if guard else "unavailable: without the guard the program can forge it"
    )
    if zygote and guard:  # an unguarded run gets a zygote, and so a namespace, of its own
        protections["namespace_per_program"] = ZYGOTE_SHARED
    return protections


def _new_uid() -> int:
    return secrets.randbelow(_UID_HIGH - _UID_LOW) + _UID_LOW


def _execute(
    program: str, tests: str, limits: Limits, guard: bool, chosen: Backend, fresh: bool = False
) -> RunResult:
    if uses_zygote(chosen, fresh):
        return _execute_in_zygote(program, tests, limits, guard, chosen)
    uid = _new_uid() if chosen.drop_uid else None
    fds = [_memfd("result"), _memfd("notes"), _memfd("stdout"), _memfd("stderr")]
    try:
        with contextlib.ExitStack() as cleanup:
            if chosen.name == "bwrap":  # the job travels as two memfds: no host files at all
                job, job_fds = None, (_memfd_with("program", program), _memfd_with("tests", tests))
                fds += job_fds
            else:
                tmp = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="promgate-run-"))
                job, job_fds = _write_job(Path(tmp), program, tests, uid), None
            args = _driver_args(job, limits, chosen, uid, guard, (fds[0], fds[1]))
            started = time.monotonic()
            process = subprocess.Popen(
                chosen.command(limits.scratch_mb, args, job_fds),
                stdin=subprocess.DEVNULL,
                stdout=fds[2],
                stderr=fds[3],
                pass_fds=(fds[0], fds[1], *(job_fds or ())),
                env=chosen.environment(job / "work" if job else None),
                cwd=job / "work" if job else "/",
                start_new_session=True,
            )
            timed_out = not _wait(process, limits.wall_timeout_s)
            if timed_out:
                # Kill the run's processes and let their parents reap them: under bwrap the
                # supervisor is the namespace's init, so its death empties the namespace;
                # elsewhere the group's leader outlives its followers. Killing the leader
                # first would leave orphans to an init that may never reap them. The whole
                # group goes too if that was not enough.
                if uid is not None:
                    sweep((uid, uid + 1))
                else:
                    kill_followers(process.pid)
                if not _wait(process, 2.0):
                    kill_group(process.pid)
            process.wait()
            wall = time.monotonic() - started
            kill_group(process.pid)  # stragglers that kept the group (plain backend)
            swept = sweep((uid, uid + 1)) if uid is not None else 0
        channels = _read_channels(fds, limits)
    finally:
        for fd in fds:
            os.close(fd)
    lost = None if channels[0] else f"sandbox exit status {process.returncode}"
    report = SandboxReport(chosen.name, run_protections(chosen, guard, False), guard, uid, swept)
    return _result(channels, timed_out, wall, limits, report, lost)


def _execute_in_zygote(
    program: str, tests: str, limits: Limits, guard: bool, chosen: Backend
) -> RunResult:
    uid = _new_uid()
    fds = [_memfd("result"), _memfd("notes"), _memfd("stdout"), _memfd("stderr")]
    fds += [_memfd_with("program", program), _memfd_with("tests", tests)]
    header = {
        "uid": uid,
        "cpu": limits.cpu_time_s,
        "as_mb": limits.address_space_mb,
        "nproc": limits.max_processes,
        "nofile": limits.open_files,
        "fsize_mb": limits.file_size_mb,
        "guard": int(guard),
        "wall_s": limits.wall_timeout_s,
    }
    try:
        # An unguarded run could leave native-code state (SysV IPC) in the namespace or read
        # a reused zygote's freed memory: it gets a zygote of its own, used once.
        scratch = limits.scratch_mb
        zygote = POOL.acquire(chosen, scratch) if guard else Zygote(chosen, scratch)
        started = time.monotonic()
        reply = zygote.run(header, fds, limits.wall_timeout_s + ZYGOTE_GRACE_S)
        wall = time.monotonic() - started
        swept, lost = 0, None
        if reply is None:  # it broke down or missed its deadline: nothing of it is reused
            lost = f"the sandbox's zygote stopped answering: {zygote.log()[-500:]}"
            zygote.kill()
            swept = sweep((uid, uid + 1))
        else:
            POOL.release(zygote, reusable=guard and reply.clean)
            if not reply.clean:
                swept = sweep((uid, uid + 1))
        channels = _read_channels(fds, limits)
    except ZygoteError as exc:
        raise SandboxError(str(exc)) from exc
    finally:
        for fd in fds:
            os.close(fd)
    timed_out = reply.timed_out if reply is not None else wall >= limits.wall_timeout_s
    protections = run_protections(chosen, guard, True)
    report = SandboxReport(chosen.name, protections, guard, uid, swept, zygote.process.pid)
    return _result(channels, timed_out, wall, limits, report, lost)


def _read_channels(fds: list[int], limits: Limits) -> tuple[bytes, bytes, bytes, int, bytes, int]:
    """(result, notes, stdout, stdout size, stderr, stderr size), each cut to its cap."""
    result_raw, _ = _head(fds[0], 1 << 16)
    notes_raw, _ = _head(fds[1], 1 << 16)
    out, out_size = _head(fds[2], limits.output_bytes)
    err, err_size = _head(fds[3], limits.output_bytes)
    return result_raw, notes_raw, out, out_size, err, err_size


def _result(
    channels: tuple[bytes, bytes, bytes, int, bytes, int],
    timed_out: bool,
    wall: float,
    limits: Limits,
    report: SandboxReport,
    lost: str | None,
) -> RunResult:
    result_raw, notes_raw, out, out_size, err, err_size = channels
    passed, record = _parse_result(result_raw)
    note_kind, note = _parse_note(notes_raw)
    record = record or {}
    observation = Observation(
        passed=passed,
        timed_out=timed_out,
        exit_code=record.get("exit_code"),
        signal=record.get("signal"),
        cpu_s=record.get("cpu_s"),
        tamper=record.get("tamper", 0),
        note_kind=note_kind,
        note=note,
        cpu_limit_s=limits.cpu_time_s,
        wall_limit_s=limits.wall_timeout_s,
    )
    verdict, detail = classify(observation)
    if not record and not timed_out and lost:
        detail = f"{detail}; {lost}"
    return RunResult(
        verdict=verdict,
        detail=detail,
        returncode=record.get("exit_code"),
        signal=record.get("signal"),
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        stdout_bytes=out_size,
        stderr_bytes=err_size,
        wall_s=wall,
        cpu_s=record.get("cpu_s"),
        maxrss_kb=record.get("maxrss_kb"),
        sandbox=report,
    )
