"""The held-out validation split of the training corpus and the validation loss on it.

Documents are held out by the sha256 of their id, so every seed sees the same split and the
split does not move when the corpus file is reordered.
"""

from __future__ import annotations

import hashlib

from promgate.config import ValidationSplitConfig
from promgate.errors import ConfigError
from promgate.train.examples import IGNORE_INDEX, Example


def split_validation(rows: list[dict], cfg: ValidationSplitConfig) -> tuple[list[dict], list[dict]]:
    """(train, validation), each in corpus order; at least one document stays for training."""
    wanted = min(cfg.max_examples, round(cfg.fraction * len(rows)))
    n_val = max(0, min(wanted, len(rows) - 1))
    ranked = sorted(rows, key=lambda r: hashlib.sha256(r["id"].encode("utf-8")).hexdigest())
    held = {r["id"] for r in ranked[:n_val]}
    train = [r for r in rows if r["id"] not in held]
    val = [r for r in rows if r["id"] in held]
    if not train:
        raise ConfigError("the training corpus leaves no document to train on", field="train")
    return train, val


def validation_loss(model, examples: list[Example], batch_size: int, collate) -> float:
    """Token-weighted mean loss over the examples (every supervised token counts once)."""
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(examples), batch_size):
            ids, mask, labels = collate(examples[start : start + batch_size])
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            # The model averages over the shifted labels that are not ignored.
            n = int((labels[:, 1:] != IGNORE_INDEX).sum())
            total += float(loss) * n
            count += n
    model.train(was_training)
    return total / count if count else float("nan")
