"""The zygote: one warm interpreter per worker that forks a fresh run for every program.

Runs inside the sandbox (one bubblewrap namespace per zygote), as its pid 1, so it imports
nothing from promgate. Starting bubblewrap and an interpreter costs more than most
benchmark programs take to run; the zygote pays it once and then, for each job the harness
sends over its channel, forks the same supervisor/run pair as ``_driver.main`` does in a
fresh sandbox:

    zygote (pid 1; trusted; keeps CAP_SETUID/CAP_SETGID to hand out uids)
      ├─ run (forked per program: new session, stdin /dev/null, stdout/stderr/notes on the
      │       harness's memfds, every other fd closed, rlimits, a fresh uid, the guard)
      └─ cleaner (forked after a run that left a process or a file: takes the run's uid,
                  kills every process of that uid, empties /work and /tmp)

The zygote itself supervises: it holds the run's report socket (``_driver.supervise``)
and enforces the wall-clock limit. It never runs untrusted code; the run cannot signal,
trace or read it (another uid, no capabilities, no ``/proc``), and holds no fd of it.

What one program can leave for the next in the same zygote, and why it cannot:

* processes, threads, sockets: threads die with their process. A process the run left is,
  or descends from, a child of the zygote (pid 1 inherits orphans); if the zygote has any
  child after reaping the run, every process of the run's uid is SIGKILLed by one
  ``kill(-1)`` from that uid (a fork racing the kill fails in the kernel), and the next run
  starts only once the zygote has no child at all. The next run has another uid.
* files: /work and /tmp are emptied after the run and must be empty before the next one,
  else the zygote leaves and its namespace dies with it (fail closed). Nothing else is
  writable (read-only mounts; /dev and /dev/shm are root's).
* interpreter state (monkeypatched modules, builtins, ``sys``): each run is a fork; its
  memory is its own copy and dies with it.
* SysV IPC and POSIX message queues live in the namespace, not in a process; the standard
  library cannot reach them, only native code can, which the guard denies. Runs without
  the guard therefore get a zygote of their own that serves one program and leaves.

Protocol (a SOCK_SEQPACKET pair): the zygote sends ``{"event": "ready"}`` once warm; each job
is one JSON message (uid, limits, guard, wall-clock limit) carrying six fds (result, notes,
stdout, stderr, program, tests); the reply is ``{"event": "done", "timed_out", "clean"}``.
End of file on the channel, at any time, ends the zygote and with it the namespace.
"""

from __future__ import annotations

import os
import sys

import _driver

# Standard-library modules benchmark programs import most (and what the driver needs on a
# failure), imported once here instead of once per run. Only modules the guard lets any
# program import: an import found in sys.modules raises no audit event.
PRELOAD = (
    "typing",
    "math",
    "re",
    "collections",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "string",
    "operator",
    "traceback",
    "linecache",
    "resource",
)
# Never in a zygote (the guard denies them; preloaded they would slip past it).
NEVER_PRELOADED = ("_ctypes", "ctypes", "_posixsubprocess", "subprocess", "_xxsubinterpreters")
_JOB_FDS = 6
RUN_NOTES_FD = 3  # where the run finds its notes channel
REAP_WITHIN_S = 2.0  # for killed processes to finish exiting before the zygote is retired


def serve(cfg: dict[str, str]) -> None:
    import _socket
    import gc
    import json

    channel = _socket.socket(fileno=int(cfg["channel_fd"]))
    for name in PRELOAD:
        __import__(name)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _guard  # noqa: F401  (every guarded run imports it before untrusted code)

    sys.path.pop(0)
    loaded = [name for name in NEVER_PRELOADED if name in sys.modules]
    if loaded:
        _send(channel, json.dumps({"event": "refused", "loaded": loaded}))
        os._exit(1)
    gc.collect()
    gc.freeze()  # the runs' forks then leave the zygote's objects unshared and untouched
    dirs = tuple(cfg["writable"].split(":"))
    _send(channel, json.dumps({"event": "ready"}))
    while True:
        header, fds = _receive(channel, _socket)
        if header is None:
            os._exit(0)  # the harness is gone: pid 1 leaves and the namespace goes with it
        try:
            reply = _serve_one(cfg, json.loads(header), fds, dirs, channel, _socket)
        finally:
            for fd in fds:
                os.close(fd)
        _send(channel, json.dumps(reply))
        if not reply["clean"]:
            os._exit(0)


def _send(channel, text: str) -> None:
    channel.sendall(text.encode())


def _receive(channel, _socket):
    """(header, fds) of one job, or (None, []) at end of file."""
    import array

    size = array.array("i").itemsize
    message, ancillary, flags, _ = channel.recvmsg(1 << 16, _socket.CMSG_SPACE(_JOB_FDS * size))
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % size])
    fds = list(fds)
    if not message:
        return None, fds
    if len(fds) != _JOB_FDS or flags & _socket.MSG_CTRUNC:
        raise RuntimeError(f"a job must carry {_JOB_FDS} fds, got {len(fds)} (flags {flags})")
    return message.decode(), fds


def _serve_one(cfg, job, fds, dirs, channel, _socket) -> dict:
    result_fd, notes_fd, out_fd, err_fd, program_fd, tests_fd = fds
    if not _empty(dirs):
        return {"event": "done", "timed_out": False, "clean": False, "error": "dirty before run"}
    program, tests = _read_fd(program_fd), _read_fd(tests_fd)
    run_cfg = {**cfg, **{key: str(value) for key, value in job.items()}}
    uid = int(job["uid"])
    address, listener = _driver.listen(_socket)
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        _become_run(run_cfg, program, tests, address, (out_fd, err_fd, notes_fd), _socket)
    try:
        state, ended = _driver.supervise(
            child, listener, result_fd, _socket, float(job["wall_s"]), channel.fileno()
        )
        if ended != "exited":
            _clean_up(uid, ())  # kill the run now: it outlived its time or its harness
        _driver.drain(listener, child, result_fd, state, _socket)
        _driver.write_exit(child, result_fd, state)
    finally:
        listener.close()
    clean = _leave_nothing(uid, dirs)
    if ended == "watch":
        os._exit(0)  # the channel spoke out of turn or closed: the harness is gone
    return {"event": "done", "timed_out": ended == "timeout", "clean": clean}


def _read_fd(fd: int) -> str:
    chunks = []
    offset = 0
    while True:
        block = os.pread(fd, 1 << 20, offset)
        if not block:
            return b"".join(chunks).decode("utf-8")
        chunks.append(block)
        offset += len(block)


def _become_run(cfg, program, tests, address, channels, _socket) -> None:
    """In the forked child: the process layout of a fresh sandbox's run, then the program."""
    out_fd, err_fd, notes_fd = channels
    try:
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.dup2(notes_fd, RUN_NOTES_FD)
        os.closerange(RUN_NOTES_FD + 1, os.sysconf("SC_OPEN_MAX"))  # channel, socket, result
        os.setsid()
        os.chdir(cfg["workdir"])
        import linecache

        # Tracebacks quote the job's lines; there are no job files to read them from.
        for name, text in (("program.py", program), ("tests.py", tests)):
            path = cfg["job"] + "/" + name
            linecache.cache[path] = (len(text), None, text.splitlines(True), path)
    except BaseException:
        os._exit(_driver.EXIT_CRASH)
    _driver._run_untrusted(cfg, program, tests, address, RUN_NOTES_FD, _socket)


def _clean_up(uid: int, dirs: tuple[str, ...]) -> bool:
    """Kill every process of ``uid`` and empty ``dirs``, from a child that takes that uid."""
    child = os.fork()
    if child == 0:
        code = 2
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            try:  # noqa: SIM105 (contextlib would be one more import in every zygote)
                os.kill(-1, 9)  # every process this uid may signal: exactly the run's
            except ProcessLookupError:
                pass
            wiped = [_wipe(path) for path in dirs]
            code = 0 if all(wiped) else 1
        except BaseException:
            pass
        os._exit(code)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _wipe(path: str) -> bool:
    """Remove everything under ``path`` that this uid may remove; True when all went."""
    ok = True
    for entry in os.scandir(path):
        try:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)  # a run may have locked its own directory
                ok = _wipe(entry.path) and ok
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            ok = False
    return ok


def _empty(dirs: tuple[str, ...]) -> bool:
    return not any(os.listdir(path) for path in dirs)


def _leave_nothing(uid: int, dirs: tuple[str, ...]) -> bool:
    """True once no process but the zygote is left and ``dirs`` are empty.

    As pid 1 the zygote is the ancestor every orphan falls back to: once the run is reaped,
    any process it left has an ancestor that is the zygote's child. No child at all
    (ECHILD) therefore means nothing is left, and most runs need no cleaner.
    """
    left = _children_left(0.0) or not _empty(dirs)
    if left and not _clean_up(uid, dirs):
        return False
    return not _children_left(REAP_WITHIN_S) and _empty(dirs)


def _children_left(within_s: float) -> bool:
    """Reap what has exited; True while a child is still alive after ``within_s``."""
    import time

    deadline = time.monotonic() + within_s
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid != 0:
            continue
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.001)
