"""One candidate's training artifacts, written whether the run finished or failed.

Finished: ``<out>/adapter_model.safetensors`` with ``<out>/adapter_model.safetensors.sha256``,
the resolved config and run summary (``promgate-train.json``), the per-step curve
(``curve.jsonl``) and the metrics file. Failed: ``<out>/FAILED.json`` (the typed failure)
in place of the adapter, beside the card, the curve up to the failure and the metrics file,
so the pipeline goes on and the gate reports the candidate BLOCKED, naming the failure,
instead of crashing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from promgate.config import TrainConfig
from promgate.errors import SchemaError
from promgate.io import (
    atomic_write_text,
    read_json,
    read_models,
    sha256_file,
    sha256_tree,
    write_json,
    write_jsonl,
)
from promgate.results import Unavailable, write_unavailable
from promgate.train.guard import TrainingFailedError
from promgate.train.lora import ADAPTER_FILE, train_lora
from promgate.train.merge_check import write_merge_evidence
from promgate.train.metrics import Failure, StepRecord, TrainMetrics

TRAIN_CARD_FILE = "promgate-train.json"
CURVE_FILE = "curve.jsonl"
FAILED_FILE = "FAILED.json"


class TrainingFailure(BaseModel):
    """``FAILED.json``: why a candidate has no adapter, and where its metrics are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["diverged", "overfit_check_failed"]
    candidate: str
    seed: int
    error: str  # the exception type, e.g. TrainingDivergedError
    failure: Failure
    metrics_file: str


def read_failure(adapter_dir: str | Path) -> TrainingFailure | None:
    """The typed failure recorded in a candidate folder, or None when it trained."""
    path = Path(adapter_dir) / FAILED_FILE
    if not path.is_file():
        return None
    try:
        return TrainingFailure.model_validate(read_json(path))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise SchemaError(err["msg"], path=path, field=field) from exc


def _shown(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    return os.path.relpath(os.path.abspath(path), os.path.abspath(root))


def train_candidate(
    *,
    candidate: str,
    base_dir: Path,
    corpus_path: Path,
    cfg: TrainConfig,
    seed: int,
    out_dir: Path,
    metrics_path: Path,
    live_dir: Path | None = None,
    merge_path: Path | None = None,
    threads: int = 0,
    root: Path | None = None,
) -> TrainMetrics:
    """Train and write every artifact; a TrainingFailedError is recorded, not raised.

    ``merge_path`` also gets the merge check on its own (the evidence a gate reads for every
    candidate, variants included). Paths written into the artifacts are relative to ``root``
    when it is given.
    """
    out_dir = Path(out_dir)
    (out_dir / FAILED_FILE).unlink(missing_ok=True)  # a stale failure from an earlier run
    card = {
        "candidate": candidate,
        "seed": seed,
        "base_model": _shown(base_dir, root),
        "base_model_sha256": sha256_tree(base_dir),
        "corpus": _shown(corpus_path, root),
        "corpus_sha256": sha256_file(corpus_path),
        "config": cfg.model_dump(mode="json"),
    }
    try:
        result = train_lora(
            base_dir,
            corpus_path,
            cfg,
            seed,
            out_dir,
            live_dir,
            threads,
            base_ref=card["base_model"],
        )
    except TrainingFailedError as exc:
        metrics = exc.metrics
        assert metrics is not None  # train_lora attaches them
        record = TrainingFailure(
            status=exc.failure.kind,
            candidate=candidate,
            seed=seed,
            error=type(exc).__name__,
            failure=exc.failure,
            metrics_file=_shown(metrics_path, root),
        )
        # No adapter may sit beside a failure: a stale one would be evaluated as this run's.
        for stale in (ADAPTER_FILE, f"{ADAPTER_FILE}.sha256", "adapter_config.json"):
            (out_dir / stale).unlink(missing_ok=True)
        write_json(out_dir / FAILED_FILE, record.model_dump(mode="json"))
        write_curve(out_dir / CURVE_FILE, exc.curve)
        write_json(out_dir / TRAIN_CARD_FILE, {**card, "status": metrics.status, "adapter": None})
        write_json(metrics_path, metrics.model_dump(mode="json"))
        if merge_path is not None:
            write_merge_evidence(merge_path, candidate, None, exc.failure.message)
        return metrics
    metrics = result.metrics
    if merge_path is not None:
        write_merge_evidence(merge_path, candidate, metrics.merge_check)
    adapter = {"file": ADAPTER_FILE, "sha256": metrics.adapter_sha256}
    sha_line = f"{metrics.adapter_sha256}  {ADAPTER_FILE}\n"
    atomic_write_text(out_dir / f"{ADAPTER_FILE}.sha256", sha_line)
    write_curve(out_dir / CURVE_FILE, result.curve)
    summary = metrics.model_dump(mode="json", exclude={"val_losses"})
    card.update(status=metrics.status, adapter=adapter, summary=summary)
    write_json(out_dir / TRAIN_CARD_FILE, card)
    write_json(metrics_path, metrics.model_dump(mode="json"))
    return metrics


def write_curve(path: Path, curve: list[StepRecord]) -> None:
    write_jsonl(path, (r.model_dump(mode="json") for r in curve))


def read_curve(path: str | Path) -> list[StepRecord]:
    return read_models(path, StepRecord)


def mark_unevaluated(
    failure: TrainingFailure,
    adapter_dir: Path,
    results_dir: Path,
    metrics_path: Path,
    root: Path | None = None,
) -> Unavailable:
    """For the evaluate stage: no adapter, so no results; say why, naming the evidence."""
    failed = Path(adapter_dir) / FAILED_FILE
    evidence = {_shown(failed, root): sha256_file(failed)}
    train_metrics = Path(root or ".") / failure.metrics_file
    if train_metrics.is_file():
        evidence[failure.metrics_file] = sha256_file(train_metrics)
    marker = Unavailable(
        model_id=failure.candidate,
        reason="DIVERGED" if failure.status == "diverged" else "TRAINING_FAILED",
        message=f"{failure.failure.message} (see {_shown(failed, root)})",
        evidence=evidence,
    )
    write_unavailable(results_dir, marker)
    summary = {"model_id": failure.candidate, "status": "unavailable"}
    write_json(metrics_path, {**summary, **marker.model_dump(exclude={"model_id"})})
    return marker
