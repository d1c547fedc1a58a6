"""Timing variants round by round, so a busy machine slows every variant alike."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any


def interleaved(
    rounds: int, variants: Sequence[Hashable], run: Callable[[Any], Any]
) -> tuple[dict[Any, list[float]], dict[Any, Any]]:
    """Seconds of every run of each variant, and each variant's last output: every round
    runs every variant once, in order."""
    seconds: dict[Any, list[float]] = {v: [] for v in variants}
    outputs: dict[Any, Any] = {}
    for round_ in range(rounds):
        for variant in variants:
            began = time.perf_counter()
            outputs[variant] = run(variant)
            seconds[variant].append(time.perf_counter() - began)
            print(f"round {round_} {variant}: {seconds[variant][-1]:.1f} s", file=sys.stderr)
    return seconds, outputs


def median_s(runs: list[float]) -> float:
    return round(statistics.median(runs), 2)
