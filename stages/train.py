"""Stage train@seed: a LoRA adapter for one seed -> models/candidates/lora-s<seed>."""

import argparse

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.io import write_json
from promgate.pipeline import candidate_id
from promgate.train.lora import train_lora


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    seed = parser.parse_args().seed
    params = load_params(ROOT / "params.yaml")
    model_id = candidate_id(seed)
    summary = train_lora(
        base_dir=ROOT / "models/base",
        corpus_path=ROOT / "data/train/clean.jsonl",
        cfg=params.train,
        seed=seed,
        out_dir=ROOT / "models/candidates" / model_id,
        live_dir=ROOT / "dvclive/train" / model_id,
        threads=params.eval.threads,
    )
    write_json(ROOT / "metrics/train" / f"{model_id}.json", summary.__dict__)


if __name__ == "__main__":
    run_stage(main)
