"""Stage train@seed: a LoRA adapter for one seed -> models/candidates/lora-s<seed>.

A run that diverges is recorded (FAILED.json, metrics/train/lora-s<seed>.json) and the stage
exits 0: the pipeline goes on and the gate reports the candidate BLOCKED.
"""

import argparse
import sys

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.pipeline import candidate_id
from promgate.preflight import require_passed
from promgate.train.candidate import train_candidate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    seed = parser.parse_args().seed
    params = load_params(ROOT / "params.yaml")
    require_passed(ROOT / "reports/preflight.json")  # no training before the data checks pass
    model_id = candidate_id(seed)
    metrics_path = ROOT / "metrics/train" / f"{model_id}.json"
    metrics = train_candidate(
        candidate=model_id,
        base_dir=ROOT / "models/base",
        corpus_path=ROOT / "data/train/clean.jsonl",
        cfg=params.train,
        seed=seed,
        out_dir=ROOT / "models/candidates" / model_id,
        metrics_path=metrics_path,
        live_dir=ROOT / "dvclive/train" / model_id,
        merge_path=ROOT / "metrics/merge" / f"{model_id}.json",
        threads=params.eval.threads,
        root=ROOT,
    )
    if metrics.failure is not None:
        print(f"{model_id}: {metrics.status}: {metrics.failure.message}", file=sys.stderr)
        return
    print(
        f"{model_id}: loss {metrics.first_loss:.4f} -> {metrics.final_loss:.4f}, "
        f"{metrics.tokens_per_s or 0:.0f} tokens/s, adapter sha256 {metrics.adapter_sha256}"
    )


if __name__ == "__main__":
    run_stage(main)
