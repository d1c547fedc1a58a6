"""The backend interface: config picks the backend, identities name the weights, and the hf
backend through the runner gives what the scoring modules give directly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from promgate.errors import ConfigError
from promgate.models import hf, hf_backend
from promgate.models.backend import Backend, BackendError, make_backend, source_hash
from promgate.models.hf_backend import HFBackend, model_hash
from promgate.models.openai_backend import OpenAIBackend
from promgate.models.predictions import PredictionsBackend
from promgate.results import read_results
from promgate.scoring import generate, multiple_choice
from promgate.scoring.cache import CachedBackend
from promgate.scoring.runner import choice_scores, evaluate_model
from serve_helpers import MC_ITEMS, eval_config


def _folder(root, files: dict[str, bytes]):
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def test_model_hash_covers_base_and_adapter_weights_not_the_training_card(tmp_path):
    base = _folder(tmp_path / "base", {"config.json": b"{}", "model.safetensors": b"w1"})
    adapter = _folder(
        tmp_path / "lora",
        {"adapter_config.json": b"{}", "adapter_model.safetensors": b"a1", "card.json": b"t=1"},
    )
    digest = model_hash(base, adapter)
    assert digest != model_hash(base)
    (adapter / "card.json").write_bytes(b"t=2")  # timings of a retraining
    assert model_hash(base, adapter) == digest
    (adapter / "adapter_model.safetensors").write_bytes(b"a2")
    assert model_hash(base, adapter) != digest
    before = model_hash(base)
    (base / "model.safetensors").write_bytes(b"w2")
    assert model_hash(base) != before
    with pytest.raises(BackendError, match="no adapter_"):
        model_hash(base, _folder(tmp_path / "empty", {}))


def test_config_selects_the_backend_and_the_cache(tmp_path):
    openai = make_backend(eval_config(backend="openai", cache=True), root=tmp_path, model_id="b")
    assert isinstance(openai, OpenAIBackend)  # no model hash given: never cached
    assert openai.model == "b"  # "{model_id}" names the served model (vLLM's LoRA names)
    assert openai.journal_dir == tmp_path / ".promgate/journal"

    cfg = eval_config(backend="openai", cache=True, openai={"model_hash": "f" * 64})
    cached = make_backend(cfg, root=tmp_path, model_id="b")
    assert isinstance(cached, CachedBackend) and isinstance(cached.inner, OpenAIBackend)
    assert (tmp_path / ".promgate/cache/answers.sqlite").exists()

    (tmp_path / "preds" / "lora-s42").mkdir(parents=True)
    cfg = eval_config(backend="predictions", cache=True, predictions={"dir": "preds"})
    predictions = make_backend(cfg, root=tmp_path, model_id="lora-s42")
    assert isinstance(predictions, PredictionsBackend)  # looked up by item id: never cached
    assert isinstance(predictions, Backend)

    with pytest.raises(ConfigError, match=r"eval\.predictions\.dir"):
        make_backend(eval_config(backend="predictions"), root=tmp_path, model_id="b")
    with pytest.raises(ValidationError):
        eval_config(backend="vllm")


def test_defaults_keep_params_written_before_backends_existed():
    cfg = eval_config()
    assert cfg.backend == "hf" and cfg.openai.concurrency == 4 and cfg.predictions.dir is None


@pytest.mark.model
def test_hf_backend_through_the_runner_equals_direct_scoring(baseline, base_model_dir, tmp_path):
    backend = make_backend(
        eval_config(cache=False), root=tmp_path, model_id="baseline", model_dir=base_model_dir
    )
    assert isinstance(backend, HFBackend)
    assert backend.identity.model_hash == model_hash(base_model_dir)
    config = backend.identity.config
    assert (config["dtype"], config["device"]) == ("float32", "cpu")
    # The code that computes answers is part of the identity: a fix invalidates the cache.
    assert config["code"] == source_hash(hf_backend, hf, multiple_choice, generate)

    via_backend = choice_scores(backend, MC_ITEMS, "tiny")
    direct = multiple_choice.score_items(baseline.model, baseline.tokenizer, MC_ITEMS, 8)
    for a, b in zip(via_backend, direct, strict=True):
        assert a.logprobs == b.logprobs  # the same packed batches, bit for bit
        assert a.continuation_chars == b.continuation_chars

    summary = evaluate_model(
        backend,
        {"tiny": MC_ITEMS},
        eval_config(),
        tmp_path / "r",
        tmp_path / "m.json",
        model_id="baseline",
    )
    assert summary["backend"] == "hf" and summary["model_sha256"] == model_hash(base_model_dir)
    results = read_results(tmp_path / "r" / "tiny.jsonl")
    assert [r.id for r in results] == [item.id for item in MC_ITEMS]
    assert [r.correct for r in results[:2]] == [True, True]
