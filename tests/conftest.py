"""Shared fixtures: the benchmark mirror and the real SmolLM2 model (materialised once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def find_mirror() -> Path | None:
    for candidate in (os.environ.get("PROMGATE_MIRROR"), ROOT.parent / "shared" / "benchmarks"):
        if candidate and Path(candidate, "SHA256SUMS").is_file():
            # Absolute: the tests run stages in other working directories.
            return Path(candidate).resolve()
    return None


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = find_mirror()
    if path is None:
        pytest.skip("no benchmark mirror (set PROMGATE_MIRROR)")
    return path


@pytest.fixture(scope="session")
def params():
    from promgate.config import load_params

    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def base_model_dir(tmp_path_factory, params) -> Path:
    """The real SmolLM2-135M-Instruct, dequantised from its packaged GGUF (once a session)."""
    from promgate.models.hf import materialize_base

    out = tmp_path_factory.mktemp("base")
    materialize_base(params.model, out)
    return out


@pytest.fixture(scope="session")
def baseline(base_model_dir):
    from promgate.models import hf

    return hf.load(base_model_dir, model_id="baseline", threads=2)
