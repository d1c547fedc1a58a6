"""Stages baseline, evaluate@seed and evaluate_variant@seed-variant: per-item results of one
model (the base, a seed's probe adapter, or a variant of it) on the prepared sets."""

import argparse

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.data.schema import read_items
from promgate.models.backend import make_backend
from promgate.pipeline import BASELINE_ID, candidate_id
from promgate.scoring.cache import CachedBackend
from promgate.scoring.runner import evaluate_model
from promgate.train.candidate import mark_unevaluated, read_failure


def main() -> None:
    parser = argparse.ArgumentParser()
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--baseline", action="store_true")
    which.add_argument("--seed", type=int)
    parser.add_argument("--variant", help="a compression variant of the seed's adapter")
    args = parser.parse_args()
    if args.variant and args.baseline:
        parser.error("--variant goes with --seed")
    params = load_params(ROOT / "params.yaml")
    model_id = BASELINE_ID if args.baseline else candidate_id(args.seed, args.variant)
    adapter = None if args.baseline else ROOT / "models/candidates" / model_id
    failure = read_failure(adapter) if adapter is not None else None
    if failure is not None:  # its training stopped: say why there are no results, go on
        marker = mark_unevaluated(
            failure,
            adapter,
            results_dir=ROOT / "results" / model_id,
            metrics_path=ROOT / "metrics/eval" / f"{model_id}.json",
            root=ROOT,
        )
        print(f"{model_id}: not evaluated: {marker.message}")
        return
    backend = make_backend(
        params.eval,
        root=ROOT,
        model_id=model_id,
        model_dir=ROOT / "models/base",
        adapter_dir=adapter,
    )
    items = {b: read_items(ROOT / "data/prepared" / f"{b}.jsonl") for b in params.data.benchmarks}
    summary = evaluate_model(
        backend,
        items,
        params.eval,
        results_dir=ROOT / "results" / model_id,
        metrics_path=ROOT / "metrics/eval" / f"{model_id}.json",
        model_id=model_id,
    )
    for benchmark, metric in summary["benchmarks"].items():
        print(f"{model_id} {benchmark}: n={metric['n']} accuracy={metric['accuracy']:.3f}")
    if isinstance(backend, CachedBackend):
        stats = backend.stats
        print(f"{model_id}: {stats.hits} answers from the cache, {stats.misses} new")


if __name__ == "__main__":
    run_stage(main)
