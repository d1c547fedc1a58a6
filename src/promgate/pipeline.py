"""Names and wiring shared by the stages and the CLI (the pipeline's layout on disk)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from promgate.config import Params
from promgate.errors import ConfigError

if TYPE_CHECKING:
    from promgate.gates.certification import Certification
    from promgate.gates.report import GateReport

BASELINE_ID = "baseline"
CONTAMINATION_FLAGS = Path("data/contamination/flags.jsonl")
# The uncompressed adapter a seed trains; its compression variants are cut from it.
PROBE = "probe"
CERTIFICATION_JSON = Path("reports/certification.json")
CERTIFICATION_METRICS = Path("metrics/certification.json")


def candidate_id(seed: int, variant: str | None = None) -> str:
    """``lora-s<seed>`` for a seed's probe adapter, ``lora-s<seed>-<variant>`` for a variant."""
    if variant is None or variant == PROBE:
        return f"lora-s{seed}"
    return f"lora-s{seed}-{variant}"


def pipeline_variants(params: Params) -> list[str]:
    """The probe, then every configured compression variant."""
    return [PROBE, *params.variants.names]


def pipeline_candidates(params: Params) -> list[str]:
    """Every candidate the pipeline trains or cuts: per seed, the probe then its variants."""
    return [candidate_id(s, v) for s in params.seeds for v in pipeline_variants(params)]


def run_gate(params: Params, root: Path) -> GateReport:
    """Apply the configured policy to the results on disk and write the gate outputs.

    With a certification policy in params, every variant is also certified across seeds
    (reports/certification.json) and the promotion report shows it.
    """
    from promgate.gates.evaluate import evaluate_promotion
    from promgate.gates.outputs import write_gate_outputs
    from promgate.gates.policy import Policy

    policy = Policy.model_validate(params.policy)
    candidates = {cid: root / "results" / cid for cid in pipeline_candidates(params)}
    flags = root / CONTAMINATION_FLAGS
    contaminated = contaminated_ids(flags) if flags.exists() else None
    report = evaluate_promotion(
        baseline_dir=root / "results" / BASELINE_ID,
        candidate_dirs=candidates,
        benchmarks=params.data.benchmarks,
        policy=policy,
        evidence_root=root,
        contaminated=contaminated,
    )
    certification = run_certification(params, root, contaminated)
    write_gate_outputs(
        report,
        root / "reports",
        root / "metrics/gate.json",
        policy=policy,
        certification=certification,
    )
    return report


def run_certification(
    params: Params, root: Path, contaminated: frozenset[str] | None = None
) -> Certification | None:
    """Certify the probe and each variant across the policy's seeds; write the results.

    The seeds are the policy's expected ones (the standard's 42, 123, 456), else the
    configured ones: a run with fewer seeds leaves every variant BLOCKED, naming the seeds
    it lacks. None (nothing written) when params name no certification policy.
    """
    from promgate.gates.certification import (
        certification_metrics,
        certify,
        write_certification,
    )
    from promgate.gates.policy import Policy
    from promgate.io import write_json

    if params.certification is None:
        return None
    policy = Policy.model_validate(params.certification.policy)
    seeds = list(policy.seeds.expected) or list(params.seeds)
    variants = {
        v: {candidate_id(s, v): root / "results" / candidate_id(s, v) for s in seeds}
        for v in pipeline_variants(params)
    }
    cert = certify(
        baseline_dir=root / "results" / BASELINE_ID,
        variants=variants,
        benchmarks=params.data.benchmarks,
        policy=policy,
        evidence_root=root,
        contaminated=contaminated,
    )
    write_certification(cert, root / CERTIFICATION_JSON)
    write_json(root / CERTIFICATION_METRICS, certification_metrics(cert))
    return cert


def contaminated_ids(path: Path) -> frozenset[str]:
    """Ids the contamination stage flagged (``contaminated: true`` in its flags file)."""
    from promgate.io import iter_jsonl

    return frozenset(row["id"] for _, row in iter_jsonl(path) if row.get("contaminated"))


def discover_benchmarks(baseline_dir: Path, exclude: set[str]) -> list[str]:
    """The benchmarks a baseline folder holds results for (``*.jsonl``), sorted."""
    if not baseline_dir.is_dir():
        return []
    return sorted(p.stem for p in baseline_dir.glob("*.jsonl") if p.stem not in exclude)


def gate_from_dirs(
    *,
    baseline: Path,
    candidates: list[Path],
    policy_ref: str,
    out: Path,
    benchmarks: list[str] | None = None,
    root: Path = Path("."),
    evidence_root: Path | None = None,
) -> GateReport:
    """``promgate gate --baseline ... --candidate ...``: judge folders of results directly.

    Candidate ids are the folder names (``results/lora-s42`` -> ``lora-s42``, which also
    names its recipe and seed). Without ``benchmarks`` every ``*.jsonl`` in the baseline
    folder is a main benchmark, except those the policy reads for other gates (the
    contamination suite, SWE-bench). Writes ``out`` and the .md/.html reports beside it.
    """
    from promgate.gates.evaluate import evaluate_promotion, other_benchmarks
    from promgate.gates.outputs import report_paths, write_report
    from promgate.gates.policy import load_policy, policy_path

    if Path(out).suffix in (".md", ".html"):
        raise ConfigError("--out names gate.json; the .md and .html are written beside it")
    policy = load_policy(policy_path(policy_ref, root))
    ids = [Path(c).name for c in candidates]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"candidate folders share a name: {', '.join(dupes)}", field="candidate")
    if benchmarks is None:
        exclude = {b for group in other_benchmarks(policy).values() for b in group}
        benchmarks = discover_benchmarks(Path(baseline), exclude)
    report = evaluate_promotion(
        baseline_dir=Path(baseline),
        candidate_dirs=dict(zip(ids, (Path(c) for c in candidates), strict=True)),
        benchmarks=benchmarks,
        policy=policy,
        evidence_root=evidence_root,
    )
    write_report(report, report_paths(out), policy=policy)
    return report
