"""Entry point inside the sandbox: a trusted supervisor, the untrusted run, the pass protocol.

Runs under ``python -I -S -B`` inside the sandbox, so it imports nothing from promgate.
Arguments are ``key=value`` pairs (see ``promgate.sandbox.runner``).

Process layout::

    supervisor (this script; never runs untrusted code; own uid)
      └─ run (forked; drops to a fresh uid, sets rlimits, installs the guard, then
              execs the program and then the tests in one namespace)

Threat model
------------
The program is hostile. It may read its own source and the tests (they hold no secret), its
environment (empty), every file it can see, and the interpreter's memory through any Python
API. It may exit early (``sys.exit(0)``, ``os._exit(0)``), print anything, kill or signal
whatever it can, fork, spawn, open sockets, loop, or exhaust memory, threads, files or fds.

A **pass** is the supervisor's record that the run process, by its own pid (checked with
``SO_PEERCRED``), connected to the supervisor's abstract ``AF_UNIX`` socket and sent
``PASS``. The run process holds no channel to the supervisor or to the harness while
untrusted code runs: the listening socket and the result fd are closed right after the fork,
stdout/stderr/notes are report-only channels that never carry a pass. Making that connection
is the audited ``socket.connect``, and the guard (``_guard.py``) allows it only from the
driver's ``report`` code called directly by the run frame once that frame's fast local
``stage`` holds the private ``done`` object, i.e. after ``exec(tests)`` returned. Hence:

* printing a success line, exiting 0 early, or killing the supervisor never yields a pass;
* there is no token to steal: reading the source, argv, environment or fds gives nothing;
* another process (a child, an exec'd interpreter without the guard) fails the pid check,
  and cannot reach the supervisor's memory (different uid, non-dumpable, no ``/proc``);
* calling ``report`` from the program, a thread, a finaliser or a signal handler fails the
  frame check; the program cannot write the run frame's fast locals without tracing, which
  the guard denies, and it cannot skip test lines without tracing either.

Out of scope, stated plainly: (1) a memory-corruption exploit of the interpreter itself
(crafted bytecode and ctypes are denied, but a CPython bug reachable from pure Python would
defeat any in-process check; the OS layer still confines such a program); (2) semantic
gaming of the tests themselves, e.g. returning an object whose ``__eq__`` is always true or
rebinding a builtin the tests use; the tests run in the program's namespace, as upstream
HumanEval and MBPP define them, so this is a property of the benchmark's tests, not an
escape. Without the guard (``guard=0``, used to test the OS layer alone) the pass protocol
is only as strong as the program is honest, and the run's metadata says so.
"""

from __future__ import annotations

import os
import sys

EXIT_WRONG_ANSWER = 11
EXIT_CRASH = 12
EXIT_MEMORY = 13
EXIT_VIOLATION = 14  # equals _guard.VIOLATION_EXIT
EXIT_LIMIT = 15  # a resource cap other than time or memory (file size, fds, threads, disk)

_LIMIT_ERRNOS = frozenset({11, 23, 24, 27, 28})  # EAGAIN (fork), ENFILE, EMFILE, EFBIG, ENOSPC
_PASS = b"PASS"


def main(argv: list[str]) -> None:
    cfg = dict(arg.split("=", 1) for arg in argv)
    if cfg.get("mode") == "zygote":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import _zygote

        sys.path.pop(0)
        _zygote.serve(cfg)
        return
    job = cfg["job"]
    program = _read_text(job + "/program.py")
    tests = _read_text(job + "/tests.py")
    result_fd = int(cfg["result_fd"])
    notes_fd = int(cfg["notes_fd"])

    import _socket

    address, listener = listen(_socket)
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        listener.close()
        os.close(result_fd)
        _run_untrusted(cfg, program, tests, address, notes_fd, _socket)
    os.close(notes_fd)
    _drop_privileges(cfg.get("sup_uid", ""))
    state, _ = supervise(child, listener, result_fd, _socket)
    drain(listener, child, result_fd, state, _socket)
    write_exit(child, result_fd, state)
    os._exit(0)


def listen(_socket):
    """A fresh abstract socket for one run's pass report: (address, listening socket)."""
    address = "\0promgate-" + os.urandom(16).hex()
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(8)
    return address, listener


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _drop_privileges(uid: str) -> None:
    if not uid:
        return
    ident = int(uid)
    os.setgroups([])
    os.setresgid(ident, ident, ident)
    os.setresuid(ident, ident, ident)  # clears every capability; the process turns non-dumpable


# --- the supervisor ------------------------------------------------------------------------


def supervise(child: int, listener, result_fd: int, _socket, timeout_s=None, watch=None):
    """Record pass reports until the run exits; returns (state, how it ended).

    Ends with "exited" once the run process has exited, "timeout" when ``timeout_s`` ran out
    first, "watch" when ``watch`` (an fd) became readable first. The run is not reaped; once
    it has surely exited, :func:`drain` takes a report sent just before its end.
    """
    import select
    import time

    pidfd = os.pidfd_open(child)
    state = {"passed": False, "tamper": 0}
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    watched = [listener.fileno(), pidfd] + ([watch] if watch is not None else [])
    ended = "exited"
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = select.select(watched, [], [], wait)[0]
            if listener.fileno() in ready:
                _accept(listener, child, result_fd, state, _socket)
            if pidfd in ready:
                break
            if watch is not None and watch in ready:
                ended = "watch"
                break
            if not ready and deadline is not None and time.monotonic() >= deadline:
                ended = "timeout"
                break
    finally:
        os.close(pidfd)
    return state, ended


def write_exit(child: int, result_fd: int, state: dict) -> None:
    """Reap the run and write its exit record."""
    _, status, usage = os.wait4(child, 0)
    code = os.waitstatus_to_exitcode(status)
    record = '{"event":"exit","exit_code":%s,"signal":%s,"cpu_s":%.3f,"maxrss_kb":%d,"tamper":%d}\n'
    cpu = usage.ru_utime + usage.ru_stime
    exit_code = str(code) if code >= 0 else "null"
    signal = str(-code) if code < 0 else "null"
    line = record % (exit_code, signal, cpu, usage.ru_maxrss, state["tamper"])
    os.write(result_fd, line.encode())


def drain(listener, child: int, result_fd: int, state: dict, _socket) -> None:
    """Accept what waits in the backlog: a report sent just before the run exited."""
    listener.setblocking(False)
    while True:
        try:
            _accept(listener, child, result_fd, state, _socket)
        except BlockingIOError:
            break


def _accept(listener, child: int, result_fd: int, state: dict, _socket) -> None:
    fd, _ = listener._accept()
    conn = _socket.socket(fileno=fd)
    try:
        creds = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
        if int.from_bytes(creds[:4], "little", signed=True) != child:
            state["tamper"] += 1
            return
        conn.settimeout(2.0)
        data = b""
        while len(data) <= len(_PASS):
            block = conn.recv(64)
            if not block:
                break
            data += block
        if data == _PASS and not state["passed"]:
            state["passed"] = True
            os.write(result_fd, b'{"event":"pass"}\n')
    except OSError:
        state["tamper"] += 1
    finally:
        conn.close()


# --- the untrusted run ---------------------------------------------------------------------


def _set_limits(cfg: dict[str, str]) -> None:
    import resource

    mb = 1024 * 1024
    cpu = int(cfg["cpu"])
    limits = {
        resource.RLIMIT_CORE: (0, 0),
        # SIGXCPU at the soft limit; the hard limit is the kernel's SIGKILL backstop.
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_AS: (int(cfg["as_mb"]) * mb,) * 2,
        resource.RLIMIT_NPROC: (int(cfg["nproc"]),) * 2,
        resource.RLIMIT_NOFILE: (int(cfg["nofile"]),) * 2,
        resource.RLIMIT_FSIZE: (int(cfg["fsize_mb"]) * mb,) * 2,
    }
    for which, value in limits.items():
        resource.setrlimit(which, value)


def _note(notes_fd: int, kind: str, detail: str) -> None:
    # No contextlib here: every import costs each sandboxed run its start-up time.
    try:  # noqa: SIM105
        os.write(notes_fd, (kind + "\t" + detail.replace("\n", " ")[:500] + "\n").encode())
    except OSError:
        pass  # the program may have closed or filled the notes channel: detail only


def _describe(exc: BaseException) -> str:
    try:
        return (type(exc).__name__ + ": " + str(exc))[:500]
    except BaseException:
        return type(exc).__name__


def _exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, AssertionError):
        return EXIT_WRONG_ANSWER
    if isinstance(exc, MemoryError):
        return EXIT_MEMORY
    if isinstance(exc, OSError) and exc.errno in _LIMIT_ERRNOS:
        return EXIT_LIMIT
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return EXIT_LIMIT
    return EXIT_CRASH


_KINDS = {
    EXIT_WRONG_ANSWER: "wrong_answer",
    EXIT_MEMORY: "memory",
    EXIT_LIMIT: "sandbox_violation",
    EXIT_CRASH: "crash",
}


def _make_report(address: str, _socket):
    socket_cls = _socket.socket
    family = _socket.AF_UNIX
    kind = _socket.SOCK_STREAM
    message = _PASS

    def report() -> None:
        conn = socket_cls(family, kind)
        conn.connect(address)
        conn.sendall(message)
        conn.close()

    return report


def _run_untrusted(
    cfg: dict[str, str], program: str, tests: str, address: str, notes_fd: int, _socket
) -> None:
    exit_ = os._exit
    try:
        _set_limits(cfg)
        _drop_privileges(cfg.get("uid", ""))
        job = cfg["job"]
        try:
            program_code = compile(program, job + "/program.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            _note(notes_fd, "crash", "program does not compile: " + _describe(exc))
            exit_(EXIT_CRASH)
        tests_code = compile(tests, job + "/tests.py", "exec", dont_inherit=True)
        report = _make_report(address, _socket)
        guard = None
        if cfg.get("guard") == "1":
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import _guard as guard

            sys.path.pop(0)
        policy = {
            "report_address": address,
            "notes_fd": notes_fd,
            "writable": tuple(cfg["writable"].split(":")),
            "readable": tuple(cfg["readable"].split(":")),
            "stdlib_dirs": (sys._stdlib_dir,),
            "dynload_dir": sys._stdlib_dir + "/lib-dynload",
            "deny_spawn": cfg.get("deny_spawn") == "1",
        }
        _run(program_code, tests_code, report, guard, policy, exec)
    except BaseException as exc:  # the program's own exit or error: never a pass
        code = EXIT_CRASH
        try:
            code = _exit_code_for(exc)
            if isinstance(exc, SystemExit):
                detail = f"SystemExit({exc.code!r}) before the tests completed"
            else:
                detail = _describe(exc)
            _note(notes_fd, _KINDS[code], detail)
            import traceback

            traceback.print_exception(exc)
        except BaseException:
            pass
        _flush()
        exit_(code)
    _flush()
    exit_(0)


def _run(program_code, tests_code, report, guard, policy, exec_) -> None:
    # ``stage`` is a fast local: the guard reads it through this frame to authorise report().
    # Nothing reads it here, hence the noqa; it must stay a plain local of this function.
    done = object()
    stage = None
    if guard is not None:
        guard.install(run_frame=sys._getframe(), done=done, report_code=report.__code__, **policy)
    namespace: dict = {}
    exec_(program_code, namespace)
    exec_(tests_code, namespace)
    stage = done  # noqa: F841
    report()


def _flush() -> None:
    for stream in (sys.__stdout__, sys.__stderr__):
        try:  # noqa: SIM105 (see _note)
            type(stream).flush(stream)
        except BaseException:
            pass


if __name__ == "__main__":
    main(sys.argv[1:])
