"""LoRA fine-tuning of the base model for one seed: deterministic, logged, guarded.

On the CPU the same seed, corpus and config give the same loss curve and the same adapter
bytes. Before the real run a mini-overfit check trains a few steps on one tiny batch and
puts the weights back: its loss must fall (a rise is a divergence). The run stops with a
typed failure (``TrainingFailedError``) on a NaN, an infinite gradient or a blown-up loss.
Validation loss is measured on a held-out split at the start, at each epoch boundary and at
the end.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from promgate.config import TrainConfig
from promgate.errors import ConfigError
from promgate.io import sha256_file
from promgate.progress import progress_bar
from promgate.train.batches import batches, collate, lr_at, training_pad_id
from promgate.train.examples import Example, encode_example, read_corpus
from promgate.train.guard import (
    DivergenceGuard,
    OverfitCheckError,
    TrainingDivergedError,
    TrainingFailedError,
)
from promgate.train.merge_check import check_adapter
from promgate.train.metrics import (
    Failure,
    OverfitCheck,
    Recorder,
    StepRecord,
    TrainMetrics,
    ValLoss,
    finite,
    peak_rss_mb,
    weights_sha256,
)
from promgate.train.validation import split_validation, validation_loss

__all__ = ["TrainResult", "TrainingDivergedError", "TrainingFailedError", "train_lora"]

ADAPTER_FILE = "adapter_model.safetensors"


@dataclass(frozen=True)
class TrainResult:
    metrics: TrainMetrics
    curve: list[StepRecord]


def lora_config(cfg: TrainConfig):
    """The peft ``LoraConfig`` of the probe adapter ``cfg.lora`` describes."""
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=list(cfg.lora.target_modules),
        task_type="CAUSAL_LM",
    )


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("no CUDA device is available", field="train.device")
    return name


def _make_deterministic(device: str) -> None:
    import torch

    if device == "cuda":
        # cuBLAS reads this when it starts; without it deterministic mode raises.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def _trainable(model) -> list:
    return [p for p in model.parameters() if p.requires_grad]


def _update(model, optimizer, batch_tensors, lr: float, guard: DivergenceGuard, step: int):
    """One guarded optimizer step -> (loss, gradient norm)."""
    import torch

    ids, mask, labels = batch_tensors
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss_t = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss = float(loss_t.item())
    guard.check_loss(step, loss)
    optimizer.zero_grad(set_to_none=True)
    loss_t.backward()
    grads = [p.grad for p in _trainable(model) if p.grad is not None]
    grad_norm = float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0
    guard.check_gradient(step, loss, grad_norm)
    optimizer.step()
    return loss, grad_norm


def _overfit_check(model, examples: list[Example], cfg: TrainConfig, to_tensors, seed: int):
    """Train a few steps on one tiny batch, measure the drop, then restore the weights."""
    import torch

    check = cfg.overfit_check
    params = _trainable(model)
    saved = [p.detach().clone() for p in params]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    guard = DivergenceGuard(cfg.max_loss_ratio, "overfit_check", seed)
    batch = to_tensors(examples[: check.examples])
    losses: list[float] = []
    try:
        for step in range(check.steps):
            loss, _ = _update(model, optimizer, batch, lr_at(cfg, step), guard, step)
            losses.append(loss)
        with torch.inference_mode():
            final = float(model(input_ids=batch[0], attention_mask=batch[1], labels=batch[2]).loss)
        guard.check_loss(check.steps, final)
    finally:
        with torch.no_grad():
            for param, value in zip(params, saved, strict=True):
                param.copy_(value)
                param.grad = None
    drop = 1.0 - final / losses[0]
    return OverfitCheck(
        steps=check.steps,
        examples=min(check.examples, len(examples)),
        first_loss=losses[0],
        final_loss=final,
        drop=drop,
        min_drop=check.min_drop,
        passed=drop >= check.min_drop,
    )


def _open_live(live_dir: Path | None, seed: int, cfg: TrainConfig):
    if live_dir is None:
        return None
    from dvclive import Live

    live = Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None, report=None)
    live.log_params({"seed": seed, **cfg.model_dump()})
    return live


def train_lora(
    base_dir: Path,
    corpus_path: Path,
    cfg: TrainConfig,
    seed: int,
    out_dir: Path,
    live_dir: Path | None = None,
    threads: int = 0,
    *,
    max_steps: int | None = None,
    checks: bool = True,
    base_ref: str | None = None,
) -> TrainResult:
    """Train one adapter into ``out_dir``; raises TrainingFailedError (with metrics) on failure.

    ``max_steps`` stops early (the first steps are the same as in the full run: the batch
    order and learning rate do not depend on the run's length). ``checks=False`` leaves out
    what does not change the weights: the mini-overfit check (it restores them), validation
    loss and the merge check; stage repro_check uses it to re-run the first steps cheaply.
    ``base_ref`` is how the saved adapter names its base (default: ``base_dir`` as given);
    a path relative to the repository keeps the adapter's folder the same in every checkout.
    """
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    corpus = read_corpus(corpus_path)  # fail on a bad corpus before loading any weights
    train_rows, val_rows = split_validation(corpus, cfg.validation)
    device = resolve_device(cfg.device)
    _make_deterministic(device)
    if threads > 0:
        torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    encode = partial(encode_example, tokenizer, max_length=cfg.max_length)
    train_ex = [encode(r["prompt"], r["response"]) for r in train_rows]
    val_ex = [encode(r["prompt"], r["response"]) for r in val_rows] if checks else []
    pad_id = training_pad_id(tokenizer)
    to_tensors = partial(collate, pad_id=pad_id, device=device)

    set_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).to(device)
    model = get_peft_model(model, lora_config(cfg))
    model.train()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    steps = cfg.steps if max_steps is None else min(max_steps, cfg.steps)
    progress = Recorder(cfg, seed, device, steps, len(train_ex), len(val_ex))
    live = _open_live(live_dir, seed, cfg)
    try:
        if checks and cfg.overfit_check.steps > 0:
            progress.overfit = _overfit_check(model, train_ex, cfg, to_tensors, seed)
            if not progress.overfit.passed:
                raise _no_progress(progress.overfit, seed)
        _run(model, train_ex, val_ex, cfg, seed, steps, to_tensors, progress, live)
        progress.peak_rss = peak_rss_mb()  # training's peak, before the merge check loads more
    except TrainingFailedError as exc:
        exc.metrics = progress.metrics(exc.failure.kind, failure=exc.failure)
        exc.curve = progress.curve
        raise
    finally:
        if live is not None:
            live.end()

    out_dir = Path(out_dir)
    model.peft_config["default"].base_model_name_or_path = base_ref or str(base_dir)
    model.save_pretrained(out_dir)
    merge = check_adapter(base_dir, out_dir) if checks else None
    metrics = progress.metrics(
        "completed", adapter_sha256=sha256_file(out_dir / ADAPTER_FILE), merge=merge
    )
    return TrainResult(metrics=metrics, curve=progress.curve)


def _no_progress(check: OverfitCheck, seed: int) -> TrainingFailedError:
    """The typed failure of a mini-overfit check that did not pass.

    On one fixed batch there is no sampling noise: a loss that rose means the updates
    overshoot (diverged); one that fell too little means the run cannot learn.
    """
    where = f"in {check.steps} steps on {check.examples} examples of one batch"
    if check.final_loss > check.first_loss:
        kind, cause, error = "diverged", "loss_rose", TrainingDivergedError
        message = (
            f"seed {seed}: training diverged: the mini-overfit check's loss rose from "
            f"{check.first_loss:.4g} to {check.final_loss:.4g} {where}"
        )
    else:
        kind, cause, error = "overfit_check_failed", "no_progress", OverfitCheckError
        message = (
            f"seed {seed}: the mini-overfit check's loss fell {check.drop:.1%} {where} "
            f"(needs ≥ {check.min_drop:.0%}): the run cannot learn"
        )
    failure = Failure(
        kind=kind,
        phase="overfit_check",
        cause=cause,
        step=check.steps,
        loss=finite(check.final_loss),
        loss_text=repr(check.final_loss),
        message=message,
    )
    return error(failure)


def _run(model, train_ex, val_ex, cfg, seed, steps, to_tensors, progress: Recorder, live) -> None:
    """The real run: guarded steps, per-step records, validation loss at epoch boundaries."""
    import torch
    from transformers import set_seed

    # Re-seeded here so the run does not depend on what the checks before it drew.
    set_seed(seed)
    optimizer = torch.optim.AdamW(_trainable(model), lr=cfg.learning_rate, weight_decay=0.0)
    guard = DivergenceGuard(cfg.max_loss_ratio, "train", seed)

    def measure(steps_done: int) -> None:
        loss = validation_loss(model, val_ex, cfg.batch_size, to_tensors)
        record = ValLoss(step=steps_done, epoch=progress.epoch_at(steps_done), loss=loss)
        progress.val_losses.append(record)
        if live is not None:
            live.log_metric("val_loss", loss)

    if val_ex:
        measure(0)
    with progress_bar("steps") as bar:
        task = bar.add_task(f"train seed {seed}", total=steps)
        for step, batch in enumerate(batches(train_ex, cfg.batch_size, steps, seed)):
            # A step's time covers all the trainer does for it (batching, the guard, the
            # weights digest), not only forward and backward: tokens/s is the real rate.
            started = time.perf_counter()
            tensors = to_tensors(batch)
            lr = lr_at(cfg, step)
            loss, grad_norm = _update(model, optimizer, tensors, lr, guard, step)
            digest = weights_sha256(model)  # copies to the host, so it also waits for the GPU
            seconds = time.perf_counter() - started
            record = StepRecord(
                step=step,
                loss=loss,
                learning_rate=lr,
                grad_norm=grad_norm,
                tokens=int(tensors[1].sum()),
                seconds=seconds,
                weights_sha256=digest,
            )
            progress.curve.append(record)
            if live is not None:
                live.log_metric("loss", loss)
                live.log_metric("learning_rate", lr)
                live.log_metric("grad_norm", grad_norm)
                live.log_metric("tokens_per_s", record.tokens / seconds if seconds else 0.0)
                live.log_metric("peak_rss_mb", peak_rss_mb())
            size = progress.train_examples
            crossed = (step + 1) * cfg.batch_size // size > step * cfg.batch_size // size
            if val_ex and (crossed or step + 1 == steps):
                measure(step + 1)
            if live is not None:
                live.next_step()
            bar.advance(task)
