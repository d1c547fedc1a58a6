"""The validation split: held out by id hash, the same for every seed and file order."""

import pytest

from promgate.config import ValidationSplitConfig
from promgate.errors import ConfigError
from promgate.train.validation import split_validation

ROWS = [{"id": f"doc/{i}", "prompt": "p", "response": "r"} for i in range(40)]


def test_split_is_by_id_and_ignores_file_order():
    cfg = ValidationSplitConfig(fraction=0.1, max_examples=16)
    train, val = split_validation(ROWS, cfg)
    assert len(val) == 4 and len(train) == 36
    assert not {r["id"] for r in train} & {r["id"] for r in val}
    _, again = split_validation(list(reversed(ROWS)), cfg)
    assert {r["id"] for r in again} == {r["id"] for r in val}
    assert [r["id"] for r in train] == [r["id"] for r in ROWS if r not in val]  # corpus order


def test_split_is_capped_and_keeps_a_training_document():
    assert len(split_validation(ROWS, ValidationSplitConfig(fraction=0.5, max_examples=3))[1]) == 3
    train, val = split_validation(ROWS[:1], ValidationSplitConfig(fraction=0.9, max_examples=9))
    assert (len(train), len(val)) == (1, 0)
    assert split_validation(ROWS, ValidationSplitConfig(fraction=0.0))[1] == []


def test_an_empty_corpus_is_a_config_error():
    with pytest.raises(ConfigError, match="no document to train on"):
        split_validation([], ValidationSplitConfig())


def test_convergence_is_judged_within_the_window_not_at_the_last_measurement():
    from promgate.train.metrics import ValLoss, best_in_window

    # 6 epochs: the loss falls 40 % by epoch 2, then creeps back up (overfitting).
    curve = [
        ValLoss(step=10 * e, epoch=float(e), loss=x)
        for e, x in enumerate([2.0, 1.5, 1.2, 1.25, 1.6, 1.9, 2.1])
    ]
    assert best_in_window(curve) == 1.2  # epochs 1-3 only
    assert best_in_window(curve, epochs=1.0) == 1.5
    # Measured from the first measurement, not from step 0.
    shifted = [ValLoss(step=v.step, epoch=v.epoch + 0.5, loss=v.loss) for v in curve]
    assert best_in_window(shifted) == 1.2
    assert best_in_window(curve[:1]) is None  # one measurement: no drop to speak of
