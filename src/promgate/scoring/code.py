"""Functional correctness of generated code (HumanEval-style), and unbiased pass@k."""

from __future__ import annotations

from math import comb

from promgate.data.schema import Item
from promgate.sandbox.limits import Limits
from promgate.sandbox.runner import RunResult, run_python

HUMANEVAL_STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]


def humaneval_program(item: Item, completion: str) -> str:
    return f"{item.prompt}{completion}\n\n{item.tests}\n\ncheck({item.entry_point})\n"


def check_completion(item: Item, completion: str, limits: Limits) -> RunResult:
    return run_python(humaneval_program(item, completion), limits)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c passed (Chen et al., 2021)."""
    if n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)
