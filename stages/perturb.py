"""Stage perturb: prepared eval sets -> the contamination-resistant suite in data/perturbed."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.contamination.perturb.suite import build_suite


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    build_suite(
        prepared_dir=ROOT / "data/prepared",
        out_dir=ROOT / "data/perturbed",
        seed=params.contamination.perturb_seed,
    )


if __name__ == "__main__":
    run_stage(main)
