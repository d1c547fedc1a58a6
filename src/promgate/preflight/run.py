"""The preflight stage's work: labels, alignment and power for every benchmark a gate reads.

Blockers (an item without a label, a manifest stratum with no labelled item, baseline
results that do not pair one to one with the prepared items) stop the pipeline before any
training; warnings (a threshold below the planned MDE, fewer items than the policy's
minimum, a contamination-suite benchmark with no baseline results) are recorded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from promgate.config import Params
from promgate.errors import SchemaError
from promgate.gates.benchmark_stats import tested_alpha
from promgate.gates.policy import Policy
from promgate.io import read_json, write_json
from promgate.preflight.alignment import check_alignment
from promgate.preflight.labels import check_labels
from promgate.preflight.power import planned_average_power, planned_power
from promgate.preflight.report import (
    BenchmarkPreflight,
    Check,
    Finding,
    PowerSummary,
    PreflightReport,
    error_for,
)

PREFLIGHT_REPORT = Path("reports/preflight.json")
PREPARED = Path("data/prepared")
PERTURBED = Path("data/perturbed")
BASELINE = Path("results/baseline")


def _rel(path: Path, root: Path) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(root))


def _manifest(path: Path, root: Path, findings: list[Finding]) -> dict[str, Any]:
    try:
        data = read_json(path)
    except FileNotFoundError:
        data = None
    except SchemaError as exc:
        findings.append(
            Finding(
                check="labels",
                severity="blocker",
                message=exc.detail,
                path=_rel(path, root),
                line=exc.line,
            )
        )
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), dict):
        findings.append(
            Finding(
                check="labels",
                severity="blocker",
                path=_rel(path, root),
                message="manifest missing or without a 'benchmarks' mapping",
            )
        )
        return {}
    return data["benchmarks"]


def _warn(check: Check, benchmark: str | None, message: str, path: str | None = None) -> Finding:
    return Finding(check=check, severity="warning", benchmark=benchmark, message=message, path=path)


def _benchmark(
    name: str,
    role: str,
    folder: Path,
    manifest: dict[str, Any],
    root: Path,
    findings: list[Finding],
    power_args: tuple[str, float, float, float] | None,
    min_items: int,
) -> BenchmarkPreflight:
    data = folder / f"{name}.jsonl"
    entry = manifest.get(name)
    if manifest and entry is None:
        findings.append(
            Finding(
                check="labels",
                severity="blocker",
                benchmark=name,
                field="benchmarks",
                path=_rel(folder / "manifest.json", root),
                message="the manifest has no entry for this benchmark",
            )
        )
    labels, found, items = check_labels(name, data, entry, _rel(data, root))
    base = root / BASELINE / f"{name}.jsonl"
    unevaluated = role == "contamination_suite" and not base.is_file()
    if unevaluated:
        # Not evaluated by this pipeline (no baseline results): its gate blocks on the missing
        # results anyway, and the training it would stop does not depend on it.
        found = [f.model_copy(update={"severity": "warning"}) for f in found]
    findings += found
    report = BenchmarkPreflight(role=role, labels=labels)  # type: ignore[arg-type]
    if not unevaluated and labels.items and labels.items < min_items:
        findings.append(
            _warn(
                "power",
                name,
                f"{labels.items} items; the policy needs at least {min_items} "
                "(the gate will block this benchmark)",
                labels.path,
            )
        )
    if unevaluated:
        findings.append(
            _warn("alignment", name, "no baseline results (the gate will block this suite)")
        )
        return report
    report.baseline, found, results = check_alignment(name, items, base, _rel(base, root))
    findings += found
    if power_args is not None and report.baseline.aligned and results:
        gate, threshold, alpha, power = power_args
        values = np.array([r.value for r in results], dtype=float)
        report.power = planned_power(gate, values, threshold, alpha, power)
        # Suite members have no threshold of their own: only their average is judged.
        if role == "main" and not report.power.detectable:
            mde = report.power.mde_pp
            shown = "no Δ up to 100 pp" if mde is None else f"MDE {mde:.1f} pp"
            findings.append(
                _warn(
                    "power",
                    name,
                    f"{gate} threshold {threshold:+.1f} pp is below what "
                    f"n = {report.power.n} can detect ({shown} at α = {alpha:.3g}, power "
                    f"{power:.0%}, planned)",
                    report.baseline.path,
                )
            )
    return report


def _average(
    gate: str,
    members: list[BenchmarkPreflight],
    threshold: float,
    policy: Policy,
    findings: list[Finding],
) -> PowerSummary | None:
    powers = [m.power for m in members if m.power is not None]
    if not members or len(powers) < len(members):
        findings.append(_warn("power", None, f"{gate}: not every benchmark has a planned power"))
        return None
    confidence, power = policy.bootstrap.confidence, policy.testing.power
    summary = planned_average_power(gate, powers, threshold, confidence, power)
    if not summary.detectable:
        mde = "∞" if summary.mde_pp is None else f"{summary.mde_pp:.1f}"
        findings.append(
            _warn(
                "power",
                None,
                f"{gate} threshold {threshold:+.1f} pp is below the planned "
                f"MDE of the average ({mde} pp)",
            )
        )
    return summary


def run_preflight(params: Params, root: Path, out: Path | None = None) -> PreflightReport:
    """Check, write ``reports/preflight.json`` (or ``out``), then raise on any blocker."""
    root = Path(root)
    out = root / PREFLIGHT_REPORT if out is None else Path(out)
    policy = Policy.model_validate(params.policy)
    findings: list[Finding] = []
    manifest = _manifest(root / PREPARED / "manifest.json", root, findings)
    main = list(params.data.benchmarks)
    alpha = tested_alpha(policy.testing.alpha, policy.testing.multiplicity, len(main))
    per_bench = policy.gates.per_benchmark
    checks: dict[str, BenchmarkPreflight] = {}
    for name in main:
        power_args = ("per_benchmark", per_bench.target_for(name), alpha, policy.testing.power)
        checks[name] = _benchmark(
            name,
            "main",
            root / PREPARED,
            manifest,
            root,
            findings,
            power_args,
            policy.min_items_per_benchmark,
        )
    suite_power: list[PowerSummary] = []
    if policy.gates.average_delta is not None:
        gate = policy.gates.average_delta
        avg = _average("average_delta", list(checks.values()), gate.min_delta_pp, policy, findings)
        suite_power += [avg] if avg else []
    suite = policy.gates.contamination_suite
    if suite is not None:
        suite_manifest_path = root / PERTURBED / "manifest.json"
        if not suite_manifest_path.is_file():
            findings.append(
                _warn(
                    "labels",
                    None,
                    "no contamination-resistant suite prepared "
                    f"({_rel(suite_manifest_path, root)} is absent)",
                )
            )
        else:
            suite_manifest = _manifest(suite_manifest_path, root, findings)
            members = []
            for name in suite.benchmarks:
                if name not in suite_manifest:
                    findings.append(
                        _warn("labels", name, f"absent from {_rel(suite_manifest_path, root)}")
                    )
                    continue
                power_args = (
                    "contamination_suite",
                    suite.min_delta_pp,
                    policy.testing.alpha,
                    policy.testing.power,
                )
                checks[name] = _benchmark(
                    name,
                    "contamination_suite",
                    root / PERTURBED,
                    suite_manifest,
                    root,
                    findings,
                    power_args,
                    policy.min_items_per_benchmark,
                )
                members.append(checks[name])
            if members and all(m.baseline is not None for m in members):
                avg = _average("contamination_suite", members, suite.min_delta_pp, policy, findings)
                suite_power += [avg] if avg else []
    blockers = sum(f.severity == "blocker" for f in findings)
    report = PreflightReport(
        passed=blockers == 0,
        blockers=blockers,
        warnings=len(findings) - blockers,
        policy=f"{policy.name}@{policy.version}",
        benchmarks=checks,
        suite_power=suite_power,
        findings=findings,
    )
    write_json(out, report.model_dump(mode="json"))
    if not report.passed:
        raise error_for(report, Path(_rel(out, root)))
    return report
