"""Stage preflight: before any training, the data and the baseline must support the gates.

Writes reports/preflight.json, then exits non-zero (PreflightError) on any blocker: an item
or a stratum without labels, baseline results that do not pair with the prepared items.
"""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.preflight import run_preflight


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    report = run_preflight(params, ROOT)
    for finding in report.findings:
        where = f"{finding.benchmark}: " if finding.benchmark else ""
        print(f"preflight {finding.severity}: {where}{finding.message}")
    print(f"preflight passed: {report.blockers} blockers, {report.warnings} warnings")


if __name__ == "__main__":
    run_stage(main)
