"""Run the real pipeline in a scratch copy of the repository, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [p for p in listed.split("\0") if p and (ROOT / p).is_file()]


def scratch_clone(dest: Path) -> Path:
    """Copy the working tree (tracked and untracked-not-ignored files) into a fresh git repo."""
    for rel in project_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    env = user_env()
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "scratch"]):
        subprocess.run(["git", *args], cwd=dest, check=True, env=env)
    return dest


def user_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("GIT_AUTHOR_NAME", "promgate-tests")
    env.setdefault("GIT_AUTHOR_EMAIL", "tests@promgate.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "promgate-tests")
    env.setdefault("GIT_COMMITTER_EMAIL", "tests@promgate.invalid")
    env.update(extra)
    if env.get("PROMGATE_MIRROR"):
        # Stages run in scratch folders: a relative mirror path would point elsewhere there.
        env["PROMGATE_MIRROR"] = str(Path(env["PROMGATE_MIRROR"]).resolve())
    return env


def run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env or user_env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
        )
    return result
