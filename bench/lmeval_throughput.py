"""Items per second: promgate's multiple-choice scorer against lm-eval-harness, same items; JSON.

    python bench/lmeval_throughput.py [--device cpu|cuda] [--limit 20] [--repeats 3]
                                      [--tasks promgate_arc_easy,...] [--batch-size 16]
                                      [--lmeval-python PY] [--json-out FILE]

lm-eval (in ``--lmeval-python``, default this interpreter) loads the model once and runs the
tasks of bench/lmeval/tasks/ (first ``--limit`` docs of each) ``--repeats`` times after an
untimed run (bench/lmeval/time_lmeval.py); its logged docs are mapped to promgate's items,
which promgate then scores ``--repeats`` times after a warm-up, with the model loaded once,
on the same device and batch size. Both sides are timed without model loading; the medians
are compared (items/s and the speed-up of promgate over lm-eval).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from lmeval_parity import TASKS, load_model  # noqa: E402
from promgate.importers.lm_eval import import_lm_eval  # noqa: E402
from promgate.scoring import multiple_choice  # noqa: E402


def time_lmeval(args, out: Path) -> dict:
    cmd = [
        args.lmeval_python,
        str(ROOT / "bench/lmeval/time_lmeval.py"),
        "--model",
        str(args.model),
        "--tasks",
        args.tasks,
        "--out",
        str(out),
        "--device",
        args.device,
        "--batch-size",
        str(args.batch_size),
        "--repeats",
        str(args.repeats),
    ]
    cmd += ["--limit", str(args.limit)] if args.limit else []
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_promgate(args, items) -> list[float]:
    loaded = load_model(args.model, args.device, args.threads)
    multiple_choice.score_items(loaded.model, loaded.tokenizer, items, args.batch_size, "warm-up")
    seconds = []
    for _ in range(args.repeats):
        if args.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        start = time.perf_counter()
        multiple_choice.score_items(
            loaded.model, loaded.tokenizer, items, args.batch_size, "promgate"
        )
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models/base")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, default=20, help="docs per task (0: all)")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--lmeval-python", default=sys.executable)
    parser.add_argument("--out", type=Path, help="lm-eval's sample logs (default: temp dir)")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    args.limit = args.limit or None

    out = args.out or Path(tempfile.mkdtemp(prefix="lmeval-throughput-"))
    lm = time_lmeval(args, out)
    imported = import_lm_eval(out)
    items = [i.item for group in imported.items.values() for i in group]
    promgate_s = time_promgate(args, items)

    n = len(items)
    lm_median, pg_median = statistics.median(lm["seconds"]), statistics.median(promgate_s)
    report = {
        "device": args.device,
        "machine": platform.processor() or platform.machine(),
        "model": str(args.model),
        "items": n,
        "items_per_task": lm["n_items"],
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "lm_eval": {
            "seconds": lm["seconds"],
            "median_s": lm_median,
            "items_per_s": n / lm_median,
        },
        "promgate": {
            "seconds": promgate_s,
            "median_s": pg_median,
            "items_per_s": n / pg_median,
        },
        "speedup": lm_median / pg_median,
    }
    text = json.dumps(report, indent=2)
    if args.json_out:
        args.json_out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
