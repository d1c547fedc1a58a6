"""SLSA provenance v1 for one pipeline run, as an in-toto statement.

Subjects are the run's outputs file by file (checkpoints, per-item results, gate outputs,
decision, SBOMs); ``resolvedDependencies`` are its inputs with digests (params, prepared
data and its manifest, the pinned base model, the pipeline code, the git commit);
``byproducts`` are the model_signing signatures and the public key, which is how
``promgate verify`` finds every signature it must check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promgate.io import sha256_file

PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:promgate:buildType:dvc-promotion:v1"
# resolvedDependencies roles: inputs must match on verify; code may have moved on since.
ROLE_INPUT = "input"
ROLE_CODE = "code"
BUILDER_ID = "urn:promgate:builder:local-dvc-repro"


def file_descriptor(root: Path, rel: str, **annotations: Any) -> dict[str, Any]:
    desc: dict[str, Any] = {"name": rel, "digest": {"sha256": sha256_file(root / rel)}}
    if annotations:
        desc["annotations"] = annotations
    return desc


def tree_descriptors(root: Path, rel: str) -> list[dict[str, Any]]:
    """One descriptor per file: a file subject, or every file under a folder subject."""
    path = root / rel
    if path.is_file():
        return [file_descriptor(root, rel)]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name != ".gitignore")
    return [file_descriptor(root, p.relative_to(root).as_posix()) for p in files]


def code_descriptors(root: Path) -> list[dict[str, Any]]:
    """The pipeline definition and the Python sources that ran (not caches)."""
    rels = ["dvc.yaml", "pyproject.toml"]
    for folder in ("stages", "src/promgate"):
        rels += sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob("*.py"))
    return [file_descriptor(root, r, role=ROLE_CODE) for r in rels if (root / r).is_file()]


def build_provenance(
    *,
    subjects: list[dict[str, Any]],
    params: dict[str, Any],
    dependencies: list[dict[str, Any]],
    byproducts: list[dict[str, Any]],
    signer: dict[str, Any],
    git: dict[str, Any],
    versions: dict[str, str],
    started: str,
    finished: str,
) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"pipeline": "dvc.yaml", "params": params},
                "internalParameters": {"signer": signer, "git": git},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": versions},
                "metadata": {"startedOn": started, "finishedOn": finished},
                "byproducts": byproducts,
            },
        },
    }
