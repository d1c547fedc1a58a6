"""dvc.yaml runs contamination between prepare and train, and train reads the cleaned corpus."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_contamination_stage_sits_between_prepare_and_train() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    stage = stages["contamination"]
    assert {"data/prepared", "data/train/corpus.jsonl"} <= set(stage["deps"])
    assert set(stage["outs"]) == {"data/contamination", "data/train/clean.jsonl"}
    assert "metrics/contamination.json" in str(stage["metrics"])
    assert stage["params"] == ["contamination"]
    assert {"data/prepared", "data/train/corpus.jsonl"} <= set(
        out for out in stages["prepare"]["outs"] if isinstance(out, str)
    )
    train = stages["train"]["do"]
    assert "data/train/clean.jsonl" in train["deps"]
    assert "data/train/corpus.jsonl" not in train["deps"]
    assert "data/train/clean.jsonl" in (ROOT / "stages/train.py").read_text()


def test_perturb_stage_builds_the_suite_from_prepared_sets() -> None:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    stage = stages["perturb"]
    assert "data/prepared" in stage["deps"] and stage["outs"] == ["data/perturbed"]
    assert stage["params"] == ["contamination.perturb_seed"]
    assert "data/perturbed" in (ROOT / "stages/perturb.py").read_text()
