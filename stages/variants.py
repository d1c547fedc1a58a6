"""Stage variants@<seed>-<variant>: a compression variant of one seed's probe adapter.

models/candidates/lora-s<seed> -> models/candidates/lora-s<seed>-<variant> (a peft adapter,
its card with every module's rank and singular values), metrics/variants/<candidate>.json.
A probe whose training failed yields a variant that records the same failure, so the gate
reports it BLOCKED instead of the pipeline stopping.
"""

import argparse
from dataclasses import asdict

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.io import write_json
from promgate.pipeline import candidate_id
from promgate.train.merge_check import check_adapter, write_merge_evidence
from promgate.train.variants import carry_failure, compress_adapter, parse_variant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--variant", required=True)
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    spec = parse_variant(args.variant, params.variants.energy)
    source_id, model_id = candidate_id(args.seed), candidate_id(args.seed, args.variant)
    source, out = ROOT / "models/candidates" / source_id, ROOT / "models/candidates" / model_id
    metrics = ROOT / "metrics/variants" / f"{model_id}.json"
    merge = ROOT / "metrics/merge" / f"{model_id}.json"
    failed = carry_failure(source, out, model_id)
    if failed is not None:
        write_json(metrics, {"status": failed, "source": source_id})
        write_merge_evidence(merge, model_id, None, f"{source_id} failed to train ({failed})")
        print(f"{model_id}: not cut, {source_id} failed to train ({failed})")
        return
    summary = compress_adapter(
        source,
        spec,
        out,
        record={"candidate": model_id, "seed": args.seed, "config": params.variants.model_dump()},
        root=ROOT,
    )
    write_json(metrics, {"status": "ok", **asdict(summary)})
    # The variant is evaluated merged into the base too: the same check as its probe's.
    write_merge_evidence(merge, model_id, check_adapter(ROOT / "models/base", out))
    print(
        f"{model_id}: ranks {summary.min_rank}-{summary.max_rank} (mean {summary.mean_rank:.1f}), "
        f"{summary.parameter_share:.0%} of the probe's parameters, "
        f"{summary.energy_kept:.1%} of its update's energy"
    )


if __name__ == "__main__":
    run_stage(main)
