"""Preflight: before any training, check that the data and the baseline can support the gates
(labels in every stratum, baseline results aligned with the prepared items, power at n)."""

from promgate.preflight.report import PreflightError, PreflightReport, read_report, require_passed
from promgate.preflight.run import PREFLIGHT_REPORT, run_preflight

__all__ = [
    "PREFLIGHT_REPORT",
    "PreflightError",
    "PreflightReport",
    "read_report",
    "require_passed",
    "run_preflight",
]
