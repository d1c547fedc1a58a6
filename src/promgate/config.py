"""Configuration: Hydra composition of ``conf/`` into ``params.yaml``, and typed params.

``conf/`` is the source of truth. ``dvc exp run`` composes it through DVC's Hydra
integration; ``dvc repro`` reads the committed ``params.yaml`` as it is, so
``promgate config sync`` writes the same composition and ``promgate config check``
fails when the two disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class ValidationSplitConfig(_Strict):
    """Training documents held out for validation loss (chosen by id hash, not by seed)."""

    fraction: float = Field(default=0.05, ge=0.0, lt=1.0)
    max_examples: int = Field(default=16, ge=0)


class OverfitCheckConfig(_Strict):
    """Mini-overfit sanity check before the real run: a few steps on one tiny batch."""

    steps: int = Field(default=4, ge=0)  # 0 turns the check off
    examples: int = Field(default=2, ge=1)
    min_drop: float = Field(default=0.05, ge=0.0, lt=1.0)  # loss must fall by this share


class TrainConfig(_Strict):
    steps: int = Field(ge=1)
    batch_size: int = Field(ge=1)
    max_length: int = Field(ge=8)
    learning_rate: float = Field(gt=0.0)
    warmup_steps: int = 0
    lora: LoraConfig
    # Divergence guard: a loss above this multiple of the first step's loss stops the run
    # (a NaN or infinite loss or gradient always does).
    max_loss_ratio: float = Field(default=10.0, gt=1.0)
    validation: ValidationSplitConfig = Field(default_factory=ValidationSplitConfig)
    overfit_check: OverfitCheckConfig = Field(default_factory=OverfitCheckConfig)
    # Stage repro_check re-runs this many steps of the first seed and compares them.
    repro_steps: int = Field(default=2, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"


class OpenAIConfig(_Strict):
    """An OpenAI-compatible server (vLLM, TGI, llama.cpp server, ``promgate serve``)."""

    base_url: str = "http://127.0.0.1:8000/v1"
    # The served model's name; ``{model_id}`` becomes baseline / lora-s<seed>, which is how
    # vLLM names LoRA adapters it serves beside the base (--lora-modules NAME=PATH).
    model: str = "{model_id}"
    concurrency: int = Field(default=4, ge=1)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)  # doubles after each failed attempt
    token_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    # sha256 of the served weights; without it answers are not cached across runs.
    model_hash: str | None = None
    journal_dir: str = ".promgate/journal"  # write-ahead journal: a rerun resumes a crash


class PredictionsConfig(_Strict):
    # <dir>/<model_id>/<benchmark>.jsonl, one line per item (see promgate.models.predictions)
    dir: str | None = None


class CodeSamplingConfig(_Strict):
    """Samples per code item for unbiased pass@k (Chen et al., 2021): pass@k needs n >= k.

    n = 1 is one greedy answer (pass@1 only); n > 1 draws n answers at ``temperature`` with
    nucleus ``top_p``, each from its own seed derived from ``seed`` and the item id.
    """

    n: int = Field(default=1, ge=1)
    temperature: float = Field(default=0.8, gt=0.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    seed: int = 1234


class EvalConfig(_Strict):
    batch_size: int
    max_new_tokens: dict[str, int]
    code_timeout_s: float
    threads: int
    # How code items are asked: "completion" (the upstream prompt, continued) or "chat" (an
    # instruction in the model's chat template; the code comes from the fenced block of the
    # answer). See promgate.scoring.code_prompt.
    code_prompt: Literal["completion", "chat"] = "completion"
    code_sampling: CodeSamplingConfig = Field(default_factory=CodeSamplingConfig)
    backend: Literal["hf", "openai", "predictions"] = "hf"
    device: Literal["auto", "cpu", "cuda"] = "auto"  # hf backend: cuda when present, else cpu
    # Content-addressed answers keyed by model hash, request and scoring settings: a rerun, or
    # another seed evaluating the same model, asks the model nothing twice.
    cache: bool = True
    cache_dir: str = ".promgate/cache"
    openai: OpenAIConfig = Field(default_factory=OpenAIConfig)
    predictions: PredictionsConfig = Field(default_factory=PredictionsConfig)


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


class VariantsConfig(_Strict):
    """Compression variants cut from each seed's probe adapter (promgate.train.variants)."""

    names: list[str] = Field(default_factory=list)  # per_layer, uniform_r<k>
    energy: float = Field(default=0.9, gt=0.0, le=1.0)  # per_layer's kept energy share

    @field_validator("names")
    @classmethod
    def _known_names(cls, names: list[str]) -> list[str]:
        from promgate.train.variants import parse_variant

        if len(set(names)) != len(names):
            raise ValueError(f"variant names repeat: {names}")
        for name in names:
            try:
                parse_variant(name, 1.0)
            except ConfigError as exc:
                raise ValueError(exc.detail) from exc
        return names


class CertificationConfig(_Strict):
    """The policy every recipe (the probe and each variant) is certified under across seeds."""

    policy: dict[str, Any]


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
    # Defaulted so params recorded before variants and certification existed still load
    # (and recompute to the gate outputs they gave then).
    variants: VariantsConfig = Field(default_factory=VariantsConfig)
    certification: CertificationConfig | None = None

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
