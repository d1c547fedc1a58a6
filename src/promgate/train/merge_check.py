"""Merge check: the evaluated model (adapter merged into the base) against the adapter on top
of the base, logits on a fixed batch. The evaluate stage scores the merged weights, so the
results describe the signed adapter only if the two agree.

Both sides run in float64. In float32 the two orders of summation alone differ by about 1e-4
on SmolLM2's logits (|logit| up to ~40), as much as the bound. In float64 what is left is
transformers' RMSNorm, which computes in float32 whatever the model's dtype: about 1e-5 for
the rank-32 probe on every linear layer, an order of magnitude under the bound. A difference
near 1e-4 is then a real mismatch (wrong scaling, a module left out), which is what the
check is for.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from promgate.train.batches import training_pad_id
from promgate.train.metrics import MergeCheck

MERGE_TOLERANCE = 1e-4
CHECK_DTYPE = "float64"
# The fixed batch: the same token ids for every candidate (a probe or any variant of it).
FIXED_TEXTS = (
    "Question: Which gas do plants take in from the air?\nAnswer: carbon dioxide",
    "def add(a, b):\n    return a + b",
    "Natalia sold 48 clips in April and half as many in May. #### 72",
)


def merge_check(
    base_dir: Path, adapter_dir: Path, ids, mask, *, tolerance: float = MERGE_TOLERANCE
) -> MergeCheck:
    """Max |logit difference| over the unpadded positions of ``ids`` (a [batch, length] tensor).

    Both sides are loaded from disk: the saved adapter is what is checked, not the weights
    still in memory after training.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(adapter_dir)).to(getattr(torch, CHECK_DTYPE)).eval()
    with torch.inference_mode():
        unmerged = model(input_ids=ids, attention_mask=mask).logits
        merged = model.merge_and_unload()(input_ids=ids, attention_mask=mask).logits
    keep = mask.bool()
    diff = float(torch.max(torch.abs(unmerged - merged)[keep]).item())
    return MergeCheck(
        max_abs_diff=diff if math.isfinite(diff) else None,
        tolerance=tolerance,
        passed=diff <= tolerance,
        dtype=CHECK_DTYPE,
        batch_tokens=int(keep.sum()),
        batch_sha256=hashlib.sha256(ids.numpy().tobytes()).hexdigest(),
    )


def fixed_batch(tokenizer):
    """``FIXED_TEXTS`` tokenized and right-padded: (ids, mask), [batch, length] tensors."""
    import torch

    rows = [tokenizer(text, add_special_tokens=False).input_ids for text in FIXED_TEXTS]
    width = max(len(r) for r in rows)
    pad = training_pad_id(tokenizer)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def check_adapter(base_dir: Path, adapter_dir: Path) -> MergeCheck:
    """The merge check of a saved adapter on the fixed batch."""
    from transformers import AutoTokenizer

    ids, mask = fixed_batch(AutoTokenizer.from_pretrained(base_dir))
    return merge_check(base_dir, adapter_dir, ids, mask)


def write_merge_evidence(
    path: Path, candidate: str, check: MergeCheck | None, why_not: str | None = None
) -> None:
    """``metrics/merge/<candidate>.json``, which miso_v1's merge_check gate reads. Without a
    check (no adapter) it records why, and the gate on it is BLOCKED."""
    from promgate.io import write_json

    if check is None:
        write_json(path, {"candidate": candidate, "checked": False, "reason": why_not})
    else:
        write_json(path, {"candidate": candidate, "checked": True, **check.model_dump()})
