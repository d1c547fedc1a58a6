"""Multiple-comparison adjustment of per-benchmark p-values, via statsmodels.

A suite of benchmarks is a family of tests: with seven benchmarks at α = 0.05 and no
adjustment, a candidate no better than its baseline "wins" somewhere about a third of the
time. ``holm`` controls the family-wise error rate (Holm 1979, uniformly more powerful than
Bonferroni), ``bh`` the false discovery rate (Benjamini–Hochberg 1995; valid for independent
or positively dependent tests), ``none`` reports the raw p-values.

A benchmark whose p-value is None (not testable: scores with no paired test, missing
evidence) passes through as None and is not a member of the family, so it neither loosens
nor tightens anyone else's adjustment. The adjusted p-values do not depend on the order of
the mapping.

statsmodels' Holm branch runs a full ``gc.collect()`` on every call (statsmodels 0.15), ~60 ms
in a process that has scipy and pandas loaded: nothing for one gate, but it dominates any
simulation that adjusts thousands of families. ``_without_full_collect`` moves the objects
that exist before the call into the collector's permanent generation for its duration
(``gc.freeze``; O(1) both ways), so that collect only looks at the call's own objects. It
leaves the collector alone when the process has frozen objects of its own.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests

Multiplicity = Literal["none", "holm", "bh"]
METHODS: tuple[Multiplicity, ...] = ("none", "holm", "bh")
_STATSMODELS_NAME = {"holm": "holm", "bh": "fdr_bh"}


@contextmanager
def _without_full_collect() -> Iterator[None]:
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def adjust_pvalues(
    p_values: Mapping[str, float | None], method: Multiplicity
) -> dict[str, float | None]:
    """Adjusted p-values, same keys and order; None passes through and is not counted."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    for name, p in p_values.items():
        # NaN fails the range check too: a p-value that is not a number is an error.
        if p is not None and (isinstance(p, bool) or not 0.0 <= float(p) <= 1.0):
            raise ValueError(f"p-value of '{name}' must be a number in [0, 1], got {p!r}")
    tested = [name for name, p in p_values.items() if p is not None]
    adjusted: dict[str, float | None] = {name: None for name in p_values}
    if not tested:
        return adjusted
    raw = np.array([float(p_values[name]) for name in tested])  # type: ignore[arg-type]
    if method == "none":
        values = raw
    else:
        with _without_full_collect():
            values = multipletests(raw, method=_STATSMODELS_NAME[method])[1]
    for name, value in zip(tested, values, strict=True):
        adjusted[name] = min(1.0, float(value))
    return adjusted
