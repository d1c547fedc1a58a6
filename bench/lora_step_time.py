"""Seconds per LoRA training step on this CPU: the rank-32 all-linear probe against the
rank-8 q/v adapter it replaced, and what cutting a variant from the probe costs; prints JSON.

    python bench/lora_step_time.py [--base models/base] [--steps 6] [--threads 2] [--random-init]
                                   [--skip-variants]

Each configuration trains ``--steps`` steps (forward, backward, AdamW) at the default
profile's shape (8 sequences x 128 tokens); the first step is a warm-up and is left out of
the median. Then the probe is saved and the default variants are cut from it (median of 3).
``--random-init`` builds the model from ``<base>/config.json`` alone: the same shapes and
arithmetic, for machines that lack the weights.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
CONFIGS = {
    "r8_qv (previous)": (8, ["q_proj", "v_proj"]),
    "r32_all_linear (probe)": (32, ALL_LINEAR),
}


def _model(base: Path, r: int, modules: list[str], random_init: bool):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    if random_init:
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base)).float()
    else:
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    cfg = LoraConfig(r=r, lora_alpha=2 * r, target_modules=modules, task_type="CAUSAL_LM")
    return get_peft_model(model, cfg)


def step_times(
    base: Path, r: int, modules: list[str], steps: int, random_init: bool
) -> list[float]:
    import torch

    torch.manual_seed(0)
    model = _model(base, r, modules, random_init)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    ids = torch.randint(0, 49_000, (8, 128), generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return times


def variant_times(base: Path, names: list[str], random_init: bool) -> dict[str, float]:
    from promgate.train.variants import compress_adapter, parse_variant

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        r, modules = CONFIGS["r32_all_linear (probe)"]
        _model(base, r, modules, random_init).save_pretrained(probe)
        out = {}
        for name in names:
            runs = []
            for i in range(3):
                start = time.perf_counter()
                compress_adapter(probe, parse_variant(name, 0.9), Path(tmp) / f"{name}{i}")
                runs.append(time.perf_counter() - start)
            out[name] = statistics.median(runs)
    return out


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, default=ROOT / "models/base")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--random-init", action="store_true")
    parser.add_argument("--skip-variants", action="store_true", help="step times only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
        },
        "load_average_before": os.getloadavg(),
        "shape": "8 x 128 tokens, fp32, AdamW",
        "weights": "random (config only)" if args.random_init else str(args.base),
        "seconds_per_step": {},
    }
    for name, (r, modules) in CONFIGS.items():
        times = step_times(args.base, r, modules, args.steps, args.random_init)
        result["seconds_per_step"][name] = {
            "median": statistics.median(times[1:]),
            "all": [round(t, 3) for t in times],
        }
    if not args.skip_variants:
        names = ["per_layer", "uniform_r16"]
        result["variant_cut_seconds"] = variant_times(args.base, names, args.random_init)
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
