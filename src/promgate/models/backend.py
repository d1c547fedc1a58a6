"""The one interface every evaluation backend implements, and the choice of backend.

A backend answers two kinds of request and nothing else: the log-likelihood of a
continuation after a context (multiple choice), and a greedy continuation of a prompt
(generative and code benchmarks). Answer extraction, matching and code execution stay in
``promgate.scoring``, so ``hf`` (transformers in this process), ``openai`` (any
OpenAI-compatible server) and ``predictions`` (files already written) are scored alike.

Requests carry the item id so that errors, journals and the predictions backend can name the
item; cache keys use the request's content only (see ``promgate.scoring.cache``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from promgate.errors import PromgateError

if TYPE_CHECKING:
    from promgate.config import EvalConfig

BACKENDS = ("hf", "openai", "predictions")


class BackendError(PromgateError):
    """A backend could not answer a request (server down, timed out, malformed answer)."""


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Sum of log-probabilities of ``continuation``'s tokens given ``context``."""

    context: str
    continuation: str
    item_id: str = ""
    choice_index: int = 0

    def content(self) -> dict[str, Any]:
        return {"kind": "loglikelihood", "context": self.context, "continuation": self.continuation}


@dataclass(frozen=True)
class GenerationRequest:
    """Greedy continuation of ``prompt``, cut at the first stop string.

    ``chat``: the prompt is one user message, wrapped in the model's chat template (the hf
    backend applies the tokenizer's template; servers receive it on /v1/chat/completions).
    ``temperature`` > 0 asks for a sample instead (nucleus ``top_p``), drawn with ``seed``:
    n samples of one prompt are n requests with n seeds.
    """

    prompt: str
    max_new_tokens: int
    stop: tuple[str, ...] = ()
    chat: bool = False
    item_id: str = ""
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.temperature < 0 or (self.temperature > 0 and self.seed is None):
            raise ValueError(f"{self.item_id}: a sampled request needs temperature > 0 and a seed")

    @property
    def sampled(self) -> bool:
        return self.temperature > 0

    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = {
            "kind": "generate",
            "prompt": self.prompt,
            "max_new_tokens": self.max_new_tokens,
            "stop": list(self.stop),
            "chat": self.chat,
        }
        if self.sampled:  # greedy requests keep the keys they had before sampling existed
            content.update(temperature=self.temperature, top_p=self.top_p, seed=self.seed)
        return content


Request = LoglikelihoodRequest | GenerationRequest


def canonical_hash(obj: Any) -> str:
    """sha256 of an object's canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_hash(*modules: ModuleType) -> str:
    """sha256 of the modules' source files: cached answers die with the code that made them."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class BackendIdentity:
    """What a backend's numbers depend on: the model's bytes and the settings that change them.

    ``model_hash`` is None when the weights cannot be identified (a server that was not told
    its model's hash); such a backend's answers are never cached across runs.
    """

    backend: str
    model_hash: str | None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def cacheable(self) -> bool:
        return self.model_hash is not None

    @property
    def key(self) -> str:
        return canonical_hash(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "model_hash": self.model_hash, "config": self.config}


@runtime_checkable
class Backend(Protocol):
    @property
    def identity(self) -> BackendIdentity: ...

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], description: str = "scoring"
    ) -> list[float]: ...

    def generate(
        self, requests: Sequence[GenerationRequest], description: str = "generating"
    ) -> list[str]: ...


def make_backend(
    cfg: EvalConfig,
    *,
    root: Path,
    model_id: str,
    model_dir: Path | None = None,
    adapter_dir: Path | None = None,
) -> Backend:
    """The backend ``cfg.backend`` names, behind the result cache when it is cacheable."""
    backend: Backend
    if cfg.backend == "hf":
        from promgate.models.hf_backend import HFBackend

        if model_dir is None:
            raise BackendError("the hf backend needs a model folder")
        backend = HFBackend.load(
            model_dir,
            adapter_dir,
            model_id=model_id,
            batch_size=cfg.batch_size,
            threads=cfg.threads,
            device=cfg.device,
        )
    elif cfg.backend == "openai":
        from promgate.models.openai_backend import OpenAIBackend

        journal = _under(root, cfg.openai.journal_dir)
        backend = OpenAIBackend(cfg.openai, model_id=model_id, journal_dir=journal)
    elif cfg.backend == "predictions":
        from promgate.models.predictions import PredictionsBackend

        if cfg.predictions.dir is None:
            from promgate.errors import ConfigError

            raise ConfigError(
                "the predictions backend needs a folder", field="eval.predictions.dir"
            )
        return PredictionsBackend(_under(root, cfg.predictions.dir) / model_id)
    else:  # pragma: no cover - the config schema allows only BACKENDS
        raise BackendError(f"unknown backend {cfg.backend!r}; expected one of {BACKENDS}")
    if cfg.cache and backend.identity.cacheable:
        from promgate.scoring.cache import CachedBackend, ResultCache

        return CachedBackend(backend, ResultCache(_under(root, cfg.cache_dir)))
    return backend


def _under(root: Path, path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else root / path
