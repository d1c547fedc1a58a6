"""The transformers backend behind the ``Backend`` interface.

Log-likelihoods go through ``promgate.scoring.multiple_choice`` (continuations that share a
context are packed after it, so the context is computed once), generation through
``promgate.scoring.generate`` (rows leave the batch as they finish). The identity is the
sha256 of the weights that run: the base folder, plus the adapter's own files when one is
merged in (its training card, which records timings, is left out so a retrained identical
adapter keeps its hash).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

from promgate.errors import ConfigError
from promgate.io import sha256_file, sha256_tree
from promgate.models import hf
from promgate.models.backend import (
    BackendError,
    BackendIdentity,
    GenerationRequest,
    LoglikelihoodRequest,
    source_hash,
)


def resolve_device(name: str) -> str:
    """``auto``: cuda when present, else cpu (fp32 either way)."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("no CUDA device is available", field="eval.device")
    return name


def model_hash(model_dir: str | Path, adapter_dir: str | Path | None = None) -> str:
    digest = hashlib.sha256(sha256_tree(model_dir).encode())
    if adapter_dir is not None:
        files = sorted(Path(adapter_dir).glob("adapter_*"))
        if not files:
            raise BackendError(f"{adapter_dir}: no adapter_* files (a peft adapter folder?)")
        for file in files:
            digest.update(f"\n{file.name}\0{sha256_file(file)}".encode())
    return digest.hexdigest()


class HFBackend:
    def __init__(
        self, loaded: hf.LoadedModel, *, batch_size: int, model_hash: str, dtype: str = "float32"
    ) -> None:
        self.loaded = loaded
        self.batch_size = batch_size
        import torch
        import transformers

        from promgate.scoring import generate, multiple_choice

        device = str(getattr(loaded.model, "device", "cpu"))
        numerics = {
            "dtype": dtype,
            "device": device.split(":")[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "code": source_hash(sys.modules[__name__], hf, multiple_choice, generate),
        }
        self._identity = BackendIdentity("hf", model_hash, numerics)

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        adapter_dir: str | Path | None = None,
        *,
        model_id: str,
        batch_size: int,
        threads: int = 0,
        device: str = "auto",
    ) -> HFBackend:
        loaded = hf.load(model_dir, adapter_dir, model_id=model_id, threads=threads)
        loaded.model.to(resolve_device(device))
        return cls(loaded, batch_size=batch_size, model_hash=model_hash(model_dir, adapter_dir))

    @property
    def identity(self) -> BackendIdentity:
        return self._identity

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], description: str = "scoring"
    ) -> list[float]:
        from promgate.scoring import multiple_choice as mc

        tokenizer = self.loaded.tokenizer
        encoded = []
        for index, request in enumerate(requests):
            ctx, cont = mc.encode_pair(tokenizer, request.context, request.continuation)
            if not cont:
                raise BackendError(
                    f"{request.item_id}: choice {request.choice_index} encodes to no tokens"
                )
            # One request per "item" slot: identical contexts are still packed together.
            encoded.append(mc.ChoiceRequest(index, 0, ctx, cont))
        if not encoded:
            return []
        scores = mc.score_requests(
            self.loaded.model, tokenizer, encoded, self.batch_size, description
        )
        return [scores[(index, 0)] for index in range(len(requests))]

    def generate(
        self, requests: Sequence[GenerationRequest], description: str = "generating"
    ) -> list[str]:
        from promgate.scoring.generate import Sampling, chat_prompt, generate_greedy

        tokenizer = self.loaded.tokenizer
        outputs: list[str] = [""] * len(requests)
        # One decoding pass per distinct (budget, stop strings, sampling); a benchmark has one.
        groups: dict[tuple[int, tuple[str, ...], float, float], list[int]] = {}
        for index, r in enumerate(requests):
            key = (r.max_new_tokens, r.stop, r.temperature, r.top_p if r.sampled else 1.0)
            groups.setdefault(key, []).append(index)
        for (max_new_tokens, stop, temperature, top_p), indices in groups.items():
            prompts = [
                chat_prompt(tokenizer, requests[i].prompt)
                if requests[i].chat
                else requests[i].prompt
                for i in indices
            ]
            sampling = Sampling(temperature, top_p) if temperature > 0 else None
            texts = generate_greedy(
                self.loaded.model,
                tokenizer,
                prompts,
                max_new_tokens=max_new_tokens,
                batch_size=self.batch_size,
                stop=list(stop),
                description=description,
                sampling=sampling,
                seeds=[requests[i].seed or 0 for i in indices] if sampling else None,
            )
            for index, text in zip(indices, texts, strict=True):
                outputs[index] = text
        return outputs
