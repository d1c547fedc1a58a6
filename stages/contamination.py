"""Stage contamination: training corpus vs prepared eval sets -> flags, metrics, clean corpus."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.contamination.stage import run


def main() -> None:
    params = load_params(ROOT / "params.yaml")
    run(
        prepared_dir=ROOT / "data/prepared",
        corpus_path=ROOT / "data/train/corpus.jsonl",
        clean_path=ROOT / "data/train/clean.jsonl",
        out_dir=ROOT / "data/contamination",
        metrics_path=ROOT / "metrics/contamination.json",
        cfg=params.contamination,
    )


if __name__ == "__main__":
    run_stage(main)
