"""reports/promotion.md: decision first, then evidence, actions and method."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from promgate.gates.evaluate import evaluate_promotion
from promgate.gates.policy import Policy
from promgate.gates.report import GateReport
from promgate.report.markdown import render_promotion_md

POLICY = Policy.model_validate(
    {
        "name": "miso_test",
        "version": "2",
        "source": "contract",
        "bootstrap": {"resamples": 1_000, "seed": 5},
        "failure_response": {"per_benchmark": "look at the errors", "blocked": "fix inputs"},
    }
)


def _report(tmp_path: Path, regress: bool = False, missing: bool = False) -> GateReport:
    base = np.arange(200) % 2 == 0
    cand = base.copy()
    cand[np.flatnonzero(~base)[:20]] = True
    worse = base.copy()
    worse[np.flatnonzero(base)[:6]] = False
    for bench in ("arc", "gsm8k"):
        for model, values in (("baseline", base), ("c", worse if regress else cand)):
            path = tmp_path / model
            path.mkdir(exist_ok=True)
            rows = [
                {"id": f"{bench}/{i}", "benchmark": bench, "model_id": model, "correct": bool(v)}
                for i, v in enumerate(values)
            ]
            if missing and model == "c" and bench == "gsm8k":
                continue
            (path / f"{bench}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return evaluate_promotion(
        tmp_path / "baseline", {"c": tmp_path / "c"}, ["arc", "gsm8k"], POLICY
    )


def test_go_report_says_go_first_and_shows_the_table(tmp_path):
    md = render_promotion_md(_report(tmp_path))
    title, _, summary = md.splitlines()[:3]
    assert title == "# Promotion decision: GO"
    assert summary.startswith("**GO**") and "miso_test" in summary
    assert "| arc | 200 | 50.0 % | 60.0 % | +10.00 |" in md
    assert "PASS IMPROVED" in md
    assert "Average gate: PASS OK" in md
    assert "B = 1,000, seed 5, percentile 95% CI" in md
    assert "exact binomial when b + c < 25" in md


def test_no_go_report_names_the_gate_and_its_action(tmp_path):
    md = render_promotion_md(_report(tmp_path, regress=True))
    summary = md.splitlines()[2]
    assert summary.startswith("**NO-GO**") and "REGRESSION" in summary
    assert "FAIL REGRESSION" in md and "look at the errors" in md


def test_blocked_report_shows_the_blocked_benchmark_and_what_to_do(tmp_path):
    md = render_promotion_md(_report(tmp_path, missing=True))
    assert md.splitlines()[2].startswith("**BLOCKED**")
    assert "| gsm8k | – |" in md and "BLOCKED MISSING_EVIDENCE" in md
    assert "fix inputs" in md
