"""Compression variants of a trained LoRA adapter, by truncated SVD of each module's update.

A LoRA module adds ΔW = s·B·A to a frozen weight (s = alpha/r, or alpha/√r with rsLoRA).
The best rank-k approximation of ΔW in Frobenius norm is its truncated SVD (Eckart–Young):
the error is exactly the energy of the dropped singular values. A variant keeps, per module,
the top k singular triplets and stores them as a normal peft adapter with the scaling folded
into the factors (alpha = r, so s = 1): B' = U_k·√S_k, A' = √S_k·V_kᵀ.

- ``uniform_r<k>``: every module keeps rank k.
- ``per_layer``: every module keeps the smallest k whose singular values hold at least
  ``energy`` of the squared-singular-value total; the ranks go to peft's ``rank_pattern`` and
  ``alpha_pattern`` so ``PeftModel.from_pretrained`` builds each module at its own rank.

The SVD of B·A is taken through QR factors of B and Aᵀ (an r×r SVD), exact and cheap.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from promgate.errors import ConfigError, MissingEvidenceError, SchemaError
from promgate.io import atomic_write_bytes, atomic_write_text, sha256_file, write_json

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
VARIANT_CARD_FILE = "promgate-variant.json"
PER_LAYER = "per_layer"

_UNIFORM = re.compile(r"^uniform_r(?P<rank>[1-9]\d*)$")
_LORA_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<factor>[AB])\.weight$")


@dataclass(frozen=True)
class VariantSpec:
    """How one variant picks each module's rank."""

    name: str
    kind: Literal["uniform", "energy"]
    rank: int | None = None  # uniform
    energy: float | None = None  # per_layer: share of squared singular values kept


def parse_variant(name: str, energy: float) -> VariantSpec:
    """``per_layer`` or ``uniform_r<k>``; anything else is a configuration error."""
    if name == PER_LAYER:
        if not 0.0 < energy <= 1.0:
            raise ConfigError(f"energy must lie in (0, 1], got {energy!r}", field="variants.energy")
        return VariantSpec(name=name, kind="energy", energy=energy)
    match = _UNIFORM.match(name)
    if match is None:
        raise ConfigError(
            f"unknown variant '{name}' (expected '{PER_LAYER}' or 'uniform_r<k>')",
            field="variants.names",
        )
    return VariantSpec(name=name, kind="uniform", rank=int(match.group("rank")))


@dataclass(frozen=True)
class ModuleSVD:
    """The SVD of one module's scaled update ΔW = U·diag(S)·Vt (float64, S descending)."""

    u: np.ndarray  # out × q
    s: np.ndarray  # q
    vt: np.ndarray  # q × in


def update_svd(a: np.ndarray, b: np.ndarray, scaling: float) -> ModuleSVD:
    """SVD of ``scaling·b@a`` without forming it: QR of both factors, then a small SVD."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    qb, rb = np.linalg.qr(b)  # out×q, q×r
    qa, ra = np.linalg.qr(a.T)  # in×q', q'×r
    u_small, s, vt_small = np.linalg.svd(scaling * (rb @ ra.T))
    return ModuleSVD(u=qb @ u_small, s=s, vt=vt_small @ qa.T)


def rank_for_energy(s: np.ndarray, energy: float) -> int:
    """The smallest k whose top-k squared singular values hold ``energy`` of the total (≥ 1)."""
    power = np.asarray(s, dtype=np.float64) ** 2
    total = power.sum()
    if total <= 0.0:
        return 1  # a zero update: any rank keeps all of it; peft needs at least 1
    kept = np.cumsum(power) / total
    # A relative slack of 1e-12 so energy=1.0 is reached despite rounding in the cumsum.
    return int(min(np.searchsorted(kept, energy - 1e-12) + 1, len(s)))


def truncated_factors(svd: ModuleSVD, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(A', B') of rank k with B'·A' the best rank-k approximation of ΔW; the split of √S
    between the factors keeps both at the same scale."""
    root = np.sqrt(svd.s[:k])
    return root[:, None] * svd.vt[:k], svd.u[:, :k] * root[None, :]


@dataclass(frozen=True)
class ModuleChoice:
    rank: int
    source_rank: int
    energy_kept: float  # share of ΔW's squared Frobenius norm the rank-k update keeps
    singular_values: list[float]


@dataclass(frozen=True)
class VariantSummary:
    variant: str
    modules: int
    source_rank: int
    min_rank: int
    max_rank: int
    mean_rank: float
    parameters: int
    source_parameters: int
    parameter_share: float
    energy_kept: float  # over all modules: 1 - relative squared Frobenius error
    relative_error: float  # ||ΔW - ΔW_k||_F / ||ΔW||_F over all modules
    adapter_sha256: str


def _read_adapter(src_dir: Path):
    from peft import LoraConfig
    from safetensors.torch import load_file

    weights_path = src_dir / ADAPTER_WEIGHTS
    for path in (weights_path, src_dir / ADAPTER_CONFIG):
        if not path.is_file():
            raise MissingEvidenceError("adapter file not found; run the train stage", path=path)
    cfg = LoraConfig.from_pretrained(str(src_dir))
    for field in ("use_dora", "modules_to_save", "lora_bias"):
        if getattr(cfg, field, None):
            raise SchemaError(
                "only plain LoRA adapters can be compressed",
                path=src_dir / ADAPTER_CONFIG,
                field=field,
            )
    tensors = load_file(str(weights_path))
    factors: dict[str, dict[str, np.ndarray]] = {}
    for key, tensor in tensors.items():
        match = _LORA_KEY.match(key)
        if match is None:
            raise SchemaError("not a LoRA A/B weight", path=weights_path, field=key)
        factors.setdefault(match["module"], {})[match["factor"]] = tensor.double().numpy()
    for module, pair in factors.items():
        if set(pair) != {"A", "B"}:
            raise SchemaError(
                "LoRA module lacks its A or B factor", path=weights_path, field=module
            )
    return cfg, factors, {k: t.dtype for k, t in tensors.items()}


def _scaling(cfg, module: str) -> tuple[int, float]:
    """(r, s) of one module under its source config, patterns included."""
    from peft.utils.other import get_pattern_key

    r = cfg.rank_pattern.get(get_pattern_key(cfg.rank_pattern.keys(), module), cfg.r)
    alpha = cfg.alpha_pattern.get(get_pattern_key(cfg.alpha_pattern.keys(), module), cfg.lora_alpha)
    return r, alpha / (math.sqrt(r) if cfg.use_rslora else r)


def _choose_rank(spec: VariantSpec, svd: ModuleSVD, source_rank: int, module: str) -> int:
    if spec.kind == "energy":
        return rank_for_energy(svd.s, spec.energy or 1.0)
    if spec.rank is None or spec.rank > source_rank:
        raise ConfigError(
            f"variant '{spec.name}' asks rank {spec.rank} but module {module} has rank "
            f"{source_rank}; truncation can only lower the rank",
            field="variants.names",
        )
    return spec.rank


def _variant_config(cfg, ranks: dict[str, int]):
    """The source config with rank and alpha per module; alpha = rank folds the scaling to 1."""
    from peft.utils.other import get_pattern_key

    out = copy.deepcopy(cfg)
    common = max(set(ranks.values()), key=lambda k: (list(ranks.values()).count(k), k))
    out.r = common
    out.lora_alpha = common
    out.use_rslora = False
    out.rank_pattern = {m: k for m, k in sorted(ranks.items()) if k != common}
    out.alpha_pattern = dict(out.rank_pattern)
    # peft matches pattern keys as regexes, first match wins: make sure each module's own
    # entry is the one it resolves to, so no module silently gets another module's rank.
    keys = list(out.rank_pattern)
    for module, k in ranks.items():
        resolved = out.rank_pattern.get(get_pattern_key(keys, module), common)
        if resolved != k:
            raise ValueError(f"rank_pattern resolves module {module} to rank {resolved}, not {k}")
    return out


def _config_json(cfg) -> str:
    data = cfg.to_dict()
    for key, value in data.items():
        if isinstance(value, set):
            data[key] = sorted(value)  # peft writes sets in hash order; sorted is reproducible
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def compress_adapter(
    src_dir: str | Path,
    spec: VariantSpec,
    out_dir: str | Path,
    *,
    record: dict | None = None,
    root: Path | None = None,
) -> VariantSummary:
    """Write ``spec``'s variant of the adapter in ``src_dir`` to ``out_dir`` (a peft folder).

    ``out_dir`` is built beside itself and swapped in whole, so a failure leaves no half-made
    adapter. ``record`` (seed, resolved config, ...) goes into the variant's card; paths in
    the card are relative to ``root`` when it is given, so the card is the same in any checkout.
    """
    import torch
    from safetensors.torch import save

    src_dir, out_dir = Path(src_dir), Path(out_dir)
    cfg, factors, dtypes = _read_adapter(src_dir)
    tensors: dict[str, torch.Tensor] = {}
    choices: dict[str, ModuleChoice] = {}
    kept_energy = total_energy = 0.0
    params = source_params = 0
    for module in sorted(factors):
        a, b = factors[module]["A"], factors[module]["B"]
        source_rank, scaling = _scaling(cfg, module)
        if a.shape[0] != source_rank or b.shape[1] != source_rank:
            raise SchemaError(
                f"factor shapes {a.shape} / {b.shape} disagree with rank {source_rank}",
                path=src_dir / ADAPTER_WEIGHTS,
                field=module,
            )
        svd = update_svd(a, b, scaling)
        k = _choose_rank(spec, svd, source_rank, module)
        new_a, new_b = truncated_factors(svd, k)
        power = svd.s**2
        kept_energy += float(power[:k].sum())
        total_energy += float(power.sum())
        prefix = f"base_model.model.{module}"
        for name, array in ((f"{prefix}.lora_A.weight", new_a), (f"{prefix}.lora_B.weight", new_b)):
            tensors[name] = torch.from_numpy(np.ascontiguousarray(array)).to(dtypes[name])
        params += new_a.size + new_b.size
        source_params += a.size + b.size
        choices[module] = ModuleChoice(
            rank=k,
            source_rank=source_rank,
            energy_kept=float(power[:k].sum() / power.sum()) if power.sum() > 0 else 1.0,
            singular_values=[float(x) for x in svd.s],
        )
    if not choices:
        raise SchemaError("adapter holds no LoRA modules", path=src_dir / ADAPTER_WEIGHTS)
    ranks = {m: c.rank for m, c in choices.items()}
    out_cfg = _variant_config(cfg, ranks)

    staging = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    atomic_write_bytes(staging / ADAPTER_WEIGHTS, save(tensors))
    atomic_write_text(staging / ADAPTER_CONFIG, _config_json(out_cfg))
    adapter_sha256 = sha256_file(staging / ADAPTER_WEIGHTS)
    # The same digest sidecar the train stage writes beside a probe adapter.
    atomic_write_text(
        staging / f"{ADAPTER_WEIGHTS}.sha256", f"{adapter_sha256}  {ADAPTER_WEIGHTS}\n"
    )
    energy = kept_energy / total_energy if total_energy > 0 else 1.0
    summary = VariantSummary(
        variant=spec.name,
        modules=len(choices),
        source_rank=max(c.source_rank for c in choices.values()),
        min_rank=min(ranks.values()),
        max_rank=max(ranks.values()),
        mean_rank=sum(ranks.values()) / len(ranks),
        parameters=params,
        source_parameters=source_params,
        parameter_share=params / source_params,
        energy_kept=energy,
        relative_error=math.sqrt(max(0.0, 1.0 - energy)),
        adapter_sha256=adapter_sha256,
    )
    write_json(
        staging / VARIANT_CARD_FILE,
        {
            **(record or {}),
            "variant": asdict(spec),
            "source_adapter": os.path.relpath(src_dir, root) if root else str(src_dir),
            "source_adapter_sha256": sha256_file(src_dir / ADAPTER_WEIGHTS),
            "summary": asdict(summary),
            "modules": {m: asdict(c) for m, c in choices.items()},
        },
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    return summary


def carry_failure(src_dir: str | Path, out_dir: str | Path, candidate: str) -> str | None:
    """A probe that failed to train gives a variant that records the same failure.

    ``out_dir`` then holds the probe's typed FAILED.json (renamed to ``candidate``) and no
    adapter, so evaluation and the gate report the variant BLOCKED like its probe. Returns
    the failure's status, or None when the probe trained and there is a variant to cut.
    """
    from promgate.train.candidate import FAILED_FILE, read_failure

    failure = read_failure(src_dir)
    if failure is None:
        return None
    out_dir = Path(out_dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    record = failure.model_copy(update={"candidate": candidate})
    write_json(out_dir / FAILED_FILE, record.model_dump(mode="json"))
    return failure.status
