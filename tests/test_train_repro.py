"""The repro check on the real model: a re-run matches the train stage's record bit for bit,
and a record that differs (or a run that never trained) is not reproduced."""

import json

import pytest

from promgate.config import LoraConfig, OverfitCheckConfig, TrainConfig, ValidationSplitConfig
from promgate.train.candidate import CURVE_FILE, FAILED_FILE, train_candidate
from promgate.train.repro import check_repro

pytestmark = pytest.mark.model

# The reference run has its checks on (mini-overfit, validation, merge); the re-run has them
# off, so a match also shows that the checks leave the trajectory alone.
CFG = TrainConfig(
    steps=2,
    batch_size=2,
    max_length=32,
    learning_rate=1e-3,
    lora=LoraConfig(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]),
    validation=ValidationSplitConfig(fraction=0.25, max_examples=1),
    overfit_check=OverfitCheckConfig(steps=1, examples=2, min_drop=0.0),
    repro_steps=2,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    rows = [{"id": f"c/{i}", "prompt": f"Say {i}.", "response": f"{i}"} for i in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _train(base, corpus, root, cfg=CFG):
    return train_candidate(
        candidate="lora-s3",
        base_dir=base,
        corpus_path=corpus,
        cfg=cfg,
        seed=3,
        out_dir=root / "lora-s3",
        metrics_path=root / "lora-s3.json",
        threads=2,
        root=root,
    )


def _check(base, corpus, root, cfg=CFG):
    return check_repro(
        candidate="lora-s3",
        base_dir=base,
        corpus_path=corpus,
        cfg=cfg,
        seed=3,
        adapter_dir=root / "lora-s3",
        threads=2,
    )


@pytest.fixture(scope="module")
def trained(base_model_dir, corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("repro")
    assert _train(base_model_dir, corpus, root).status == "completed"
    return root


def test_a_rerun_reproduces_curve_weights_and_adapter(trained, base_model_dir, corpus):
    report = _check(base_model_dir, corpus, trained)
    assert report.reproduced, report.message
    assert (report.steps_compared, report.loss_curve_equal, report.weights_equal) == (2, True, True)
    assert report.adapter_sha256_equal is True and report.max_abs_loss_diff == 0.0
    assert {p.rsplit("/", 1)[-1] for p in report.reference} == {
        CURVE_FILE,
        "adapter_model.safetensors",
    }


def test_a_record_that_differs_is_not_reproduced(trained, base_model_dir, corpus):
    path = trained / "lora-s3" / CURVE_FILE
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["weights_sha256"] = "0" * 64
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # Fewer steps than the run: the curve is compared, the final adapter cannot be.
    report = _check(base_model_dir, corpus, trained, CFG.model_copy(update={"repro_steps": 1}))
    assert not report.reproduced and report.first_mismatch_step == 0
    assert report.loss_curve_equal and not report.weights_equal
    assert report.adapter_sha256_equal is None and "step 0" in report.message


def test_a_reproducible_divergence_is_reproduced(base_model_dir, corpus, tmp_path):
    cfg = CFG.model_copy(
        update={"learning_rate": 1e6, "overfit_check": OverfitCheckConfig(steps=0), "steps": 4}
    )
    metrics = _train(base_model_dir, corpus, tmp_path, cfg)
    assert metrics.status == "diverged" and metrics.failure.phase == "train"
    report = _check(base_model_dir, corpus, tmp_path, cfg.model_copy(update={"repro_steps": 4}))
    assert report.reproduced, report.message
    assert report.steps_compared == metrics.steps_completed


def test_no_curve_to_compare_is_not_reproduced(tmp_path, base_model_dir, corpus):
    folder = tmp_path / "lora-s3"
    folder.mkdir()
    failure = {
        "status": "diverged",
        "candidate": "lora-s3",
        "seed": 3,
        "error": "TrainingDivergedError",
        "failure": {
            "kind": "diverged",
            "phase": "overfit_check",
            "cause": "nonfinite_loss",
            "step": 1,
            "loss": None,
            "loss_text": "nan",
            "message": "seed 3: training diverged: loss is nan at step 1",
        },
        "metrics_file": "lora-s3.json",
    }
    (folder / FAILED_FILE).write_text(json.dumps(failure))
    report = _check(base_model_dir, corpus, tmp_path)
    assert not report.reproduced and "mini-overfit" in report.message
