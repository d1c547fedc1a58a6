"""Reproducibility: re-run the first steps of a trained seed and compare them bit for bit with
what the train stage recorded (each step's loss and the sha256 of the trainable weights after
it; the adapter's sha256 too when the whole run is re-run).

The re-run leaves out what cannot change the weights (the mini-overfit check, which restores
them, validation loss and the merge check), so a side effect of any of those on the
trajectory would show here as a mismatch.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from promgate.config import TrainConfig
from promgate.io import sha256_file
from promgate.train.candidate import CURVE_FILE, read_curve, read_failure
from promgate.train.guard import TrainingFailedError
from promgate.train.lora import ADAPTER_FILE, resolve_device, train_lora
from promgate.train.metrics import StepRecord


class ReproReport(BaseModel):
    """``metrics/repro.json``: miso_v1's repro gate reads ``reproduced``."""

    model_config = ConfigDict(extra="forbid")

    reproduced: bool
    candidate: str
    seed: int
    device: str
    steps_planned: int
    steps_compared: int
    loss_curve_equal: bool
    weights_equal: bool
    adapter_sha256_equal: bool | None  # null unless the whole run was re-run
    max_abs_loss_diff: float | None
    first_mismatch_step: int | None
    reference: dict[str, str]  # file -> sha256 of what the re-run was compared with
    rerun_seconds: float
    message: str


def _compare(ref: list[StepRecord], new: list[StepRecord]) -> tuple[bool, bool, int | None, float]:
    losses = all(a.loss == b.loss for a, b in zip(ref, new, strict=False))
    weights = all(a.weights_sha256 == b.weights_sha256 for a, b in zip(ref, new, strict=False))
    first = next(
        (
            a.step
            for a, b in zip(ref, new, strict=False)
            if a.loss != b.loss or a.weights_sha256 != b.weights_sha256
        ),
        None,
    )
    if first is None and len(ref) != len(new):
        first = min(len(ref), len(new))
        losses = weights = False
    diff = max((abs(a.loss - b.loss) for a, b in zip(ref, new, strict=False)), default=0.0)
    return losses, weights, first, diff


def check_repro(
    *,
    candidate: str,
    base_dir: Path,
    corpus_path: Path,
    cfg: TrainConfig,
    seed: int,
    adapter_dir: Path,
    threads: int = 0,
    shown: dict[str, str] | None = None,
) -> ReproReport:
    """Re-run ``cfg.repro_steps`` steps of ``seed`` and compare with ``adapter_dir``'s record.

    ``shown`` maps the files read (curve, adapter) to the names the report gives them.
    """
    adapter_dir = Path(adapter_dir)
    names = shown or {}
    curve_path = adapter_dir / CURVE_FILE
    device = resolve_device(cfg.device)
    steps = min(cfg.repro_steps, cfg.steps)
    base = {
        "candidate": candidate,
        "seed": seed,
        "device": device,
        "steps_planned": cfg.steps,
    }
    failure = read_failure(adapter_dir)
    if failure is not None and failure.failure.phase == "overfit_check":
        return ReproReport(
            **base,
            reproduced=False,
            steps_compared=0,
            loss_curve_equal=False,
            weights_equal=False,
            adapter_sha256_equal=None,
            max_abs_loss_diff=None,
            first_mismatch_step=None,
            reference={},
            rerun_seconds=0.0,
            message=f"{candidate} stopped in its mini-overfit check: no training curve to compare",
        )
    reference = read_curve(curve_path)[:steps]
    refs = {names.get(str(curve_path), str(curve_path)): sha256_file(curve_path)}
    started = time.perf_counter()
    rerun_failure = None
    with tempfile.TemporaryDirectory(prefix="promgate-repro-") as tmp:
        try:
            result = train_lora(
                base_dir,
                corpus_path,
                cfg,
                seed,
                Path(tmp),
                None,
                threads,
                max_steps=steps,
                checks=False,
            )
            curve = result.curve
            rerun_sha = result.metrics.adapter_sha256
        except TrainingFailedError as exc:
            curve, rerun_sha, rerun_failure = exc.curve, None, exc.failure
    seconds = time.perf_counter() - started
    losses, weights, first, diff = _compare(reference, curve)
    same_adapter = None
    if steps == cfg.steps and failure is None:
        adapter = adapter_dir / ADAPTER_FILE
        refs[names.get(str(adapter), str(adapter))] = ref_sha = sha256_file(adapter)
        same_adapter = rerun_sha == ref_sha
    same_stop = (failure is None) == (rerun_failure is None)
    if failure is not None and rerun_failure is not None and len(reference) < steps:
        ours, theirs = failure.failure, rerun_failure
        same_stop = (ours.step, ours.cause, ours.loss_text) == (
            theirs.step,
            theirs.cause,
            theirs.loss_text,
        )
    elif failure is not None and len(reference) >= steps:
        same_stop = rerun_failure is None  # it failed later than the steps compared
    ok = losses and weights and same_adapter is not False and same_stop
    what = f"{len(curve)} step(s) of seed {seed} re-run"
    if ok:
        message = f"{what}: every loss and weight digest equals the train stage's"
    elif not same_stop:
        message = f"{what}: the re-run and the train stage stopped differently"
    else:
        message = f"{what}: first difference at step {first}, max |Δloss| {diff:.3g}"
    return ReproReport(
        **base,
        reproduced=ok,
        steps_compared=min(len(reference), len(curve)),
        loss_curve_equal=losses,
        weights_equal=weights,
        adapter_sha256_equal=same_adapter,
        max_abs_loss_diff=diff,
        first_mismatch_step=first,
        reference=refs,
        rerun_seconds=seconds,
        message=message,
    )
