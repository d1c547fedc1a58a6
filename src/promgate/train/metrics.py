"""What a training run records: the per-step curve, validation losses, resource peaks, and
the metrics file ``metrics/train/<candidate>.json`` that evidence gates read.

Field names are the ones policies check (phase3_codegen: ``nonfinite_steps``,
``gradient_errors``, ``epochs_completed``, ``val_loss_first``, ``val_loss_final``,
``val_loss_epochs``, ``tokens_per_s``, ``peak_rss_mb``; miso_v1: ``merge_check.max_abs_diff``).
A value that was not measured is null, never a stand-in, so a gate on it is BLOCKED.
"""

from __future__ import annotations

import hashlib
import math
import platform
import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from promgate.config import TrainConfig
from promgate.errors import SchemaError
from promgate.io import read_json

FailureKind = Literal["diverged", "overfit_check_failed"]
FailureCause = Literal[
    "nonfinite_loss", "nonfinite_gradient", "loss_blowup", "loss_rose", "no_progress"
]
Status = Literal["completed", "diverged", "overfit_check_failed"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepRecord(_Record):
    """One optimizer step of the real run."""

    step: int
    loss: float  # before this step's update
    learning_rate: float
    grad_norm: float
    tokens: int
    seconds: float
    # The trainable weights after this step's update: two runs agree on it only if they
    # agree on every bit of every LoRA weight.
    weights_sha256: str


class ValLoss(_Record):
    step: int  # optimizer steps done when it was measured
    epoch: float
    loss: float


class OverfitCheck(_Record):
    steps: int
    examples: int
    first_loss: float
    final_loss: float
    drop: float  # 1 - final / first
    min_drop: float
    passed: bool


class MergeCheck(_Record):
    """Logits of the merged model against the adapter on the base, on a fixed batch."""

    max_abs_diff: float | None  # null when not finite (the check then fails)
    tolerance: float
    passed: bool
    dtype: str  # the precision both sides ran in
    batch_tokens: int
    batch_sha256: str


class Failure(_Record):
    """Why a run stopped: the typed failure the gate turns into a BLOCKED candidate."""

    kind: FailureKind
    phase: Literal["overfit_check", "train"]
    cause: FailureCause
    step: int
    loss: float | None  # null when it was not finite; ``loss_text`` says what it was
    loss_text: str
    grad_norm: float | None = None
    message: str


CONVERGENCE_EPOCHS = 3.0  # the Phase 3 criterion's window: "within 3 epochs"


def best_in_window(losses: list[ValLoss], epochs: float = CONVERGENCE_EPOCHS) -> float | None:
    """The lowest validation loss measured after the first and within ``epochs`` of it."""
    if len(losses) < 2:
        return None
    first = losses[0]
    inside = [v.loss for v in losses[1:] if v.epoch - first.epoch <= epochs + 1e-9]
    return min(inside) if inside else None


class TrainMetrics(_Record):
    schema_version: int = 1
    status: Status
    seed: int
    device: str
    steps: int  # planned
    steps_completed: int
    batch_size: int
    train_examples: int
    val_examples: int
    first_loss: float | None
    final_loss: float | None
    nonfinite_steps: int
    gradient_errors: int
    epochs: float
    epochs_completed: int
    val_loss_first: float | None
    val_loss_final: float | None
    val_loss_epochs: float | None  # epochs trained between the two measurements
    # Lowest validation loss measured within CONVERGENCE_EPOCHS of the first (after it), so
    # a run longer than the window is judged on the window, not on its last measurement.
    val_loss_best_in_window: float | None = None
    convergence_window_epochs: float = 3.0
    val_losses: list[ValLoss]
    tokens: int
    tokens_per_s: float | None
    seconds: float
    step_seconds_median: float | None
    peak_rss_mb: float
    peak_cuda_mb: float | None
    adapter_sha256: str | None
    overfit_check: OverfitCheck | None
    merge_check: MergeCheck | None = None
    failure: Failure | None = None


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if platform.system() == "Darwin" else peak / 1024


def weights_sha256(model) -> str:
    """sha256 over the trainable tensors, by name: equal only for bit-identical weights."""
    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if param.requires_grad:
            digest.update(name.encode("utf-8"))
            digest.update(param.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def read_train_metrics(path: str | Path) -> TrainMetrics:
    data = read_json(path)
    try:
        return TrainMetrics.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise SchemaError(err["msg"], path=path, field=field) from exc


@dataclass
class Recorder:
    """What the run has recorded so far; becomes TrainMetrics whether it ends or fails."""

    cfg: TrainConfig
    seed: int
    device: str
    steps: int
    train_examples: int
    val_examples: int
    curve: list[StepRecord] = field(default_factory=list)
    val_losses: list[ValLoss] = field(default_factory=list)
    overfit: OverfitCheck | None = None
    peak_rss: float | None = None
    started: float = field(default_factory=time.perf_counter)

    def epoch_at(self, steps_done: int) -> float:
        return steps_done * self.cfg.batch_size / self.train_examples

    def metrics(
        self,
        status: Status,
        *,
        failure: Failure | None = None,
        adapter_sha256: str | None = None,
        merge: MergeCheck | None = None,
    ) -> TrainMetrics:
        import torch

        losses = [r.loss for r in self.curve]
        busy = sum(r.seconds for r in self.curve)
        tokens = sum(r.tokens for r in self.curve)
        epochs = self.epoch_at(len(self.curve))
        first = self.val_losses[0] if self.val_losses else None
        # A final validation loss only for a run that finished: a failed run has none.
        last = self.val_losses[-1] if status == "completed" and len(self.val_losses) > 1 else None
        cause = failure.cause if failure else None
        cuda = self.device == "cuda" and torch.cuda.is_available()
        return TrainMetrics(
            status=status,
            seed=self.seed,
            device=self.device,
            steps=self.steps,
            steps_completed=len(self.curve),
            batch_size=self.cfg.batch_size,
            train_examples=self.train_examples,
            val_examples=self.val_examples,
            first_loss=losses[0] if losses else None,
            final_loss=losses[-1] if losses else None,
            nonfinite_steps=int(cause in ("nonfinite_loss", "nonfinite_gradient")),
            gradient_errors=int(cause == "nonfinite_gradient"),
            epochs=epochs,
            epochs_completed=int(epochs + 1e-9),
            val_loss_first=first.loss if first else None,
            val_loss_final=last.loss if last else None,
            val_loss_epochs=(last.epoch - first.epoch) if first and last else None,
            val_loss_best_in_window=best_in_window(self.val_losses) if last else None,
            convergence_window_epochs=CONVERGENCE_EPOCHS,
            val_losses=self.val_losses,
            tokens=tokens,
            tokens_per_s=tokens / busy if busy > 0 else None,
            seconds=time.perf_counter() - self.started,
            step_seconds_median=statistics.median(r.seconds for r in self.curve)
            if self.curve
            else None,
            peak_rss_mb=self.peak_rss or peak_rss_mb(),
            peak_cuda_mb=torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
            adapter_sha256=adapter_sha256,
            overfit_check=self.overfit,
            merge_check=merge,
            failure=failure,
        )
