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
