"""The gate recomputed from the stored per-item results and the signed params.

It runs the gate stage's own code (``promgate.pipeline.run_gate``) in a scratch overlay of
the repository: every input is a symlink to the real one, and the outputs land in the
overlay, so nothing in the workspace is touched and no second copy of the gate logic can
drift from the first. The overlay is entered as the working directory because gate.json
names the results files relative to it, as the stage (run from the root) does.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from promgate.config import Params

# What the gate stage writes: recomputed and compared byte for byte. The certification
# files exist only when params name a certification policy; then they are compared too.
GATE_OUTPUTS = (
    "reports/gate.json",
    "reports/promotion.md",
    "reports/promotion.html",
    "metrics/gate.json",
)
CERTIFICATION_OUTPUTS = ("reports/certification.json", "metrics/certification.json")
_NOT_INPUTS = {"reports", ".git", ".dvc", ".promgate", "attestations"}
_METRICS_OUTPUTS = {Path(rel).name for rel in (*GATE_OUTPUTS, *CERTIFICATION_OUTPUTS)}


def _overlay(root: Path, scratch: Path) -> None:
    """Symlink every input under ``scratch``; leave the gate's output paths empty."""
    for entry in root.iterdir():
        if entry.name in _NOT_INPUTS:
            continue
        if entry.name == "metrics" and entry.is_dir():
            (scratch / "metrics").mkdir()
            for child in entry.iterdir():
                if child.name not in _METRICS_OUTPUTS:
                    (scratch / "metrics" / child.name).symlink_to(child)
            continue
        (scratch / entry.name).symlink_to(entry)
    (scratch / "reports").mkdir()


@contextmanager
def recomputed_outputs(root: Path, params: dict[str, Any]) -> Iterator[Path]:
    """A folder holding the gate outputs recomputed from ``root``'s evidence and ``params``."""
    from promgate.pipeline import run_gate

    with tempfile.TemporaryDirectory(prefix="promgate-recompute-") as tmp:
        scratch = Path(tmp).resolve()
        _overlay(Path(root).resolve(), scratch)
        with contextlib.chdir(scratch):
            run_gate(Params.model_validate(params), scratch)
        yield scratch


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """The dotted path of the first value that differs between two JSON documents."""
    here = path or "<root>"
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual or key not in expected:
                return sub
            found = first_difference(expected[key], actual[key], sub)
            if found:
                return found
        return None if list(expected) == list(actual) else f"{here} (key order)"
    if isinstance(expected, list) and isinstance(actual, list):
        for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None if len(expected) == len(actual) else f"{here} (length)"
    return None if expected == actual and type(expected) is type(actual) else here


def first_differing_line(expected: str, actual: str) -> int | None:
    for number, (a, b) in enumerate(
        zip(expected.splitlines(), actual.splitlines(), strict=False), 1
    ):
        if a != b:
            return number
    return (
        None
        if expected == actual
        else min(len(expected.splitlines()), len(actual.splitlines())) + 1
    )
