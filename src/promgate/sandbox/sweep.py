"""Find and kill what a run left behind: every process whose real uid belongs to the run.

Each run gets uids no other process uses, so "nothing is left running" is a /proc scan away.
The uid is read from ``/proc/<pid>/status``: the owner of ``/proc/<pid>`` is root for the
non-dumpable processes the sandbox creates, so ``stat`` would miss them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection


def processes_of(uids: Collection[int]) -> list[int]:
    """Pids of live (not zombie) processes whose real uid is in ``uids``."""
    found = []
    wanted = {str(uid).encode() for uid in uids}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as handle:
                head = handle.read(1024)
        except OSError:
            continue  # exited meanwhile
        fields = dict(line.split(b":", 1) for line in head.split(b"\n") if b":" in line)
        state = fields.get(b"State", b"").strip()[:1]
        uid = fields.get(b"Uid", b"").split()[:1]
        if uid and uid[0] in wanted and state not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def sweep(uids: Collection[int], grace_s: float = 2.0) -> int:
    """Kill every process of ``uids`` until none is left; return how many were found."""
    seen: set[int] = set()
    deadline = time.monotonic() + grace_s
    while True:
        alive = processes_of(uids)
        if not alive:
            return len(seen)
        for pid in alive:
            seen.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of uids {sorted(uids)} survive SIGKILL: {alive}")
        time.sleep(0.01)


def group_members(pgid: int) -> list[int]:
    """Pids in process group ``pgid`` (field 5 of /proc/<pid>/stat)."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after its closing one.
        fields = stat.rpartition(b")")[2].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def kill_followers(pgid: int) -> None:
    """SIGKILL every member of the group but its leader, which then reaps what it started.

    Killing the leader too would orphan its children, and an init that does not reap
    would keep them as zombies.
    """
    for pid in group_members(pgid):
        if pid != pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
