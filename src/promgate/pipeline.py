"""Names and wiring shared by the stages and the CLI (the pipeline's layout on disk)."""

from __future__ import annotations

from pathlib import Path

from promgate.config import Params

BASELINE_ID = "baseline"


def candidate_id(seed: int) -> str:
    return f"lora-s{seed}"


def run_gate(params: Params, root: Path):
    """Apply the configured policy to the results on disk and write the gate outputs."""
    from promgate.gates.evaluate import evaluate_promotion
    from promgate.gates.outputs import write_gate_outputs
    from promgate.gates.policy import Policy

    policy = Policy.model_validate(params.policy)
    candidates = {candidate_id(s): root / "results" / candidate_id(s) for s in params.seeds}
    report = evaluate_promotion(
        baseline_dir=root / "results" / BASELINE_ID,
        candidate_dirs=candidates,
        benchmarks=params.data.benchmarks,
        policy=policy,
    )
    write_gate_outputs(report, root / "reports", root / "metrics/gate.json", policy=policy)
    return report
