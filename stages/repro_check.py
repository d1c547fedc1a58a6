"""Stage repro_check: re-run the first seed's first steps and compare them with its train
stage, bit for bit -> metrics/repro.json (read by miso_v1's mandatory repro gate)."""

import argparse
import os

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.io import write_json
from promgate.pipeline import candidate_id
from promgate.train.repro import check_repro


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    seed = parser.parse_args().seed
    params = load_params(ROOT / "params.yaml")
    model_id = candidate_id(seed)
    adapter_dir = ROOT / "models/candidates" / model_id
    shown = {str(p): os.path.relpath(p, ROOT) for p in adapter_dir.iterdir()}
    report = check_repro(
        candidate=model_id,
        base_dir=ROOT / "models/base",
        corpus_path=ROOT / "data/train/clean.jsonl",
        cfg=params.train,
        seed=seed,
        adapter_dir=adapter_dir,
        threads=params.eval.threads,
        shown=shown,
    )
    write_json(ROOT / "metrics/repro.json", report.model_dump(mode="json"))
    print(f"repro {'ok' if report.reproduced else 'FAILED'}: {report.message}")


if __name__ == "__main__":
    run_stage(main)
