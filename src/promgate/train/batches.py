"""Batches of a training run: a seeded order, padding, and the learning-rate schedule.

A shorter run is a prefix of a longer one with the same seed (same batches, same learning
rates), which is what lets stage repro_check re-run only the first steps.
"""

from __future__ import annotations

from promgate.config import TrainConfig
from promgate.train.examples import IGNORE_INDEX, Example


def batches(examples: list[Example], batch_size: int, steps: int, seed: int):
    """A fresh permutation per epoch from a seeded generator; a shorter run is a prefix."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    while len(order) < steps * batch_size:
        order.extend(torch.randperm(len(examples), generator=generator).tolist())
    for step in range(steps):
        yield [examples[i] for i in order[step * batch_size : (step + 1) * batch_size]]


def collate(batch: list[Example], pad_id: int, device: str = "cpu"):
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
    return ids.to(device), mask.to(device), labels.to(device)


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Linear warmup, then constant: the schedule does not depend on the run's length."""
    warmup = max(cfg.warmup_steps, 0)
    return cfg.learning_rate * min(1.0, (step + 1) / warmup) if warmup else cfg.learning_rate


def training_pad_id(tokenizer) -> int:
    """The id padding is filled with. Some transformers versions load the GGUF tokenizer
    without a pad token; padded positions are masked out of the loss, so eos does as well."""
    pad = tokenizer.pad_token_id
    return pad if pad is not None else tokenizer.eos_token_id
