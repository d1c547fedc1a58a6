"""The divergence guard: a NaN / infinite loss or gradient, or a loss that blows up, stops the
run with a typed failure instead of saving a broken adapter."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from promgate.errors import PromgateError
from promgate.train.metrics import Failure, FailureCause, StepRecord, TrainMetrics


class TrainingFailedError(PromgateError):
    """A run stopped before it produced an adapter; ``failure`` says where and why."""

    exit_code = 5

    def __init__(self, failure: Failure, metrics: TrainMetrics | None = None) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.metrics = metrics
        self.curve: list[StepRecord] = []  # the steps done before it stopped


class TrainingDivergedError(TrainingFailedError):
    """The loss or a gradient became NaN / infinite, or the loss blew up."""


class OverfitCheckError(TrainingFailedError):
    """The loss on one tiny batch did not fall: the run cannot learn, so it is not started."""


def _text(value: float) -> str:
    return repr(float(value))


@dataclass
class DivergenceGuard:
    """Checks each step; the first step's finite loss is the reference for blow-ups."""

    max_loss_ratio: float
    phase: str  # "overfit_check" or "train"
    seed: int
    reference: float | None = field(default=None, init=False)

    def _stop(
        self, step: int, loss: float, grad: float | None, cause: FailureCause, why: str
    ) -> None:
        where = "the mini-overfit check" if self.phase == "overfit_check" else "training"
        failure = Failure(
            kind="diverged",
            phase=self.phase,  # type: ignore[arg-type]
            cause=cause,
            step=step,
            loss=loss if math.isfinite(loss) else None,
            loss_text=_text(loss),
            grad_norm=grad if grad is not None and math.isfinite(grad) else None,
            message=f"seed {self.seed}: training diverged: {why} at step {step} of {where}",
        )
        raise TrainingDivergedError(failure)

    def check_loss(self, step: int, loss: float) -> None:
        if not math.isfinite(loss):
            self._stop(step, loss, None, "nonfinite_loss", f"loss is {_text(loss)}")
        if self.reference is None:
            self.reference = loss
        elif loss > self.max_loss_ratio * self.reference:
            why = (
                f"loss {loss:.4g} exceeds {self.max_loss_ratio:g}x the first step's "
                f"{self.reference:.4g}"
            )
            self._stop(step, loss, None, "loss_blowup", why)

    def check_gradient(self, step: int, loss: float, grad_norm: float) -> None:
        if not math.isfinite(grad_norm):
            why = f"gradient norm is {_text(grad_norm)}"
            self._stop(step, loss, grad_norm, "nonfinite_gradient", why)
