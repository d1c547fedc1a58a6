"""Paired statistics for promotion decisions: pairing, bootstrap CIs, McNemar.

Everything here works on plain arrays of per-item outcomes; nothing knows about models,
scoring or gates.
"""

from promgate.stats.bootstrap import (
    BootstrapResult,
    MacroBootstrapResult,
    bootstrap_replicates,
    macro_bootstrap,
    paired_bootstrap,
)
from promgate.stats.mcnemar import McNemarResult, mcnemar_from_pairs, mcnemar_test
from promgate.stats.pairing import Coverage, PairedSample, pair_results

__all__ = [
    "BootstrapResult",
    "Coverage",
    "MacroBootstrapResult",
    "McNemarResult",
    "PairedSample",
    "bootstrap_replicates",
    "macro_bootstrap",
    "mcnemar_from_pairs",
    "mcnemar_test",
    "pair_results",
    "paired_bootstrap",
]
