"""Paired statistics for promotion decisions: pairing, bootstrap CIs, paired tests,
multiplicity, power, calibration, flips and seed summaries.

Everything here works on plain arrays of per-item outcomes; nothing knows about models,
scoring or gates.
"""

from promgate.stats.bootstrap import (
    BootstrapResult,
    MacroBootstrapResult,
    bootstrap_replicates,
    half_width,
    macro_bootstrap,
    paired_bootstrap,
)
from promgate.stats.calibration import Calibration, calibration
from promgate.stats.flips import Flips, StratumProfile, item_flips, stratum_profile
from promgate.stats.mcnemar import McNemarResult, mcnemar_from_pairs, mcnemar_test
from promgate.stats.multiplicity import Multiplicity, adjust_pvalues
from promgate.stats.pairing import Coverage, PairedSample, pair_results
from promgate.stats.power import (
    DetectableEffect,
    detectable_effect,
    mde_paired_binary,
    mde_paired_score,
    power_paired_binary,
    power_paired_score,
)
from promgate.stats.seeds import SeedSummary, SeedVerdict, certify, summarize_seeds

__all__ = [
    "BootstrapResult",
    "Calibration",
    "Coverage",
    "DetectableEffect",
    "Flips",
    "MacroBootstrapResult",
    "McNemarResult",
    "Multiplicity",
    "PairedSample",
    "SeedSummary",
    "SeedVerdict",
    "StratumProfile",
    "adjust_pvalues",
    "bootstrap_replicates",
    "calibration",
    "certify",
    "detectable_effect",
    "half_width",
    "item_flips",
    "macro_bootstrap",
    "mcnemar_from_pairs",
    "mcnemar_test",
    "mde_paired_binary",
    "mde_paired_score",
    "pair_results",
    "paired_bootstrap",
    "power_paired_binary",
    "power_paired_score",
    "stratum_profile",
    "summarize_seeds",
]
