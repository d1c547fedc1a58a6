"""Stage gate: the policy applied to baseline and candidate results -> reports/gate.json."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.pipeline import run_gate


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    report = run_gate(params, ROOT)
    print(f"decision: {report.decision}")


if __name__ == "__main__":
    run_stage(main)
