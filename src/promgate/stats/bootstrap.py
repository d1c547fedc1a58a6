"""Paired stratified bootstrap of Δ = mean(candidate) − mean(baseline), percentile CIs.

Stratum sizes are held fixed in every replicate (the sample was drawn stratified, so the
resampling is too) and strata are weighted by their size, which keeps the replicate Δ an
ordinary item-level mean difference.

Binary pairs use an exact shortcut: within a stratum, resampling n items with replacement
is the same as one multinomial draw of n over the four (baseline, candidate) cells, so the
cost does not grow with n. Non-binary scores resample indices, vectorised and chunked.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

# Upper bound on index draws held in memory at once for the non-binary path (~32 MB).
_MAX_DRAWS_PER_CHUNK = 4_000_000

METHOD_CELLS = "paired-stratified-multinomial-cells"
METHOD_INDEX = "paired-stratified-index"
METHOD_MACRO = "joint-macro-average"
CI_TYPE = "percentile"


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate and its percentile CI, in proportion units (0.03 = 3 pp)."""

    delta: float
    ci_low: float
    ci_high: float
    confidence: float
    resamples: int
    seed: int
    method: str


@dataclass(frozen=True)
class MacroBootstrapResult:
    """The macro-average Δ and, from the very same replicates, each benchmark's own CI."""

    average: BootstrapResult
    per_benchmark: dict[str, BootstrapResult] = field(default_factory=dict)


def bootstrap_rng(seed: int, key: str = "") -> np.random.Generator:
    """``default_rng(seed)``; a non-empty key (a benchmark name) gives it its own stream.

    Keyed streams make a benchmark's CI independent of which other benchmarks are in the
    suite, and keep benchmarks independent of each other inside the macro bootstrap.
    """
    if not key:
        return np.random.default_rng(seed)
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def _check_inputs(
    baseline: np.ndarray, candidate: np.ndarray, strata: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base = np.asarray(baseline, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    if base.shape != cand.shape or base.ndim != 1:
        raise ValueError("baseline and candidate must be 1-D arrays of the same length")
    if base.size == 0:
        raise ValueError("cannot bootstrap an empty sample")
    if not (np.all(np.isfinite(base)) and np.all(np.isfinite(cand))):
        raise ValueError("outcomes must be finite numbers")
    if strata is None:
        codes = np.zeros(base.size, dtype=np.intp)
    else:
        labels = np.asarray(strata)
        if labels.shape != base.shape:
            raise ValueError("strata must have one label per item")
        codes = np.unique(labels, return_inverse=True)[1].reshape(-1)
    return base, cand, codes


def _is_binary(base: np.ndarray, cand: np.ndarray) -> bool:
    both = np.concatenate([base, cand])
    return bool(np.all((both == 0.0) | (both == 1.0)))


def _cell_replicates(
    base: np.ndarray, cand: np.ndarray, codes: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    # Cells in order (0,0), (0,1), (1,0), (1,1); only (0,1) and (1,0) move the mean difference.
    total = np.zeros(resamples)
    cell = (base * 2 + cand).astype(np.intp)
    for s in range(int(codes.max()) + 1):
        counts = np.bincount(cell[codes == s], minlength=4)
        n_s = int(counts.sum())
        draws = rng.multinomial(n_s, counts / n_s, size=resamples)
        total += draws[:, 1] - draws[:, 2]
    return total / base.size


def _index_replicates(
    base: np.ndarray, cand: np.ndarray, codes: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    diff = cand - base
    total = np.zeros(resamples)
    for s in range(int(codes.max()) + 1):
        d_s = diff[codes == s]
        n_s = d_s.size
        chunk = max(1, _MAX_DRAWS_PER_CHUNK // n_s)
        for start in range(0, resamples, chunk):
            stop = min(resamples, start + chunk)
            idx = rng.integers(0, n_s, size=(stop - start, n_s))
            total[start:stop] += d_s[idx].sum(axis=1)
    return total / base.size


def bootstrap_replicates(
    baseline: np.ndarray,
    candidate: np.ndarray,
    strata: np.ndarray | None = None,
    *,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str]:
    """The ``resamples`` replicate Δs and the method name used to draw them."""
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    base, cand, codes = _check_inputs(baseline, candidate, strata)
    if _is_binary(base, cand):
        return _cell_replicates(base, cand, codes, resamples, rng), METHOD_CELLS
    return _index_replicates(base, cand, codes, resamples, rng), METHOD_INDEX


def _percentile_ci(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")
    alpha = 1.0 - confidence
    low, high = np.quantile(replicates, [alpha / 2, 1.0 - alpha / 2])
    return float(low), float(high)


def _mean_diff(baseline: np.ndarray, candidate: np.ndarray) -> float:
    # Mean of the item differences: for 0/1 outcomes this is (c - b) / n with one rounding.
    return float(np.mean(np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)))


def _result(
    delta: float, replicates: np.ndarray, confidence: float, seed: int, method: str
) -> BootstrapResult:
    low, high = _percentile_ci(replicates, confidence)
    return BootstrapResult(
        delta=float(delta),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        resamples=int(replicates.size),
        seed=seed,
        method=method,
    )


def paired_bootstrap(
    baseline: np.ndarray,
    candidate: np.ndarray,
    strata: np.ndarray | None = None,
    *,
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    key: str = "",
) -> BootstrapResult:
    """Δ = mean(candidate) − mean(baseline) with a paired stratified percentile CI."""
    reps, method = bootstrap_replicates(
        baseline, candidate, strata, resamples=resamples, rng=bootstrap_rng(seed, key)
    )
    return _result(_mean_diff(baseline, candidate), reps, confidence, seed, method)


PairedArrays = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def macro_bootstrap(
    samples: Mapping[str, PairedArrays],
    *,
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> MacroBootstrapResult:
    """Macro-average Δ over benchmarks, {name: (baseline, candidate, strata)}, jointly.

    Each benchmark is resampled within itself from its own keyed stream; replicate r of the
    average is the mean of the benchmarks' replicate r. The per-benchmark results use the
    same streams, so they equal ``paired_bootstrap(..., key=name)`` exactly.
    """
    if not samples:
        raise ValueError("macro_bootstrap needs at least one benchmark")
    per: dict[str, BootstrapResult] = {}
    stacked = np.zeros(resamples)
    deltas = []
    for name in sorted(samples):
        base, cand, strata = samples[name]
        reps, method = bootstrap_replicates(
            base, cand, strata, resamples=resamples, rng=bootstrap_rng(seed, name)
        )
        delta = _mean_diff(base, cand)
        per[name] = _result(delta, reps, confidence, seed, method)
        stacked += reps
        deltas.append(delta)
    average = _result(
        float(np.mean(deltas)), stacked / len(samples), confidence, seed, METHOD_MACRO
    )
    return MacroBootstrapResult(average=average, per_benchmark=per)
