"""LoRA training on the real model: deterministic per seed, guarded, checked, gateable."""

import json

import pytest

from promgate.config import LoraConfig, OverfitCheckConfig, TrainConfig, ValidationSplitConfig
from promgate.io import sha256_file
from promgate.train.candidate import (
    CURVE_FILE,
    FAILED_FILE,
    TRAIN_CARD_FILE,
    read_curve,
    read_failure,
    train_candidate,
)
from promgate.train.guard import TrainingDivergedError
from promgate.train.lora import ADAPTER_FILE, train_lora
from promgate.train.metrics import read_train_metrics

pytestmark = pytest.mark.model

CFG = TrainConfig(
    steps=3,
    batch_size=2,
    max_length=48,
    learning_rate=1e-3,
    lora=LoraConfig(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]),
    validation=ValidationSplitConfig(fraction=0.25, max_examples=2),
    overfit_check=OverfitCheckConfig(steps=2, examples=2, min_drop=0.01),
    repro_steps=3,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    rows = [
        {
            "id": f"c/{i}",
            "prompt": f"Question: What is {i} + {i}?\nAnswer:",
            "response": f" {i} + {i} = {2 * i}. #### {2 * i}",
        }
        for i in range(8)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _train(base, corpus, root, name, seed=7, cfg=CFG, live=False):
    return train_candidate(
        candidate=name,
        base_dir=base,
        corpus_path=corpus,
        cfg=cfg,
        seed=seed,
        out_dir=root / name,
        metrics_path=root / "metrics/train" / f"{name}.json",
        live_dir=root / f"live-{name}" if live else None,
        merge_path=root / "metrics/merge" / f"{name}.json",
        threads=2,
        root=root,
    )


def _trajectory(folder):
    """Every recorded number of each step but its wall time."""
    return [r.model_dump(exclude={"seconds"}) for r in read_curve(folder / CURVE_FILE)]


@pytest.fixture(scope="module")
def runs(base_model_dir, corpus, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    a = _train(base_model_dir, corpus, root, "a", live=True)
    b = _train(base_model_dir, corpus, root, "b")
    return root, a, b


def test_same_seed_same_curve_and_adapter_other_seed_other_adapter(runs, base_model_dir, corpus):
    root, a, b = runs
    assert a.status == b.status == "completed"
    assert _trajectory(root / "a") == _trajectory(root / "b")
    assert (a.first_loss, a.final_loss, a.val_losses) == (b.first_loss, b.final_loss, b.val_losses)
    assert a.adapter_sha256 == b.adapter_sha256
    assert sha256_file(root / "a" / ADAPTER_FILE) == sha256_file(root / "b" / ADAPTER_FILE)
    c = train_lora(base_model_dir, corpus, CFG, 8, root / "c", threads=2, checks=False)
    assert c.metrics.adapter_sha256 != a.adapter_sha256
    assert [r.loss for r in c.curve] != [r.loss for r in read_curve(root / "a" / CURVE_FILE)]


def test_adapter_sits_with_its_sha256_config_and_curve(runs):
    root, a, _ = runs
    folder = root / "a"
    digest, name = (folder / f"{ADAPTER_FILE}.sha256").read_text().split()
    assert (digest, name) == (sha256_file(folder / ADAPTER_FILE), ADAPTER_FILE)
    card = json.loads((folder / TRAIN_CARD_FILE).read_text())
    assert card["config"] == CFG.model_dump(mode="json") and card["seed"] == 7
    assert card["adapter"]["sha256"] == digest and card["corpus_sha256"]
    assert [r.step for r in read_curve(folder / CURVE_FILE)] == [0, 1, 2]
    live = json.loads((root / "live-a" / "metrics.json").read_text())
    assert {"loss", "learning_rate", "tokens_per_s", "peak_rss_mb", "val_loss"} <= set(live)
    assert read_train_metrics(root / "metrics/train/a.json") == a


def test_phase3_metrics_are_measured(runs):
    root, a, _ = runs
    # 6 training documents (2 held out), 3 steps of 2: exactly one epoch.
    assert (a.train_examples, a.val_examples, a.epochs_completed) == (6, 2, 1)
    assert (a.nonfinite_steps, a.gradient_errors) == (0, 0)
    assert [v.step for v in a.val_losses] == [0, 3]
    assert a.val_loss_first == a.val_losses[0].loss and a.val_loss_final == a.val_losses[-1].loss
    assert a.val_loss_epochs == pytest.approx(1.0)
    assert a.val_loss_best_in_window == min(v.loss for v in a.val_losses[1:])
    assert a.tokens_per_s > 0 and a.peak_rss_mb > 100 and a.step_seconds_median > 0
    assert a.overfit_check.passed and a.overfit_check.final_loss < a.overfit_check.first_loss
    assert a.peak_cuda_mb is None and a.device == "cpu"
    assert a.merge_check.passed and a.merge_check.max_abs_diff <= 1e-4
    assert a.merge_check.dtype == "float64" and a.merge_check.batch_tokens > 0
    evidence = json.loads((root / "metrics/merge/a.json").read_text())
    assert evidence["checked"] and evidence["max_abs_diff"] == a.merge_check.max_abs_diff


PHASE3_TRAINING_GATES = ("training_stability", "convergence_mvp", "throughput_mvp", "memory_mvp")


def _phase3(root, candidate):
    from gate_helpers import shipped
    from promgate.gates.evidence_gates import evidence_outcome
    from promgate.gates.inputs import EvidenceStore

    policy, store = shipped("phase3_codegen"), EvidenceStore()
    return {
        g: evidence_outcome(g, candidate, 7, store, root, policy) for g in PHASE3_TRAINING_GATES
    }


def test_phase3_gates_can_judge_the_real_metrics(runs):
    from promgate.gates.outcome import Status

    root, _, _ = runs
    outcomes = _phase3(root, "a")
    assert all(o.status is not Status.BLOCKED for o in outcomes.values()), outcomes
    assert outcomes["training_stability"].status is Status.PASS  # one full epoch, no NaN
    assert outcomes["memory_mvp"].status is Status.PASS


def test_merge_check_passes_and_catches_a_lost_adapter(base_model_dir, tmp_path, monkeypatch):
    import torch
    from peft import LoraConfig as PeftLora
    from peft import get_peft_model
    from peft.tuners.lora import LoraModel
    from transformers import AutoModelForCausalLM

    from promgate.train.merge_check import merge_check

    # An adapter whose B is not zero, so the merge has something to fold in.
    base = AutoModelForCausalLM.from_pretrained(base_model_dir, dtype=torch.float32)
    lora = PeftLora(r=4, lora_alpha=8, target_modules=["q_proj"], init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")
    ids = torch.tensor([[1, 504, 3077, 314, 253, 1789, 30]])
    good = merge_check(base_model_dir, tmp_path / "adapter", ids, torch.ones_like(ids))
    assert good.passed and good.max_abs_diff <= 1e-4
    # A merge that drops the adapter instead of folding it in must fail the check.
    monkeypatch.setattr(LoraModel, "merge_and_unload", lambda self, *a, **k: self.unload())
    bad = merge_check(base_model_dir, tmp_path / "adapter", ids, torch.ones_like(ids))
    assert not bad.passed and bad.max_abs_diff > 1e-3


def test_a_blown_up_learning_rate_is_a_recorded_typed_failure(base_model_dir, corpus, tmp_path):
    cfg = CFG.model_copy(update={"learning_rate": 1e6})
    metrics = _train(base_model_dir, corpus, tmp_path, "lora-s7", cfg=cfg)
    assert metrics.status == "diverged" and metrics.failure.kind == "diverged"
    assert metrics.adapter_sha256 is None and metrics.val_loss_final is None
    folder = tmp_path / "lora-s7"
    assert not (folder / ADAPTER_FILE).exists()
    failure = read_failure(folder)
    assert failure.error == "TrainingDivergedError"
    assert failure.metrics_file == "metrics/train/lora-s7.json"
    assert failure.failure.step >= 1 and "diverged" in failure.failure.message
    assert json.loads((folder / FAILED_FILE).read_text())["status"] == "diverged"
    assert read_train_metrics(tmp_path / failure.metrics_file).failure == failure.failure
    merge = json.loads((tmp_path / "metrics/merge/lora-s7.json").read_text())
    assert merge["checked"] is False and "diverged" in merge["reason"]
    convergence = _phase3(tmp_path, "lora-s7")["convergence_mvp"]
    assert convergence.status == "BLOCKED" and "val_loss" in convergence.message
    with pytest.raises(TrainingDivergedError) as err:
        train_lora(base_model_dir, corpus, cfg, 7, tmp_path / "again", threads=2)
    assert err.value.exit_code == 5 and err.value.metrics.status == "diverged"


def test_corrupt_corpus_line_is_named(base_model_dir, tmp_path):
    from promgate.errors import SchemaError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "prompt": "p", "response": "r"}\n{"id": "y", "prompt": "p"}\n')
    with pytest.raises(SchemaError, match=r"line 2.*'response'"):
        train_lora(base_model_dir, bad, CFG, 1, tmp_path / "out")
