"""The environment SBOM: ``cyclonedx-py environment`` (CycloneDX 1.6 JSON) of this Python.

Schema validation is off here (it takes ~13 s of a 17 s run, mostly IRI format checks); the
tests validate the same output against the schema shipped with cyclonedx-python-lib.
``--output-reproducible`` drops the random serial number and the timestamp, so the SBOM of an
unchanged environment is byte-identical across runs and a diff shows real changes only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from promgate.supply.errors import SupplyChainError

SPEC_VERSION = "1.6"


def environment_sbom(
    out: Path, *, python: str | None = None, pyproject: Path | None = None
) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "cyclonedx_py", "environment", "--sv", SPEC_VERSION]
    cmd += ["--of", "JSON", "--output-reproducible", "--no-validate", "-o", str(out)]
    if pyproject is not None and pyproject.is_file():
        cmd += ["--pyproject", str(pyproject)]
    cmd.append(python or sys.executable)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SupplyChainError(f"cyclonedx-py could not run ({exc})") from exc
    if done.returncode != 0 or not out.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SupplyChainError(f"cyclonedx-py environment failed: {tail[0]}")
    return out
