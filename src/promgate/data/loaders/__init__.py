"""One loader per upstream format family, and :func:`load_benchmark` to dispatch by name.

Every loader returns validated :class:`~promgate.data.schema.Item`s and raises
:class:`~promgate.errors.SchemaError` naming path, 1-based line and field on a bad record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from promgate.data.loaders.advbench import load_advbench
from promgate.data.loaders.arc import load_arc
from promgate.data.loaders.codexglue import load_codexglue
from promgate.data.loaders.drop import load_drop
from promgate.data.loaders.gsm8k import load_gsm8k
from promgate.data.loaders.hellaswag import load_hellaswag
from promgate.data.loaders.humaneval import load_humaneval
from promgate.data.loaders.math import load_math, load_math500
from promgate.data.loaders.mbpp import load_mbpp, load_mbpp_sanitized
from promgate.data.loaders.mmlu import load_mmlu
from promgate.data.loaders.piqa import load_piqa
from promgate.data.loaders.sst2 import load_sst2
from promgate.data.loaders.swebench import load_swebench
from promgate.data.loaders.truthfulqa import load_truthfulqa
from promgate.data.loaders.winogrande import load_winogrande
from promgate.data.schema import Item
from promgate.data.sources import BenchmarkSource, get_source
from promgate.errors import DataUnavailableError

# (data paths, label paths, split, license) -> items
_Loader = Callable[[list[Path], list[Path], str, str], list[Item]]


def _single(paths: list[Path], what: str, benchmark: str) -> Path:
    if len(paths) != 1:
        raise DataUnavailableError(f"{benchmark}: expected one {what} file, got {len(paths)}")
    return paths[0]


_LOADERS: dict[str, _Loader] = {
    "arc_easy": lambda d, _l, s, lic: load_arc(
        _single(d, "data", "arc_easy"), benchmark="arc_easy", split=s, license=lic
    ),
    "arc_challenge": lambda d, _l, s, lic: load_arc(
        _single(d, "data", "arc_challenge"), benchmark="arc_challenge", split=s, license=lic
    ),
    "mmlu": lambda d, _l, s, lic: load_mmlu(d, split=s, license=lic),
    "winogrande": lambda d, lab, s, lic: load_winogrande(
        _single(d, "data", "winogrande"), _single(lab, "labels", "winogrande"), split=s, license=lic
    ),
    "piqa": lambda d, lab, s, lic: load_piqa(
        _single(d, "data", "piqa"), _single(lab, "labels", "piqa"), split=s, license=lic
    ),
    "gsm8k": lambda d, _l, s, lic: load_gsm8k(_single(d, "data", "gsm8k"), split=s, license=lic),
    "humaneval": lambda d, _l, s, lic: load_humaneval(
        _single(d, "data", "humaneval"), split=s, license=lic
    ),
    "mbpp": lambda d, _l, s, lic: load_mbpp(_single(d, "data", "mbpp"), split=s, license=lic),
    "mbpp_sanitized": lambda d, _l, s, lic: load_mbpp_sanitized(
        _single(d, "data", "mbpp_sanitized"), split=s, license=lic
    ),
    "math": lambda d, _l, s, lic: load_math(d, split=s, license=lic),
    "math500": lambda d, _l, s, lic: load_math500(
        _single(d, "data", "math500"), split=s, license=lic
    ),
    "truthfulqa": lambda d, _l, s, lic: load_truthfulqa(
        _single(d, "data", "truthfulqa"), version="current", split=s, license=lic
    ),
    "truthfulqa_2021": lambda d, _l, s, lic: load_truthfulqa(
        _single(d, "data", "truthfulqa_2021"), version="2021", split=s, license=lic
    ),
    "sst2": lambda d, _l, s, lic: load_sst2(_single(d, "data", "sst2"), split=s, license=lic),
    "advbench": lambda d, _l, s, lic: load_advbench(
        _single(d, "data", "advbench"), split=s, license=lic
    ),
    "codexglue": lambda d, lab, s, lic: load_codexglue(
        _single(d, "data", "codexglue"),
        _single(lab, "labels", "codexglue"),
        split=s,
        license=lic,
    ),
    "swebench_lite": lambda d, _l, s, lic: load_swebench(
        _single(d, "data", "swebench_lite"), split=s, license=lic
    ),
    "hellaswag": lambda d, _l, s, lic: load_hellaswag(
        _single(d, "data", "hellaswag"), split=s, license=lic
    ),
}

LOADABLE = tuple(sorted(_LOADERS))


def _pick(files: Mapping[str, Path], source: BenchmarkSource, split: str, role: str) -> list[Path]:
    paths = []
    for entry in source.files_for(split, role):
        if entry.path not in files:
            raise DataUnavailableError(f"{source.name}: {entry.path} was not resolved")
        paths.append(Path(files[entry.path]))
    return paths


def load_benchmark(
    benchmark: str, files: Mapping[str, Path], split: str | None = None
) -> list[Item]:
    """Items of ``benchmark``'s ``split`` (default: its eval split) from resolved files."""
    source = get_source(benchmark)
    if benchmark not in _LOADERS:
        raise DataUnavailableError(f"no loader for benchmark {benchmark!r}")
    split = split or source.eval_split
    data = _pick(files, source, split, "data")
    labels = _pick(files, source, split, "labels")
    return _LOADERS[benchmark](data, labels, split, source.license)


__all__ = [
    "LOADABLE",
    "load_advbench",
    "load_arc",
    "load_benchmark",
    "load_codexglue",
    "load_drop",
    "load_gsm8k",
    "load_hellaswag",
    "load_humaneval",
    "load_math",
    "load_math500",
    "load_mbpp",
    "load_mbpp_sanitized",
    "load_mmlu",
    "load_piqa",
    "load_sst2",
    "load_swebench",
    "load_truthfulqa",
    "load_winogrande",
]
