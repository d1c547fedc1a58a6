"""reports/promotion.md: decision first, then evidence (adjusted p, MDE, warnings, seeds,
calibration, drift), actions and method."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gate_helpers import policy_with, suite, write_results
from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.report import GateReport
from promgate.report.markdown import render_promotion_md

POLICY = policy_with(
    name="miso_test",
    version="2",
    source="contract",
    bootstrap={"resamples": 1_000, "seed": 5},
    failure_response={"per_benchmark": "look at the errors", "blocked": "fix inputs"},
)


def _report(tmp_path: Path, regress: bool = False, missing: bool = False) -> GateReport:
    base = np.arange(200) % 2 == 0
    cand = base.copy()
    cand[np.flatnonzero(~base)[:20]] = True
    worse = base.copy()
    worse[np.flatnonzero(base)[:6]] = False
    strata = ["easy" if i < 80 else "hard" for i in range(200)]
    conf = np.linspace(0.3, 0.9, 200)
    for bench in ("arc", "gsm8k"):
        write_results(tmp_path / "baseline", bench, base, strata=strata, confidence=conf)
        if not (missing and bench == "gsm8k"):
            values = worse if regress else cand
            write_results(tmp_path / "c", bench, values, strata=strata, confidence=conf)
    return evaluate_promotion(
        tmp_path / "baseline", {"c": tmp_path / "c"}, ["arc", "gsm8k"], POLICY
    )


def test_go_report_says_go_first_and_shows_the_table(tmp_path):
    report = _report(tmp_path)
    md = render_promotion_md(report)
    title, _, lead, _, context = md.splitlines()[:5]
    assert title == "# Promotion decision: GO"
    assert lead.startswith("GO: the candidate may replace") and "miso_test" in context
    st = report.candidates["c"].benchmarks["arc"]
    assert (
        f"| arc | 200 | 50.0 % | 60.0 % | +10.00 | [{st.ci_low_pp:+.2f}, {st.ci_high_pp:+.2f}] "
        f"| {st.p_value:.2g} | {st.p_adjusted:.2g} | {st.mde_pp:.2f} | "
        f"{st.power_at_threshold:.0%} | +20 / −0 | PASS IMPROVED (warning) |" in md
    )
    assert "Average gate: PASS OK" in md
    assert "B = 1,000, seed 5, percentile 95% CI" in md
    assert "exact binomial when b + c < 25" in md and "holm across benchmarks" in md


def test_no_go_report_names_the_gate_and_its_action(tmp_path):
    md = render_promotion_md(_report(tmp_path, regress=True))
    assert md.splitlines()[2].startswith("NO-GO")
    assert "- `c` per_benchmark (arc): FAIL REGRESSION" in md
    assert "look at the errors" in md


def test_blocked_report_shows_the_blocked_benchmark_and_what_to_do(tmp_path):
    md = render_promotion_md(_report(tmp_path, missing=True))
    assert md.splitlines()[2].startswith("BLOCKED")
    assert "| gsm8k | – |" in md and "BLOCKED MISSING_EVIDENCE" in md
    assert "fix inputs" in md


def test_underpowered_gates_are_listed_as_warnings(tmp_path):
    md = render_promotion_md(_report(tmp_path, regress=True))  # 6 discordant items in 200
    assert "FAIL REGRESSION (warning)" in md
    warnings = md[md.index("## Warnings") : md.index("## Method")]
    assert "- `c` gsm8k: underpowered: MDE ∞ (no Δ is detectable) at n = 200" in warnings
    assert "underpowered: warn" in warnings


def test_calibration_and_drift_tables(tmp_path):
    report = _report(tmp_path)
    md = render_promotion_md(report)
    cal = report.candidates["c"].benchmarks["arc"].calibration
    assert f"| arc | {cal.baseline.ece:.3f} → {cal.candidate.ece:.3f} |" in md
    assert "| arc | easy | 80 |" in md and "| arc | hard | 120 |" in md


def test_seeds_section_reports_both_spreads(tmp_path):
    shifts = {"lora-s1": {"arc": 24, "mmlu": 24}, "lora-s2": {"arc": 20, "mmlu": 24}}
    dirs = suite(tmp_path, shifts)
    report = evaluate_promotion(tmp_path / "baseline", dirs, ["arc", "mmlu"], POLICY)
    md = render_promotion_md(report)
    seeds = md[md.index("## Seeds") : md.index("## Suite gates")]
    rep = report.seeds["lora"]
    assert "| 1 | `lora-s1` | GO | +6.00 |" in seeds
    assert f"SD across seeds {rep.sd_across_seeds_pp:.2f} pp" in seeds
    assert f"mean CI half-width across items of {rep.mean_item_ci_half_width_pp:.2f} pp" in seeds
    assert "| seeds | `lora` | PASS OK |" in md
