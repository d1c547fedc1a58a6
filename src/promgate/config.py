"""Configuration: Hydra composition of ``conf/`` into ``params.yaml``, and typed params.

``conf/`` is the source of truth. ``dvc exp run`` composes it through DVC's Hydra
integration; ``dvc repro`` reads the committed ``params.yaml`` as it is, so
``promgate config sync`` writes the same composition and ``promgate config check``
fails when the two disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promgate.errors import ConfigError
from promgate.io import atomic_write_text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(_Strict):
    name: str
    package: str
    gguf_file: str
    gguf_sha256: str
    dtype: str = "float32"


class DataConfig(_Strict):
    benchmarks: list[str]
    n_per_benchmark: int
    generative: list[str] = Field(default_factory=list)
    n_generative: int = -1
    n_overrides: dict[str, int] = Field(default_factory=dict)
    sample_seed: int
    train_sources: list[str]
    train_examples: int


class LoraConfig(_Strict):
    r: int
    alpha: int
    dropout: float
    target_modules: list[str]


class TrainConfig(_Strict):
    steps: int
    batch_size: int
    max_length: int
    learning_rate: float
    warmup_steps: int = 0
    lora: LoraConfig


class EvalConfig(_Strict):
    batch_size: int
    max_new_tokens: dict[str, int]
    code_timeout_s: float
    threads: int


class NgramConfig(_Strict):
    # An eval item is flagged when at least this share of its distinct n-grams occurs in the
    # corpus; 0.0 means any single shared n-gram (lm-eval-harness's 13-gram rule).
    min_fraction: float = Field(ge=0.0, le=1.0)


class MinhashConfig(_Strict):
    num_perm: int = Field(default=128, ge=16)
    seed: int = 1
    shingle: int = Field(default=3, ge=1)  # words per shingle
    threshold: float = Field(default=0.8, gt=0.0, le=1.0)  # estimated Jaccard of a near dup


class EmbeddingConfig(_Strict):
    enabled: bool = True
    threshold: float = Field(default=0.85, gt=0.0, le=1.0)  # MISO: similarity < 0.85
    batch_size: int = Field(default=64, ge=1)
    max_seq_length: int = Field(default=128, ge=8)


class ContaminationLimits(_Strict):
    """MISO contract limits per benchmark, reported beside each rate (the gate has its own)."""

    ngram8_rate: float = 0.10
    dedupe_rate: float = 0.05
    semantic_similarity: float = 0.85


class ContaminationConfig(_Strict):
    ngram8: NgramConfig = Field(default_factory=lambda: NgramConfig(min_fraction=0.5))
    ngram13: NgramConfig = Field(default_factory=lambda: NgramConfig(min_fraction=0.0))
    minhash: MinhashConfig = Field(default_factory=MinhashConfig)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    limits: ContaminationLimits = Field(default_factory=ContaminationLimits)
    remove_contaminated: bool = True  # drop flagged training documents from clean.jsonl
    review_fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    review_seed: int = 7
    batch_docs: int = Field(default=2048, ge=1)
    perturb_seed: int = 2025  # the contamination-resistant suite's permutations and numbers


class Params(_Strict):
    profile: str
    seeds: list[int]
    data: DataConfig
    train: TrainConfig
    eval: EvalConfig
    model: ModelConfig
    policy: dict[str, Any]
    # Defaulted so params recorded before the contamination stage existed still load.
    contamination: ContaminationConfig = Field(default_factory=ContaminationConfig)

    def n_for(self, benchmark: str) -> int:
        """Sample size for a benchmark: its override, else the generative or the default size."""
        if benchmark in self.data.n_overrides:
            return self.data.n_overrides[benchmark]
        if benchmark in self.data.generative:
            return self.data.n_generative
        return self.data.n_per_benchmark


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    if not path.exists():
        raise ConfigError("params file not found; run `promgate config sync`", path=path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(err["msg"], path=path, field=field) from exc


def compose(conf_dir: str | Path = "conf", overrides: list[str] | None = None) -> str:
    """Compose ``conf/`` exactly as DVC's Hydra integration does, as YAML text."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    conf_dir = Path(conf_dir).resolve()
    with initialize_config_dir(str(conf_dir), version_base=None):
        cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    OmegaConf.resolve(cfg)
    return OmegaConf.to_yaml(cfg)


def sync(root: str | Path = ".", overrides: list[str] | None = None) -> Path:
    root = Path(root)
    target = root / "params.yaml"
    atomic_write_text(target, compose(root / "conf", overrides))
    return target


def out_of_sync_keys(root: str | Path = ".", overrides: list[str] | None = None) -> list[str]:
    """Dotted keys where params.yaml differs from the composition of conf/ (empty if in sync)."""
    root = Path(root)
    expected = yaml.safe_load(compose(root / "conf", overrides))
    params_path = root / "params.yaml"
    actual = yaml.safe_load(params_path.read_text(encoding="utf-8")) if params_path.exists() else {}
    return _diff_keys(expected, actual or {})


def _diff_keys(expected: Any, actual: Any, prefix: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        keys = sorted(set(expected) | set(actual), key=str)
        diffs: list[str] = []
        for key in keys:
            sub = f"{prefix}.{key}" if prefix else str(key)
            if key not in expected or key not in actual:
                diffs.append(sub)
            else:
                diffs.extend(_diff_keys(expected[key], actual[key], sub))
        return diffs
    return [] if expected == actual else [prefix or "<root>"]
