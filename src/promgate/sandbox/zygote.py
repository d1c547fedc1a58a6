"""The harness side of zygotes: warm sandboxes that each run many programs, one at a time.

A zygote is one bubblewrap namespace whose pid 1 (``_zygote.py``) has started Python and
imported the driver once; each job makes it fork a fresh run. Starting bubblewrap and an
interpreter per program is most of what a fresh sandbox costs, so reuse is where the speed
comes from; what a run can and cannot leave behind for the next is in ``_zygote.py``.

Zygotes are pooled per scratch size and handed to one thread at a time. A zygote that
reports itself unclean, misses its reply deadline, or dies is killed (its namespace goes
with its pid 1) and never reused. A forked copy of this process starts a pool of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import select
import socket
import subprocess
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from promgate.sandbox.isolation import SANDBOX_TMP, SANDBOX_WORK, Backend

START_TIMEOUT_S = 60.0
MAX_IDLE = 32  # per scratch size; more than any worker count this project runs
_LOG_BYTES = 4000


class ZygoteError(RuntimeError):
    """A zygote did not start, or broke its protocol; the message quotes its own output."""


@dataclass(frozen=True)
class Reply:
    timed_out: bool
    clean: bool  # /work and /tmp were emptied and every process of the run's uid is gone


class Zygote:
    def __init__(self, backend: Backend, scratch_mb: int) -> None:
        self.key = (backend.name, scratch_mb)
        self.runs = 0
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = os.memfd_create("promgate-zygote-log")
        args = {
            "mode": "zygote",
            "channel_fd": theirs.fileno(),
            "job": "/promgate/job",
            "workdir": SANDBOX_WORK,
            "writable": f"{SANDBOX_WORK}:{SANDBOX_TMP}",
            "readable": ":".join(backend.readable(None)),
            "deny_spawn": int(not backend.limits_processes),
        }
        try:
            self.process = SPAWNER.popen(
                backend.zygote_command(scratch_mb, [f"{k}={v}" for k, v in args.items()]),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                pass_fds=(theirs.fileno(),),
                env=backend.environment(None),
                cwd="/",
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            os.close(self._log)
            raise
        finally:
            theirs.close()
        self._channel = ours
        ready = self._receive(START_TIMEOUT_S)
        if ready is None or ready.get("event") != "ready":
            output = self.log()
            self.kill()
            raise ZygoteError(f"the sandbox's zygote did not start ({ready}): {output}")

    def run(self, header: dict, fds: list[int], reply_within_s: float) -> Reply | None:
        """Send one job with its fds; the zygote's reply, or None when it broke down."""
        self.runs += 1
        try:
            socket.send_fds(self._channel, [json.dumps(header).encode()], fds)
        except OSError:
            return None
        reply = self._receive(reply_within_s)
        if reply is None or reply.get("event") != "done":
            return None
        return Reply(timed_out=bool(reply["timed_out"]), clean=bool(reply["clean"]))

    def _receive(self, timeout_s: float) -> dict | None:
        ready, _, _ = select.select([self._channel], [], [], timeout_s)
        if not ready:
            return None
        try:
            data = self._channel.recv(1 << 16)
        except OSError:
            return None
        return json.loads(data) if data else None

    def log(self) -> str:
        size = os.fstat(self._log).st_size
        tail = os.pread(self._log, _LOG_BYTES, max(0, size - _LOG_BYTES))
        return tail.decode("utf-8", "replace").strip() or "(no output)"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the zygote now: bubblewrap's death takes its pid 1 and the namespace along."""
        with contextlib.suppress(OSError):
            self._channel.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self._log)

    def close(self) -> None:
        """End of file on its channel: the zygote leaves at once; kill it if it lingers."""
        with contextlib.suppress(OSError):
            self._channel.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2.0)
        self.kill()


class _Spawner:
    """Starts zygotes from one thread that lives as long as this process.

    bubblewrap's ``--die-with-parent`` ties the sandbox to the thread that forked it: a
    zygote started by a pool thread would be killed when that thread ends, not when this
    process does.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: queue.SimpleQueue = queue.SimpleQueue()
        self.owner: int | None = None  # the pid whose thread it is (a fork has none)

    def popen(self, argv: list[str], **options) -> subprocess.Popen:
        with self.lock:
            if self.owner != os.getpid():
                self.requests = queue.SimpleQueue()
                threading.Thread(target=self._serve, name="promgate-zygotes", daemon=True).start()
                self.owner = os.getpid()
        done: Future = Future()
        self.requests.put((done, argv, options))
        return done.result()

    def _serve(self) -> None:
        requests = self.requests
        while True:
            done, argv, options = requests.get()
            try:
                done.set_result(subprocess.Popen(argv, **options))
            except BaseException as exc:
                done.set_exception(exc)


SPAWNER = _Spawner()


class _Pool:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[tuple[str, int], list[Zygote]] = {}

    def acquire(self, backend: Backend, scratch_mb: int) -> Zygote:
        with self.lock:
            idle = self.idle.get((backend.name, scratch_mb), [])
            while idle:
                zygote = idle.pop()
                if zygote.alive():
                    return zygote
                zygote.kill()
        return Zygote(backend, scratch_mb)

    def release(self, zygote: Zygote, reusable: bool) -> None:
        if reusable and zygote.alive():
            with self.lock:
                idle = self.idle.setdefault(zygote.key, [])
                if len(idle) < MAX_IDLE:
                    idle.append(zygote)
                    return
        zygote.close()

    def close_all(self) -> None:
        with self.lock:
            zygotes = [z for idle in self.idle.values() for z in idle]
            self.idle.clear()
        for zygote in zygotes:
            zygote.close()

    def forget(self) -> None:
        """In a forked child: the parent's zygotes are the parent's to use and to close."""
        self.lock = threading.Lock()
        self.idle = {}


POOL = _Pool()
atexit.register(POOL.close_all)
os.register_at_fork(after_in_child=POOL.forget)


def close_zygotes() -> None:
    """End every idle zygote now (a busy one ends when its run returns it)."""
    POOL.close_all()
