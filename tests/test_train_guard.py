"""The divergence guard: NaN / infinite loss or gradient, or a blown-up loss, is a typed stop."""

import math

import pytest

from promgate.train.guard import DivergenceGuard, TrainingDivergedError


def _stop(guard: DivergenceGuard, **kw) -> TrainingDivergedError:
    with pytest.raises(TrainingDivergedError) as err:
        if "grad_norm" in kw:
            guard.check_gradient(kw["step"], kw["loss"], kw["grad_norm"])
        else:
            guard.check_loss(kw["step"], kw["loss"])
    return err.value


def test_finite_losses_below_the_ratio_pass():
    guard = DivergenceGuard(max_loss_ratio=10.0, phase="train", seed=1)
    for step, loss in enumerate([2.0, 5.0, 19.9, 0.1]):
        guard.check_loss(step, loss)
        guard.check_gradient(step, loss, 3.0)


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_a_nonfinite_loss_stops_the_run(loss):
    err = _stop(DivergenceGuard(10.0, "train", 42), step=3, loss=loss)
    f = err.failure
    assert (f.kind, f.phase, f.cause, f.step, f.loss) == (
        "diverged",
        "train",
        "nonfinite_loss",
        3,
        None,
    )
    assert f.loss_text == repr(loss) and err.exit_code == 5
    assert "seed 42: training diverged" in str(err)


def test_a_blown_up_loss_stops_the_run():
    guard = DivergenceGuard(10.0, "overfit_check", 7)
    guard.check_loss(0, 2.0)
    err = _stop(guard, step=1, loss=20.5)
    assert (err.failure.cause, err.failure.loss) == ("loss_blowup", 20.5)
    assert "mini-overfit check" in err.failure.message


def test_a_nonfinite_gradient_stops_the_run():
    err = _stop(DivergenceGuard(10.0, "train", 1), step=0, loss=2.0, grad_norm=math.nan)
    assert (err.failure.cause, err.failure.loss, err.failure.grad_norm) == (
        "nonfinite_gradient",
        2.0,
        None,
    )


def _check(first: float, final: float):
    from promgate.train.metrics import OverfitCheck

    drop = 1.0 - final / first
    return OverfitCheck(
        steps=4,
        examples=2,
        first_loss=first,
        final_loss=final,
        drop=drop,
        min_drop=0.05,
        passed=drop >= 0.05,
    )


def test_a_mini_overfit_loss_that_rises_is_a_divergence():
    from promgate.train.lora import _no_progress

    err = _no_progress(_check(5.3, 10.8), seed=42)
    assert isinstance(err, TrainingDivergedError) and err.exit_code == 5
    assert (err.failure.kind, err.failure.cause) == ("diverged", "loss_rose")
    assert "rose from 5.3 to 10.8" in err.failure.message


def test_a_mini_overfit_loss_that_barely_falls_cannot_learn():
    from promgate.train.guard import OverfitCheckError
    from promgate.train.lora import _no_progress

    err = _no_progress(_check(5.0, 4.9), seed=42)
    assert isinstance(err, OverfitCheckError) and not isinstance(err, TrainingDivergedError)
    assert (err.failure.kind, err.failure.cause) == ("overfit_check_failed", "no_progress")
    assert "fell 2.0%" in err.failure.message and "needs ≥ 5%" in err.failure.message
