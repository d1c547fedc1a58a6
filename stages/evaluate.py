"""Stages baseline and evaluate@seed: per-item results of one model on the prepared sets."""

import argparse

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.data.schema import read_items
from promgate.models import hf
from promgate.pipeline import BASELINE_ID, candidate_id
from promgate.scoring.runner import evaluate_model


def main() -> None:
    parser = argparse.ArgumentParser()
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--baseline", action="store_true")
    which.add_argument("--seed", type=int)
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    model_id = BASELINE_ID if args.baseline else candidate_id(args.seed)
    adapter = None if args.baseline else ROOT / "models/candidates" / model_id
    loaded = hf.load(ROOT / "models/base", adapter, model_id=model_id, threads=params.eval.threads)
    items = {b: read_items(ROOT / "data/prepared" / f"{b}.jsonl") for b in params.data.benchmarks}
    summary = evaluate_model(
        loaded,
        items,
        params.eval,
        results_dir=ROOT / "results" / model_id,
        metrics_path=ROOT / "metrics/eval" / f"{model_id}.json",
    )
    for benchmark, metric in summary["benchmarks"].items():
        print(f"{model_id} {benchmark}: n={metric['n']} accuracy={metric['accuracy']:.3f}")


if __name__ == "__main__":
    run_stage(main)
