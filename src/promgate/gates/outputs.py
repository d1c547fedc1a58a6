"""The gate stage's outputs and the CI exit code.

``write_gate_outputs`` writes the pipeline's reports/gate.json (the source of truth), the
human-readable reports rendered from it (promotion.md, promotion.html) and the flat DVC
metrics file; ``write_report`` the same for any gate.json path (``promgate gate --out``).
``check_exit_code`` reads gate.json back and fails closed on anything it cannot trust.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from promgate.errors import SchemaError
from promgate.gates.outcome import Decision, decide, suite_decision
from promgate.gates.policy import Policy
from promgate.gates.report import GateReport
from promgate.io import atomic_write_text, read_json, write_json
from promgate.report.markdown import render_promotion_md

if TYPE_CHECKING:
    from promgate.gates.certification import Certification

EXIT_CODES = {Decision.GO: 0, Decision.NO_GO: 1, Decision.BLOCKED: 3}

_RESERVED_METRICS = ("decision_go", "decision_code", "seeds")


def gate_metrics(report: GateReport) -> dict[str, Any]:
    """Numbers only, nested by candidate and benchmark, for ``dvc metrics show/diff``."""
    out: dict[str, Any] = {
        "decision_go": int(report.decision is Decision.GO),
        "decision_code": EXIT_CODES[report.decision],
    }
    for cid, cand in report.candidates.items():
        if cid in _RESERVED_METRICS:
            raise ValueError(f"candidate id '{cid}' collides with a metrics key")
        entry: dict[str, Any] = {"decision_go": int(cand.decision is Decision.GO)}
        if cand.average is not None:
            entry["average_delta_pp"] = cand.average.delta_pp
            entry["average_ci_low_pp"] = cand.average.ci_low_pp
            entry["average_ci_high_pp"] = cand.average.ci_high_pp
        for bench, st in cand.benchmarks.items():
            nums = {
                "n": st.n,
                "baseline_acc": st.baseline_acc,
                "candidate_acc": st.candidate_acc,
                "delta_pp": st.delta_pp,
                "ci_low_pp": st.ci_low_pp,
                "ci_high_pp": st.ci_high_pp,
                "p_value": st.p_value,
                "p_adjusted": st.p_adjusted,
                "mde_pp": st.mde_pp,
            }
            entry[bench] = {k: v for k, v in nums.items() if v is not None}
        out[cid] = entry
    seeds = {}
    for recipe, rep in report.seeds.items():
        nums = {
            "pass_rate": rep.pass_rate,
            "n_passed": rep.n_passed,
            "worst_delta_pp": rep.worst_delta_pp,
            "mean_delta_pp": rep.mean_delta_pp,
            "sd_across_seeds_pp": rep.sd_across_seeds_pp,
            "mean_item_ci_half_width_pp": rep.mean_item_ci_half_width_pp,
            "certified": None if rep.certified is None else int(rep.certified),
        }
        seeds[recipe or "(none)"] = {k: v for k, v in nums.items() if v is not None}
    if seeds:
        out["seeds"] = seeds
    return out


def report_paths(gate_json: Path) -> dict[str, Path]:
    """gate.json and the human-readable reports beside it (``x.json`` -> ``x.md``, ``x.html``)."""
    gate_json = Path(gate_json)
    return {
        "gate": gate_json,
        "promotion_md": gate_json.with_suffix(".md"),
        "promotion_html": gate_json.with_suffix(".html"),
    }


def write_report(
    report: GateReport,
    paths: dict[str, Path],
    *,
    policy: Policy,
    certification: Certification | None = None,
) -> None:
    """Write gate.json and its reports; all are rendered before anything is written, so a
    rendering error leaves the previous outputs as they were rather than a gate.json
    without its reports.

    ``policy`` is the one the report was judged under; the HTML plot draws its thresholds.
    ``certification``, when given, adds its section (per variant, across seeds).
    """
    # Imported here, not at the top: ``promgate check`` imports this module and should not
    # need matplotlib to turn gate.json into an exit code.
    from promgate.report.html import render_promotion_html

    markdown = render_promotion_md(report, certification)
    html = render_promotion_html(report, policy, certification)
    write_json(paths["gate"], report.model_dump(mode="json"))
    if "metrics" in paths:
        write_json(paths["metrics"], gate_metrics(report))
    atomic_write_text(paths["promotion_md"], markdown)
    atomic_write_text(paths["promotion_html"], html)


def write_gate_outputs(
    report: GateReport,
    reports_dir: Path,
    metrics_path: Path,
    *,
    policy: Policy,
    certification: Certification | None = None,
) -> dict[str, Path]:
    """The pipeline's layout: reports/gate.json, promotion.md, promotion.html, metrics."""
    reports_dir = Path(reports_dir)
    paths = {
        "gate": reports_dir / "gate.json",
        "promotion_md": reports_dir / "promotion.md",
        "promotion_html": reports_dir / "promotion.html",
        "metrics": Path(metrics_path),
    }
    write_report(report, paths, policy=policy, certification=certification)
    return paths


def _consistent(report: GateReport) -> str | None:
    """Recompute the decision from the recorded outcomes; a mismatch means tampering or a bug."""
    for cid, cand in report.candidates.items():
        if decide(cand.outcomes) is not cand.decision:
            return f"candidate '{cid}' records {cand.decision.value}, its outcomes say otherwise"
    rule = report.policy.seed_rule
    if rule not in ("all", "certify"):
        return f"unknown seed rule '{rule}'"
    decisions = {cid: c.decision for cid, c in report.candidates.items()}
    if suite_decision(rule, decisions, report.suite_outcomes) is not report.decision:  # type: ignore[arg-type]
        return f"decision {report.decision.value} does not follow from the outcomes"
    flat = [o for c in report.candidates.values() for o in c.outcomes]
    if [*flat, *report.suite_outcomes] != report.outcomes:
        return "the flat outcome list differs from the candidates' and the suite's outcomes"
    return None


def check_exit_code(gate_json: Path, *, stream: TextIO | None = None) -> int:
    """0 GO, 1 NO_GO, 3 BLOCKED; a missing, malformed or inconsistent gate.json is 3."""
    out = stream if stream is not None else sys.stderr
    try:
        report = GateReport.model_validate(read_json(gate_json))
    except (OSError, SchemaError, ValidationError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        print(f"promgate check: BLOCKED (fail closed): cannot use {gate_json}: {first}", file=out)
        return EXIT_CODES[Decision.BLOCKED]
    problem = _consistent(report)
    if problem is not None:
        print(f"promgate check: BLOCKED (fail closed): {gate_json}: {problem}", file=out)
        return EXIT_CODES[Decision.BLOCKED]
    print(
        f"promgate check: {report.decision.value} under policy {report.policy.name}"
        f"@{report.policy.version} ({gate_json})",
        file=out,
    )
    return EXIT_CODES[report.decision]
