"""Per-benchmark statistics of one candidate: CI, paired test, power, flips, drift, calibration.

The statistics come from ``promgate.stats``; this module only assembles them into the typed
``BenchmarkStats`` that gate.json records and the gates read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.stats import ttest_rel

from promgate.gates.report import (
    FLIP_IDS_SHOWN,
    BenchmarkStats,
    CalibrationBin,
    CalibrationPair,
    CalibrationStats,
    ItemFlips,
    StratumRow,
)
from promgate.results import ItemResult
from promgate.stats.bootstrap import BootstrapResult
from promgate.stats.calibration import calibration
from promgate.stats.flips import item_flips, stratum_profile
from promgate.stats.mcnemar import mcnemar_from_pairs
from promgate.stats.multiplicity import Multiplicity
from promgate.stats.pairing import PairedSample
from promgate.stats.power import (
    detectable_effect,
    power_paired_binary,
    power_paired_score,
)

# Threshold comparisons in pp tolerate float noise such as 0.07 * 100 = 7.000000000000001.
EPS_PP = 1e-9
# Differences of scores closer than this are rounding noise (0.1 + x − x ≠ 0.1 in floats).
_SAME = 1e-12


def pp(proportion: float) -> float:
    # Rounded so that 0.0725 reads 7.25, not 7.249999999999999; 1e-10 pp is far below any
    # threshold and keeps gate.json stable across platforms.
    return round(100.0 * proportion, 10)


def ci_fields(result: BootstrapResult) -> dict[str, float | str]:
    """Δ and its CI in both units, as BenchmarkStats and AverageStats record them."""
    return {
        "delta": result.delta,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "delta_pp": pp(result.delta),
        "ci_low_pp": pp(result.ci_low),
        "ci_high_pp": pp(result.ci_high),
        "confidence": result.confidence,
        "ci_type": result.ci_type,
    }


def raw_p_value(sample: PairedSample) -> tuple[float, dict[str, object]]:
    """Two-sided p of the paired test, and the test's own numbers for the report."""
    if sample.is_binary:
        mc = mcnemar_from_pairs(sample.baseline, sample.candidate)
        return mc.p_value, {
            "test": "mcnemar",
            "mcnemar_b": mc.b,
            "mcnemar_c": mc.c,
            "mcnemar_statistic": mc.statistic,
            "mcnemar_method": mc.method,
        }
    diff = sample.candidate - sample.baseline
    if sample.n < 2 or float(np.ptp(diff)) <= _SAME * max(1.0, float(np.max(np.abs(diff)))):
        # No spread: every item moved by the same amount (up to rounding). Without variance
        # there is no t statistic; a constant non-zero shift on every item is as strong as
        # evidence gets, and no shift at all is none.
        p = 1.0 if sample.n < 2 or abs(float(diff[0])) <= _SAME else 0.0
    else:
        p = float(ttest_rel(sample.candidate, sample.baseline).pvalue)
    return p, {"test": "paired_t"}


def tested_alpha(alpha: float, method: Multiplicity, family_size: int) -> float:
    """The level one test of the family is held to in the worst case (Holm's first step)."""
    return alpha if method == "none" else alpha / max(family_size, 1)


def _power(
    sample: PairedSample, alpha: float, power: float, threshold_pp: float | None
) -> dict[str, object]:
    effect = detectable_effect(sample.baseline, sample.candidate, alpha=alpha, power=power)
    mde_pp = pp(effect.mde) if math.isfinite(effect.mde) else None
    out: dict[str, object] = {"alpha_tested": alpha, "mde_pp": mde_pp}
    if sample.is_binary:
        out["discordance"] = float(np.mean(sample.baseline != sample.candidate))
    if threshold_pp is None or threshold_pp <= 0:
        return out
    t = threshold_pp / 100.0
    if effect.kind == "binary":
        # A true Δ of t needs at least t discordance; below that it cannot exist.
        psi = max(float(effect.discordance or 0.0), t)
        at_threshold = power_paired_binary(sample.n, min(psi, 1.0), min(t, 1.0), alpha)
    else:
        at_threshold = power_paired_score(sample.n, float(effect.sd or 1.0), t, alpha)
    out["threshold_pp"] = threshold_pp
    out["power_at_threshold"] = at_threshold
    out["underpowered"] = mde_pp is None or mde_pp > threshold_pp + EPS_PP
    return out


def _flips(sample: PairedSample) -> ItemFlips | None:
    if not sample.is_binary:
        return None
    flips = item_flips(sample)
    return ItemFlips(
        fixed=len(flips.fixed),
        broken=len(flips.broken),
        fixed_ids=list(flips.fixed[:FLIP_IDS_SHOWN]),
        broken_ids=list(flips.broken[:FLIP_IDS_SHOWN]),
        ids_truncated=max(len(flips.fixed), len(flips.broken)) > FLIP_IDS_SHOWN,
    )


def _strata(sample: PairedSample) -> list[StratumRow]:
    return [
        StratumRow(
            stratum=row.stratum,
            n=row.n,
            baseline_acc=row.baseline,
            candidate_acc=row.candidate,
            delta_pp=pp(row.delta),
            fixed=row.fixed,
            broken=row.broken,
        )
        for row in stratum_profile(sample)
    ]


def _calibration_of(
    ids: np.ndarray, outcomes: np.ndarray, results: Mapping[str, ItemResult]
) -> CalibrationStats | None:
    conf = [results[str(i)].confidence for i in ids]
    if any(c is None for c in conf) or not np.all((outcomes == 0.0) | (outcomes == 1.0)):
        return None  # confidence on some items only, or no right/wrong to calibrate against
    cal = calibration(np.array(conf, dtype=float), outcomes)
    return CalibrationStats(
        n=cal.n,
        ece=cal.ece,
        brier=cal.brier,
        roc_auc=cal.roc_auc,
        bins=[
            CalibrationBin(
                lo=b.lo, hi=b.hi, n=b.n, mean_confidence=b.mean_conf, accuracy=b.accuracy
            )
            for b in cal.bins
        ],
    )


def _calibration(
    sample: PairedSample, base: Mapping[str, ItemResult], cand: Mapping[str, ItemResult]
) -> CalibrationPair | None:
    pair = CalibrationPair(
        baseline=_calibration_of(sample.ids, sample.baseline, base),
        candidate=_calibration_of(sample.ids, sample.candidate, cand),
    )
    return pair if pair.baseline or pair.candidate else None


def benchmark_stats(
    sample: PairedSample,
    boot: BootstrapResult,
    *,
    p_value: float,
    test_fields: dict[str, object],
    p_adjusted: float | None,
    alpha: float,
    power: float,
    threshold_pp: float | None,
    baseline_results: Mapping[str, ItemResult],
    candidate_results: Mapping[str, ItemResult],
    sources: dict[str, str],
) -> BenchmarkStats:
    return BenchmarkStats(
        benchmark=sample.benchmark,
        n=sample.n,
        n_baseline=sample.coverage.n_baseline,
        n_candidate=sample.coverage.n_candidate,
        binary=sample.is_binary,
        baseline_acc=float(sample.baseline.mean()),
        candidate_acc=float(sample.candidate.mean()),
        **ci_fields(boot),
        bootstrap_method=boot.method,
        n_clusters=boot.n_clusters,
        p_value=p_value,
        p_adjusted=p_adjusted,
        flips=_flips(sample),
        strata=_strata(sample),
        calibration=_calibration(sample, baseline_results, candidate_results),
        sources=sources,
        **test_fields,  # type: ignore[arg-type]
        **_power(sample, alpha, power, threshold_pp),  # type: ignore[arg-type]
    )
