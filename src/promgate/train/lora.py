"""LoRA fine-tuning of the base model for one seed: deterministic, logged, guarded."""

from __future__ import annotations

import math
import platform
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from promgate.config import TrainConfig
from promgate.errors import PromgateError
from promgate.io import sha256_file, sha256_tree, write_json
from promgate.progress import progress_bar
from promgate.train.examples import IGNORE_INDEX, Example, encode_example, read_corpus

TRAIN_CARD_FILE = "promgate-train.json"


class TrainingDivergedError(PromgateError):
    """The loss became NaN or infinite: the run is stopped rather than saved."""

    exit_code = 5


@dataclass(frozen=True)
class TrainSummary:
    seed: int
    steps: int
    first_loss: float
    final_loss: float
    tokens_per_s: float
    seconds: float
    peak_rss_mb: float
    adapter_sha256: str


def _batches(examples: list[Example], batch_size: int, steps: int, seed: int):
    import torch

    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    while len(order) < steps * batch_size:
        order.extend(torch.randperm(len(examples), generator=generator).tolist())
    for step in range(steps):
        yield [examples[i] for i in order[step * batch_size : (step + 1) * batch_size]]


def _collate(batch: list[Example], pad_id: int):
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, example in enumerate(batch):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return ids, mask, labels


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if platform.system() == "Darwin" else peak / 1024


def train_lora(
    base_dir: Path,
    corpus_path: Path,
    cfg: TrainConfig,
    seed: int,
    out_dir: Path,
    live_dir: Path | None = None,
    threads: int = 0,
) -> TrainSummary:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    corpus = read_corpus(corpus_path)  # fail on a bad corpus before loading any weights
    set_seed(seed)
    if threads > 0:
        torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    lora = LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=list(cfg.lora.target_modules),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.train()
    examples = [
        encode_example(tokenizer, row["prompt"], row["response"], cfg.max_length) for row in corpus
    ]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.0)
    warmup = max(cfg.warmup_steps, 0)

    live = None
    if live_dir is not None:
        from dvclive import Live

        live = Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=None, report=None)
        live.log_params({"seed": seed, **cfg.model_dump()})

    losses: list[float] = []
    tokens = 0
    started = time.perf_counter()
    with progress_bar("steps") as bar:
        task = bar.add_task(f"train seed {seed}", total=cfg.steps)
        for step, batch in enumerate(_batches(examples, cfg.batch_size, cfg.steps, seed)):
            lr = cfg.learning_rate * min(1.0, (step + 1) / warmup) if warmup else cfg.learning_rate
            for group in optimizer.param_groups:
                group["lr"] = lr
            ids, mask, labels = _collate(batch, tokenizer.pad_token_id)
            step_start = time.perf_counter()
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            if not math.isfinite(loss.item()):
                raise TrainingDivergedError(f"seed {seed}: loss is {loss.item()} at step {step}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step_tokens = int(mask.sum())
            tokens += step_tokens
            losses.append(loss.item())
            if live is not None:
                live.log_metric("loss", loss.item())
                live.log_metric("learning_rate", lr)
                live.log_metric("tokens_per_s", step_tokens / (time.perf_counter() - step_start))
                live.log_metric("peak_rss_mb", _peak_rss_mb())
                live.next_step()
            bar.advance(task)
    seconds = time.perf_counter() - started
    if live is not None:
        live.end()

    model.save_pretrained(out_dir)
    summary = TrainSummary(
        seed=seed,
        steps=cfg.steps,
        first_loss=losses[0],
        final_loss=losses[-1],
        tokens_per_s=tokens / seconds if seconds else 0.0,
        seconds=seconds,
        peak_rss_mb=_peak_rss_mb(),
        adapter_sha256=sha256_file(out_dir / "adapter_model.safetensors"),
    )
    write_json(
        out_dir / TRAIN_CARD_FILE,
        {
            "seed": seed,
            "base_model": str(base_dir),
            "base_model_sha256": sha256_tree(base_dir),
            "corpus": str(corpus_path),
            "corpus_sha256": sha256_file(corpus_path),
            "config": cfg.model_dump(),
            "summary": summary.__dict__,
        },
    )
    return summary
