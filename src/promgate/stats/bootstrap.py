"""Paired stratified bootstrap of Δ = mean(candidate) − mean(baseline): percentile or BCa CIs.

Stratum sizes are held fixed in every replicate (the sample was drawn stratified, so the
resampling is too) and strata are weighted by their size, which keeps the replicate Δ an
ordinary item-level mean difference.

Binary pairs use an exact shortcut: within a stratum, resampling n items with replacement
is the same as one multinomial draw of n over the four (baseline, candidate) cells, so the
cost does not grow with n; only the difference of the two discordant cells matters, and it
is drawn from its exact law (see _difference_law). Non-binary scores resample indices,
vectorised and chunked.

Clusters (items that share a passage, WinoGrande's twin sentences, a task with several
tests) are not independent, and resampling their items one by one understates the variance.
When ``clusters`` names them, whole clusters are resampled within their stratum: each
stratum's replicate mean is (sum of the drawn clusters' differences) / (their item count),
weighted by the stratum's size. Clusters with the same (difference sum, size) are
exchangeable, so the draw is again a multinomial over those few cluster types. An empty
label (or None) marks an item that is its own cluster; when every cluster is a single item
the ordinary item bootstrap runs, bit for bit. A cluster may not span strata.

BCa (``ci="bca"``, Efron 1987) corrects the percentile interval for bias (z0, from the
share of replicates below the estimate, ties counted half as in ``scipy.stats.bootstrap``)
and skewness (the acceleration a, from a leave-one-unit-out jackknife). The jackknife is
computed analytically: deleting a unit changes only its stratum's mean, and units with the
same (difference sum, size) give the same jackknife value, so the binary case needs four
values per stratum. With strata, a follows the multi-sample formula (Davison & Hinkley 1997,
eq. 5.23; scipy's for several samples), each stratum a sample.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import ndtr, ndtri

# Upper bound on random draws held in memory at once (index or multinomial paths, ~32 MB).
_MAX_DRAWS_PER_CHUNK = 4_000_000
# The cluster path draws over cluster types when there are at most 1/8 as many types as
# clusters, and cluster indices otherwise (see _cluster_replicates).
_TYPES_PER_UNIT_MAX = 8
# Probabilities below this are FFT rounding noise or negligible tail (see _difference_law).
_LAW_FLOOR = 1e-12
# Replicates within this distance of the estimate count as ties when BCa computes z0.
_TIE_TOLERANCE = 1e-12

METHOD_CELLS = "paired-stratified-multinomial-cells"
METHOD_INDEX = "paired-stratified-index"
METHOD_CLUSTER = "paired-stratified-cluster"
METHOD_MACRO = "joint-macro-average"

CIMethod = Literal["percentile", "bca"]
CI_TYPE: CIMethod = "percentile"  # the default interval
CI_TYPES: tuple[CIMethod, ...] = ("percentile", "bca")


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate and its CI, in proportion units (0.03 = 3 pp).

    ``bias_correction`` (z0) and ``acceleration`` (a) are set for BCa intervals only;
    ``n_clusters`` only when whole clusters were resampled.
    """

    delta: float
    ci_low: float
    ci_high: float
    confidence: float
    resamples: int
    seed: int
    method: str
    ci_type: CIMethod = CI_TYPE
    bias_correction: float | None = None
    acceleration: float | None = None
    n_clusters: int | None = None


@dataclass(frozen=True)
class MacroBootstrapResult:
    """The macro-average Δ and, from the very same replicates, each benchmark's own CI."""

    average: BootstrapResult
    per_benchmark: dict[str, BootstrapResult] = field(default_factory=dict)


# Strata smaller than this are pooled before resampling (see _pool_small_strata).
MIN_STRATUM_ITEMS = 5


def bootstrap_rng(seed: int, key: str = "") -> np.random.Generator:
    """``default_rng(seed)``; a non-empty key (a benchmark name) gives it its own stream.

    Keyed streams make a benchmark's CI independent of which other benchmarks are in the
    suite, and keep benchmarks independent of each other inside the macro bootstrap.
    """
    if not key:
        return np.random.default_rng(seed)
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


@dataclass(frozen=True)
class _Units:
    """One stratum's resampling units, grouped into types of identical units."""

    sums: np.ndarray  # sum of the item differences of a unit of this type
    sizes: np.ndarray  # items in a unit of this type
    counts: np.ndarray  # how many units of this type the stratum holds

    @property
    def n_items(self) -> float:
        return float(self.counts @ self.sizes)

    @property
    def n_units(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class _Design:
    """Validated inputs plus the structure the resampler and the jackknife need."""

    base: np.ndarray
    cand: np.ndarray
    codes: np.ndarray
    binary: bool
    clustered: bool
    strata: tuple[_Units, ...]

    @property
    def n(self) -> int:
        return int(self.base.size)

    @property
    def method(self) -> str:
        if self.clustered:
            return METHOD_CLUSTER
        return METHOD_CELLS if self.binary else METHOD_INDEX

    @property
    def n_clusters(self) -> int | None:
        return sum(u.n_units for u in self.strata) if self.clustered else None


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
        codes = _pool_small_strata(np.unique(labels, return_inverse=True)[1].reshape(-1))
    return base, cand, codes


def _pool_small_strata(codes: np.ndarray) -> np.ndarray:
    """Merge strata of fewer than MIN_STRATUM_ITEMS items into one pooled stratum.

    Resampling within a stratum of one item always redraws that item, so its flips would add
    no variance and the CI would be too narrow (ARC's one-exam strata did exactly that).
    """
    sizes = np.bincount(codes)
    small = sizes < MIN_STRATUM_ITEMS
    if not small.any():
        return codes
    if small.all():
        return np.zeros_like(codes)
    # The pool itself may still be small: then it joins the largest stratum.
    target = -1 if sizes[small].sum() >= MIN_STRATUM_ITEMS else int(np.argmax(sizes))
    pooled = np.where(small[codes], target, codes)
    return np.unique(pooled, return_inverse=True)[1].reshape(-1)


def _is_binary(base: np.ndarray, cand: np.ndarray) -> bool:
    both = np.concatenate([base, cand])
    return bool(np.all((both == 0.0) | (both == 1.0)))


def _cluster_ids(clusters: np.ndarray | None, codes: np.ndarray) -> np.ndarray | None:
    """One resampling-unit id per item, or None when every unit is a single item."""
    if clusters is None:
        return None
    labels = np.asarray(clusters, dtype=object)
    if labels.shape != codes.shape:
        raise ValueError("clusters must have one label per item")
    text = np.array(["" if v is None else str(v) for v in labels], dtype=str)
    alone = text == ""
    names, ids = np.unique(text[~alone], return_inverse=True)
    if ids.size == names.size:  # no label repeats: every cluster is one item
        return None
    units = np.empty(codes.size, dtype=np.intp)
    units[~alone] = ids.reshape(-1)
    units[alone] = names.size + np.arange(int(alone.sum()))
    # A cluster belongs to exactly one stratum.
    pairs = np.unique(np.column_stack([ids.reshape(-1), codes[~alone]]), axis=0)
    repeated = pairs[1:, 0][pairs[1:, 0] == pairs[:-1, 0]]
    if repeated.size:
        raise ValueError(f"cluster '{names[repeated[0]]}' spans more than one stratum")
    return units


def _types(sums: np.ndarray, sizes: np.ndarray) -> _Units:
    keys, counts = np.unique(np.column_stack([sums, sizes]), axis=0, return_counts=True)
    return _Units(sums=keys[:, 0], sizes=keys[:, 1], counts=counts.astype(float))


def _design(
    baseline: np.ndarray,
    candidate: np.ndarray,
    strata: np.ndarray | None,
    clusters: np.ndarray | None,
) -> _Design:
    base, cand, codes = _check_inputs(baseline, candidate, strata)
    binary = _is_binary(base, cand)
    diff = cand - base
    units = _cluster_ids(clusters, codes)
    per: list[_Units] = []
    for s in range(int(codes.max()) + 1):
        in_s = codes == s
        if units is not None:
            _, u = np.unique(units[in_s], return_inverse=True)
            sums = np.bincount(u, weights=diff[in_s])
            per.append(_types(sums, np.bincount(u).astype(float)))
        elif binary:
            # Cells (0,0), (0,1), (1,0), (1,1) have differences 0, +1, −1, 0.
            cells = np.bincount((base[in_s] * 2 + cand[in_s]).astype(np.intp), minlength=4)
            keep = cells > 0
            sums = np.array([0.0, 1.0, -1.0, 0.0])[keep]
            per.append(_Units(sums, np.ones(sums.size), cells[keep].astype(float)))
        else:
            d = diff[in_s]
            per.append(_Units(d, np.ones(d.size), np.ones(d.size)))
    return _Design(base, cand, codes, binary, units is not None, tuple(per))


def _difference_law(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact law of n01 − n10 when a stratum's n items are resampled with replacement.

    One item contributes +1 with probability p01, −1 with p10 and 0 otherwise, so n01 − n10
    + n has generating function (p10 + p00 z + p01 z²)^n. Evaluated at the 2n + 1 roots of
    unity that is the discrete Fourier transform of the law, and one inverse real FFT returns
    every probability at once (O(n log n); rounding noise measured below 2e-14 up to
    n = 100,000). Values under ``_LAW_FLOOR`` are that noise or far-tail mass (at most
    (2n + 1) · 1e-12 in all) and are set to 0, as are the differences the cells make
    impossible (no +1 without a (0,1) item, no −1 without a (1,0) item).
    Returns the differences that can occur and their probabilities.
    """
    n = int(counts.sum())
    p01, p10 = counts[1] / n, counts[2] / n
    size = 2 * n + 1
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    law = np.fft.irfft((p10 + (1.0 - p01 - p10) * z + p01 * z * z) ** n, size)
    law[law < _LAW_FLOOR] = 0.0
    if counts[1] == 0:
        law[n + 1 :] = 0.0
    if counts[2] == 0:
        law[:n] = 0.0
    support = np.flatnonzero(law)
    return support - n, law[support] / law[support].sum()


def _cell_replicates(
    base: np.ndarray, cand: np.ndarray, codes: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    # Cells (0,0), (0,1), (1,0), (1,1); only n01 − n10 moves the mean difference, so each
    # stratum's replicate draws that difference from its exact law (inverse CDF): the same
    # law as a multinomial draw over the four cells, at the cost of one uniform per replicate.
    total = np.zeros(resamples)
    cell = (base * 2 + cand).astype(np.intp)
    for s in range(int(codes.max()) + 1):
        values, probs = _difference_law(np.bincount(cell[codes == s], minlength=4))
        cdf = np.cumsum(probs)
        picks = np.searchsorted(cdf, rng.random(resamples) * cdf[-1], side="right")
        total += values[np.minimum(picks, values.size - 1)]
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


def _cluster_replicates(
    strata: tuple[_Units, ...], n: int, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    # Few distinct cluster types (binary twins: at most 5): one multinomial draw over the
    # types per replicate. Many (continuous scores): draw cluster indices, which is cheaper
    # per draw than the binomials a multinomial is made of. Both draw k clusters uniformly
    # with replacement.
    total = np.zeros(resamples)
    for units in strata:
        k = units.n_units
        weight = units.n_items / n
        by_type = units.sums.size * _TYPES_PER_UNIT_MAX <= k
        if not by_type:
            sums = np.repeat(units.sums, units.counts.astype(np.intp))
            sizes = np.repeat(units.sizes, units.counts.astype(np.intp))
        width = units.sums.size if by_type else k
        chunk = max(1, _MAX_DRAWS_PER_CHUNK // width)
        for start in range(0, resamples, chunk):
            stop = min(resamples, start + chunk)
            if by_type:
                draws = rng.multinomial(k, units.counts / k, size=stop - start).astype(float)
                drawn_sum, drawn_size = draws @ units.sums, draws @ units.sizes
            else:
                idx = rng.integers(0, k, size=(stop - start, k))
                drawn_sum, drawn_size = sums[idx].sum(axis=1), sizes[idx].sum(axis=1)
            total[start:stop] += weight * drawn_sum / drawn_size
    return total


def _replicates(design: _Design, resamples: int, rng: np.random.Generator) -> np.ndarray:
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if design.clustered:
        return _cluster_replicates(design.strata, design.n, resamples, rng)
    if design.binary:
        return _cell_replicates(design.base, design.cand, design.codes, resamples, rng)
    return _index_replicates(design.base, design.cand, design.codes, resamples, rng)


def bootstrap_replicates(
    baseline: np.ndarray,
    candidate: np.ndarray,
    strata: np.ndarray | None = None,
    *,
    clusters: np.ndarray | None = None,
    resamples: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str]:
    """The ``resamples`` replicate Δs and the method name used to draw them."""
    design = _design(baseline, candidate, strata, clusters)
    return _replicates(design, resamples, rng), design.method


# One stratum's jackknife: per unit type, U = (K − 1)(mean jackknife value − value), the
# number of units of that type, and K (the stratum's unit count).
_JackTerms = tuple[np.ndarray, np.ndarray, int]


def _jackknife_terms(design: _Design) -> list[_JackTerms]:
    terms = []
    for units in design.strata:
        k = units.n_units
        if k < 2:  # a lone unit is redrawn in every replicate: it adds no variance
            continue
        total, n_s = float(units.counts @ units.sums), units.n_items
        # θ(−unit) − θ: deleting a unit moves only its own stratum's (size-weighted) mean.
        shift = (n_s / design.n) * ((total - units.sums) / (n_s - units.sizes) - total / n_s)
        centre = float(units.counts @ shift) / k
        terms.append(((k - 1) * (centre - shift), units.counts, k))
    return terms


def _acceleration(terms: list[_JackTerms]) -> float:
    num = sum(float(w @ u**3) / k**3 for u, w, k in terms)
    den = sum(float(w @ u**2) / k**2 for u, w, k in terms)
    return num / (6.0 * den**1.5) if den > 0.0 else 0.0


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must lie strictly between 0 and 1")


def _percentile_ci(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    _check_confidence(confidence)
    alpha = 1.0 - confidence
    low, high = np.quantile(replicates, [alpha / 2, 1.0 - alpha / 2])
    return float(low), float(high)


def _bca_levels(
    replicates: np.ndarray, estimate: float, acceleration: float, confidence: float
) -> tuple[float, float, float]:
    """The BCa quantile levels and z0.

    z0's share is kept within [1/(2B), 1 − 1/(2B)], so an estimate outside every replicate
    gives the extreme replicate rather than an undefined bound.
    """
    _check_confidence(confidence)
    b = replicates.size
    close = np.abs(replicates - estimate) <= _TIE_TOLERANCE * max(1.0, abs(estimate))
    below = np.count_nonzero((replicates < estimate) & ~close)
    share = (2 * below + np.count_nonzero(close)) / (2 * b)
    z0 = float(ndtri(min(max(share, 0.5 / b), 1.0 - 0.5 / b)))
    levels = []
    for z in (ndtri((1.0 - confidence) / 2), ndtri((1.0 + confidence) / 2)):
        shifted = z0 + z
        # As 1 − a(z0 + z) falls to 0 the level runs to 0 or 1; past it BCa is undefined.
        denom = max(1.0 - acceleration * shifted, 1e-12)
        levels.append(float(ndtr(z0 + shifted / denom)))
    return levels[0], levels[1], z0


def _result(
    delta: float,
    replicates: np.ndarray,
    confidence: float,
    seed: int,
    method: str,
    ci: CIMethod,
    jackknife: list[_JackTerms],
    n_clusters: int | None,
) -> BootstrapResult:
    if ci == "percentile":
        low, high = _percentile_ci(replicates, confidence)
        z0 = accel = None
    elif ci == "bca":
        accel = _acceleration(jackknife)
        lo_level, hi_level, z0 = _bca_levels(replicates, delta, accel, confidence)
        low, high = (float(q) for q in np.quantile(replicates, [lo_level, hi_level]))
    else:
        raise ValueError(f"ci must be one of {CI_TYPES}, got {ci!r}")
    return BootstrapResult(
        delta=float(delta),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        resamples=int(replicates.size),
        seed=seed,
        method=method,
        ci_type=ci,
        bias_correction=z0,
        acceleration=accel,
        n_clusters=n_clusters,
    )


def _mean_diff(design: _Design) -> float:
    # Mean of the item differences: for 0/1 outcomes this is (c - b) / n with one rounding.
    return float(np.mean(design.cand - design.base))


def _bootstrap_one(
    design: _Design,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    key: str,
    ci: CIMethod,
) -> tuple[BootstrapResult, np.ndarray, list[_JackTerms]]:
    if ci not in CI_TYPES:
        raise ValueError(f"ci must be one of {CI_TYPES}, got {ci!r}")
    reps = _replicates(design, resamples, bootstrap_rng(seed, key))
    jack = _jackknife_terms(design) if ci == "bca" else []
    res = _result(
        _mean_diff(design), reps, confidence, seed, design.method, ci, jack, design.n_clusters
    )
    return res, reps, jack


def paired_bootstrap(
    baseline: np.ndarray,
    candidate: np.ndarray,
    strata: np.ndarray | None = None,
    *,
    clusters: np.ndarray | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    key: str = "",
    ci: CIMethod = CI_TYPE,
) -> BootstrapResult:
    """Δ = mean(candidate) − mean(baseline) with a paired stratified (cluster) bootstrap CI."""
    design = _design(baseline, candidate, strata, clusters)
    res, _, _ = _bootstrap_one(
        design, resamples=resamples, seed=seed, confidence=confidence, key=key, ci=ci
    )
    return res


# (baseline, candidate, strata) or (baseline, candidate, strata, clusters)
PairedArrays = (
    tuple[np.ndarray, np.ndarray, np.ndarray | None]
    | tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]
)


def macro_bootstrap(
    samples: Mapping[str, PairedArrays],
    *,
    resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    ci: CIMethod = CI_TYPE,
) -> MacroBootstrapResult:
    """Macro-average Δ over benchmarks, {name: (baseline, candidate, strata[, clusters])}.

    Each benchmark is resampled within itself from its own keyed stream; replicate r of the
    average is the mean of the benchmarks' replicate r. The per-benchmark results use the
    same streams, so they equal ``paired_bootstrap(..., key=name)`` exactly. For BCa the
    average's jackknife pools every benchmark's units (each benchmark is a sample).
    """
    if not samples:
        raise ValueError("macro_bootstrap needs at least one benchmark")
    per: dict[str, BootstrapResult] = {}
    stacked = np.zeros(resamples)
    deltas = []
    jack: list[_JackTerms] = []
    for name in sorted(samples):
        arrays = samples[name]
        base, cand, strata = arrays[0], arrays[1], arrays[2]
        clusters = arrays[3] if len(arrays) > 3 else None
        design = _design(base, cand, strata, clusters)
        res, reps, terms = _bootstrap_one(
            design, resamples=resamples, seed=seed, confidence=confidence, key=name, ci=ci
        )
        per[name] = res
        stacked += reps
        deltas.append(res.delta)
        jack.extend(terms)
    n_clusters = [r.n_clusters for r in per.values() if r.n_clusters is not None]
    average = _result(
        float(np.mean(deltas)),
        stacked / len(samples),
        confidence,
        seed,
        METHOD_MACRO,
        ci,
        jack,
        sum(n_clusters) if n_clusters else None,
    )
    return MacroBootstrapResult(average=average, per_benchmark=per)


def half_width(result: BootstrapResult) -> float:
    """Half the CI's width, in the result's units (handy beside a seed-to-seed SD)."""
    return (result.ci_high - result.ci_low) / 2.0


__all__ = [
    "CI_TYPE",
    "CI_TYPES",
    "METHOD_CELLS",
    "METHOD_CLUSTER",
    "METHOD_INDEX",
    "METHOD_MACRO",
    "BootstrapResult",
    "CIMethod",
    "MacroBootstrapResult",
    "PairedArrays",
    "bootstrap_replicates",
    "bootstrap_rng",
    "half_width",
    "macro_bootstrap",
    "paired_bootstrap",
]
