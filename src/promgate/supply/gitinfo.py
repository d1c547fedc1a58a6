"""The git revision a run or a promotion refers to, via the git command line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def git(root: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=60
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def revision(root: Path) -> dict[str, Any]:
    """HEAD, whether the tree has uncommitted changes, and the origin URL (if any).

    The attest stage runs before its outputs are committed, so ``dirty`` is normally true
    there; the exact inputs are pinned by their digests, not by the commit alone.
    """
    try:
        commit = git(root, "rev-parse", "HEAD")
    except (RuntimeError, OSError):
        return {"commit": None, "dirty": None, "remote": None}
    dirty = bool(git(root, "status", "--porcelain", "--untracked-files=no"))
    remote = git(root, "remote", "get-url", "origin", check=False) or None
    return {"commit": commit, "dirty": dirty, "remote": remote}


def uncommitted(root: Path, paths: list[str]) -> list[str]:
    """Paths (of those given) with uncommitted or untracked changes; empty when all clean."""
    out = git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    return [line[3:] for line in out.splitlines() if line.strip()]
