"""LoRA training on the real model: deterministic per seed, guarded, mergeable."""

import json

import pytest
import torch

from promgate.config import LoraConfig, TrainConfig
from promgate.train.lora import train_lora

pytestmark = pytest.mark.model

CFG = TrainConfig(
    steps=2,
    batch_size=2,
    max_length=48,
    learning_rate=1e-3,
    lora=LoraConfig(r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]),
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    rows = [
        {
            "id": f"c/{i}",
            "prompt": f"Question: What is {i} + {i}?\nAnswer:",
            "response": f" {i} + {i} = {2 * i}. #### {2 * i}",
        }
        for i in range(8)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_same_seed_same_curve_and_adapter(base_model_dir, corpus, tmp_path):
    a = train_lora(base_model_dir, corpus, CFG, 7, tmp_path / "a", tmp_path / "live", threads=2)
    b = train_lora(base_model_dir, corpus, CFG, 7, tmp_path / "b", None, threads=2)
    c = train_lora(base_model_dir, corpus, CFG, 8, tmp_path / "c", None, threads=2)
    assert (a.first_loss, a.final_loss, a.adapter_sha256) == (
        b.first_loss,
        b.final_loss,
        b.adapter_sha256,
    )
    assert a.adapter_sha256 != c.adapter_sha256
    card = json.loads((tmp_path / "a" / "promgate-train.json").read_text())
    assert card["seed"] == 7 and card["config"]["steps"] == 2
    assert (tmp_path / "live" / "metrics.json").exists()


def test_merged_adapter_matches_unmerged(base_model_dir, corpus, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    train_lora(base_model_dir, corpus, CFG, 3, tmp_path / "ad", None, threads=2)
    base = AutoModelForCausalLM.from_pretrained(base_model_dir, dtype=torch.float32)
    unmerged = PeftModel.from_pretrained(base, str(tmp_path / "ad")).eval()
    batch = torch.tensor([[1, 504, 3077, 314, 253, 1789, 30]])
    with torch.inference_mode():
        expected = unmerged(batch).logits
        merged = unmerged.merge_and_unload()
        actual = merged(batch).logits
    assert torch.max(torch.abs(expected - actual)).item() < 1e-4


def test_corrupt_corpus_line_is_named(base_model_dir, tmp_path):
    from promgate.errors import SchemaError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "prompt": "p", "response": "r"}\n{"id": "y", "prompt": "p"}\n')
    with pytest.raises(SchemaError, match=r"line 2.*'response'"):
        train_lora(base_model_dir, bad, CFG, 1, tmp_path / "out", None)
