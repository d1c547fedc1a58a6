"""What this host can enforce, and the command line that enforces it.

Three backends, best first, each probed once per process (never assumed):

* ``bwrap`` (bubblewrap): new network, pid, ipc and uts namespaces; a read-only view of only
  the interpreter and ``/usr``; private size-capped tmpfs ``/work`` and ``/tmp``; no
  ``/proc``; no-new-privileges; killed with its parent; a fresh uid per run when root.
* ``unshare`` (util-linux): new network and pid namespaces, killed with its parent; the host
  filesystem stays visible (the guard and the uid are what keep writes out).
* ``plain``: a new session and process group only.

Every run carries :attr:`Backend.protections`: each protection is ``"enforced"`` or
``"unavailable: <why>"``. ``PROMGATE_SANDBOX_BACKEND`` forces a backend (tests use it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from promgate.sandbox.payload import payload_dir

BACKEND_ENV = "PROMGATE_SANDBOX_BACKEND"
BACKENDS = ("bwrap", "unshare", "plain")
ENFORCED = "enforced"

SANDBOX_ROOT = "/promgate"  # where the driver and the job appear inside a bwrap sandbox
SANDBOX_WORK = "/work"
SANDBOX_TMP = "/tmp"
# Not -I: it implies -E, which would drop PYTHONHASHSEED. The environment is ours entirely.
PYTHON_FLAGS = ("-P", "-s", "-S", "-B")
# A fixed hash seed: set and dict-of-str iteration order, and so verdicts, repeat run to run.
FIXED_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}


@dataclass(frozen=True)
class Interpreter:
    executable: str  # a real path, not a venv symlink: the sandbox sees no venv
    prefix: str

    @classmethod
    def current(cls) -> Interpreter:
        prefix = os.path.realpath(sys.base_prefix)
        real = os.path.realpath(sys.executable)
        if not real.startswith(prefix + os.sep):
            version = f"python{sys.version_info.major}.{sys.version_info.minor}"
            real = os.path.join(prefix, "bin", version)
        return cls(executable=real, prefix=prefix)

    def readable_by_others(self) -> bool:
        """Whether a fresh uid can run it in place (matters without a mount namespace)."""
        path = Path(self.prefix)
        return all(part.stat().st_mode & 0o001 for part in [path, *path.parents])


@dataclass(frozen=True)
class Backend:
    name: str
    interpreter: Interpreter
    drop_uid: bool
    protections: dict[str, str] = field(default_factory=dict)

    @property
    def limits_processes(self) -> bool:
        return self.protections.get("rlimit_processes") == ENFORCED

    def writable(self, workdir: Path | None) -> tuple[str, ...]:
        """Directories the program may write, as it sees them."""
        if self.name == "bwrap" or workdir is None:
            return (SANDBOX_WORK, SANDBOX_TMP)
        return (str(workdir),)

    def readable(self, job: Path | None) -> tuple[str, ...]:
        """Directories the program may read (besides the writable ones), as it sees them."""
        system = ("/usr", "/bin", "/lib", "/lib64", "/dev", self.interpreter.prefix)
        if self.name == "bwrap" or job is None:
            return (*system, SANDBOX_ROOT)
        return (*system, str(job), str(payload_dir()))  # the driver's, for its tracebacks

    def command(
        self, scratch_mb: int, driver_args: list[str], job_fds: tuple[int, int] | None
    ) -> list[str]:
        """The argv; under bwrap ``job_fds`` (program, tests) become the job's two files."""
        python = [self.interpreter.executable, *PYTHON_FLAGS]
        if self.name == "bwrap":
            if job_fds is None:
                raise ValueError("the bwrap backend takes the job as two file descriptors")
            inner = [*python, f"{SANDBOX_ROOT}/lib/boot.py", *driver_args]
            return _bwrap_argv(self.interpreter, scratch_mb, self.drop_uid, job_fds) + inner
        inner = [*python, str(payload_dir() / "boot.py"), *driver_args]
        if self.name == "unshare":
            return ["unshare", "--net", "--pid", "--fork", "--kill-child", *inner]
        return inner

    def zygote_command(self, scratch_mb: int, driver_args: list[str]) -> list[str]:
        """The argv of a zygote: one namespace that serves many programs (bwrap only)."""
        if self.name != "bwrap":
            raise ValueError(f"the {self.name} backend has no zygote")
        inner = [self.interpreter.executable, *PYTHON_FLAGS, f"{SANDBOX_ROOT}/lib/boot.py"]
        outer = _bwrap_argv(self.interpreter, scratch_mb, self.drop_uid, None)
        return [*outer, *inner, *driver_args]

    def environment(self, workdir: Path | None) -> dict[str, str]:
        if self.name == "bwrap" or workdir is None:
            return {**FIXED_ENV, "HOME": SANDBOX_WORK, "TMPDIR": SANDBOX_TMP}
        return {**FIXED_ENV, "HOME": str(workdir), "TMPDIR": str(workdir)}


def _ancestors_outside_usr(prefix: str) -> list[str]:
    parts = Path(prefix).parents
    return [str(p) for p in reversed(parts) if str(p) not in ("/", "/usr")]


def _root_entries() -> list[str]:
    """Bind /usr, and mirror the host's /bin, /lib, /lib64 (symlinks on merged-/usr hosts)."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    return argv


def _bwrap_argv(
    interp: Interpreter, scratch_mb: int, drop_uid: bool, job_fds: tuple[int, int] | None
) -> list[str]:
    size = str(scratch_mb * 1024 * 1024)
    argv = [
        "bwrap",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--as-pid-1",  # the supervisor is init: its exit takes down the whole namespace
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    if drop_uid:
        # The driver needs exactly these two to move itself and the run to fresh uids.
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    argv += _root_entries()
    if not interp.prefix.startswith("/usr/"):
        for parent in _ancestors_outside_usr(interp.prefix):
            argv += ["--perms", "0755", "--dir", parent]
        argv += ["--ro-bind", interp.prefix, interp.prefix]
    argv += ["--perms", "0755", "--dir", SANDBOX_ROOT]
    argv += ["--ro-bind", str(payload_dir()), f"{SANDBOX_ROOT}/lib"]
    argv += ["--perms", "0755", "--dir", f"{SANDBOX_ROOT}/job"]
    if job_fds is not None:
        for fd, name in zip(job_fds, ("program.py", "tests.py"), strict=True):
            argv += ["--perms", "0444", "--ro-bind-data", str(fd), f"{SANDBOX_ROOT}/job/{name}"]
    argv += ["--dev", "/dev"]
    argv += ["--perms", "1777", "--size", size, "--tmpfs", SANDBOX_TMP]
    argv += ["--perms", "1777", "--size", size, "--tmpfs", SANDBOX_WORK]
    argv += ["--chdir", SANDBOX_WORK, "--clearenv"]
    env = {**FIXED_ENV, "HOME": SANDBOX_WORK, "TMPDIR": SANDBOX_TMP}
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return [*argv, "--"]


def _probe(argv: list[str]) -> str | None:
    """None when ``argv`` runs and exits 0, else why not."""
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode != 0:
        return (done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}")[:200]
    return None


def _probe_bwrap(interp: Interpreter, root: bool) -> str | None:
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian package bubblewrap)"
    argv = _bwrap_argv(interp, 1, root, None)
    return _probe([*argv, interp.executable, *PYTHON_FLAGS, "-c", "pass"])


def _probe_unshare(interp: Interpreter) -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed (util-linux)"
    argv = ["unshare", "--net", "--pid", "--fork", "--kill-child"]
    return _probe([*argv, interp.executable, *PYTHON_FLAGS, "-c", "pass"])


KILL_GROUP = "unavailable: process group kill only; a daemon that calls setsid() may survive"


def _protections(name: str, drop_uid: bool, why: dict[str, str]) -> dict[str, str]:
    no_ns = why.get("unshare") or why.get("bwrap") or "no namespace backend"
    no_fs = why.get("bwrap") or "needs bubblewrap"
    root_only = "needs root (to give each run its own uid)"
    uid_reason = ENFORCED if drop_uid else f"unavailable: {why.get('uid', root_only)}"
    ns = ENFORCED if name in ("bwrap", "unshare") else f"unavailable: {no_ns}"
    fs = ENFORCED if name == "bwrap" else f"unavailable: {no_fs}"
    return {
        "process_group": ENFORCED,
        "rlimit_cpu": ENFORCED,
        "rlimit_address_space": ENFORCED,
        "rlimit_file_size": ENFORCED,
        "rlimit_open_files": ENFORCED,
        "rlimit_core": ENFORCED,
        # Linux ignores RLIMIT_NPROC for root, so it binds only with a uid of its own.
        "rlimit_processes": ENFORCED if drop_uid else "unavailable: not enforced for root",
        "distinct_uid": uid_reason,
        "network_namespace": ns,
        "pid_namespace": ns,
        "kill_whole_tree": ENFORCED if name in ("bwrap", "unshare") or drop_uid else KILL_GROUP,
        "readonly_filesystem": fs,
        "private_tmp": fs if name == "bwrap" else "unavailable: host /tmp visible",
        "no_proc": fs,
        "no_new_privileges": fs,
        "empty_environment": ENFORCED,
        "closed_stdin": ENFORCED,
        "output_cap": ENFORCED,
        "wall_clock_timeout": ENFORCED,
        "fixed_hash_seed": ENFORCED,
    }


def select_backend(forced: str | None = None) -> Backend:
    """The best backend that works here, or ``forced`` (else $PROMGATE_SANDBOX_BACKEND)."""
    forced = forced or os.environ.get(BACKEND_ENV) or None
    if forced is not None and forced not in BACKENDS:
        raise ValueError(f"unknown sandbox backend {forced!r}; choose from {BACKENDS}")
    return _select(forced)


@cache
def _select(forced: str | None) -> Backend:
    interp = Interpreter.current()
    root = os.geteuid() == 0
    why: dict[str, str] = {}
    if forced:
        why = {name: f"backend {forced!r} was requested" for name in BACKENDS if name != forced}
    order = [forced] if forced else list(BACKENDS)
    for name in order:
        if name == "bwrap":
            reason = _probe_bwrap(interp, root)
        elif name == "unshare":
            reason = _probe_unshare(interp)
        else:
            reason = None
        if reason is None:
            drop = root and (name == "bwrap" or interp.readable_by_others())
            if root and not drop:
                why["uid"] = f"{interp.prefix} is not readable by other uids"
            return Backend(name, interp, drop, _protections(name, drop, why))
        why[name] = reason
        if forced:
            raise RuntimeError(f"sandbox backend {name!r} does not work here: {reason}")
    raise AssertionError("the plain backend always works")
