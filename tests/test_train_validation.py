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
