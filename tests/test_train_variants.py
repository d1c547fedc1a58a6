"""Compression variants: truncated SVD of each LoRA update, saved as peft adapters that load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from promgate.errors import ConfigError, MissingEvidenceError
from promgate.train.variants import (
    ADAPTER_CONFIG,
    VARIANT_CARD_FILE,
    compress_adapter,
    parse_variant,
    rank_for_energy,
    truncated_factors,
    update_svd,
)

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["q_proj", "v_proj", "down_proj"]


def _factors(rng, out=40, inp=24, r=8, decay=0.6):
    """B (out×r), A (r×in) whose update has a decaying spectrum, so ranks differ by energy."""
    a = rng.normal(size=(r, inp))
    b = rng.normal(size=(out, r)) * decay ** np.arange(r)[None, :]
    return a, b


def test_svd_matches_numpy_and_truncation_error_is_the_tail():
    rng = np.random.default_rng(0)
    a, b = _factors(rng)
    scaling = 2.0
    delta = scaling * b @ a
    svd = update_svd(a, b, scaling)
    expected = np.linalg.svd(delta, compute_uv=False)[:8]
    np.testing.assert_allclose(svd.s, expected, rtol=1e-10)
    for k in (1, 3, 5, 8):
        new_a, new_b = truncated_factors(svd, k)
        assert new_a.shape == (k, 24) and new_b.shape == (40, k)
        err = np.linalg.norm(delta - new_b @ new_a) ** 2
        # Eckart–Young: the best rank-k error is the energy of the dropped singular values.
        assert err == pytest.approx(float((expected[k:] ** 2).sum()), rel=1e-9, abs=1e-18)
        u, s, vt = np.linalg.svd(delta)
        best = (u[:, :k] * s[:k]) @ vt[:k]
        np.testing.assert_allclose(new_b @ new_a, best, atol=1e-10)


def test_rank_for_energy_is_the_smallest_rank_reaching_the_share():
    s = np.array([3.0, 2.0, 1.0])  # squared: 9, 4, 1 of 14
    assert rank_for_energy(s, 0.5) == 1  # 9/14 = 0.643
    assert rank_for_energy(s, 9 / 14) == 1  # exactly reached counts
    assert rank_for_energy(s, 0.9) == 2  # 13/14 = 0.929
    assert rank_for_energy(s, 0.95) == 3
    assert rank_for_energy(s, 1.0) == 3
    assert rank_for_energy(np.zeros(4), 0.9) == 1


def test_variant_names_parse_or_fail_naming_the_field():
    assert parse_variant("uniform_r20", 0.9).rank == 20
    assert parse_variant("per_layer", 0.8).energy == 0.8
    with pytest.raises(ConfigError, match=r"variants\.names.*unknown variant 'uniform_r0'"):
        parse_variant("uniform_r0", 0.9)
    with pytest.raises(ConfigError, match=r"variants\.energy"):
        parse_variant("per_layer", 1.5)


def _save_probe(base_dir: Path, out: Path, r: int, seed: int = 0) -> None:
    """A peft adapter on the real base with non-zero, decaying B factors (no training needed)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(r=r, lora_alpha=2 * r, target_modules=MODULES, task_type="CAUSAL_LM")
    model = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(seed)
    for i, (name, module) in enumerate(model.named_modules()):
        if name.endswith("lora_B.default"):
            decay = (0.3 + 0.6 * ((i * 7) % 10) / 10) ** torch.arange(r, dtype=torch.float32)
            module.weight.data = 0.02 * torch.randn(module.weight.shape, generator=gen) * decay
    model.save_pretrained(out)


@pytest.fixture(scope="module")
def base_dir(request) -> Path:
    local = ROOT / "models" / "base"
    if (local / "config.json").is_file() and (local / "model.safetensors").is_file():
        return local
    return request.getfixturevalue("base_model_dir")


@pytest.fixture(scope="module")
def probe(base_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("probe") / "lora-s1"
    _save_probe(base_dir, out, r=8)
    return out


def _deltas(adapter: Path) -> dict[str, np.ndarray]:
    """Each module's scaled update, read back through peft's own config (patterns included)."""
    from peft import LoraConfig
    from peft.utils.other import get_pattern_key
    from safetensors.torch import load_file

    cfg = LoraConfig.from_pretrained(str(adapter))
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    out = {}
    for key in tensors:
        if key.endswith("lora_A.weight"):
            module = key.removeprefix("base_model.model.").removesuffix(".lora_A.weight")
            r = cfg.rank_pattern.get(get_pattern_key(cfg.rank_pattern.keys(), module), cfg.r)
            alpha = cfg.alpha_pattern.get(
                get_pattern_key(cfg.alpha_pattern.keys(), module), cfg.lora_alpha
            )
            b = tensors[key.replace("lora_A", "lora_B")].double().numpy()
            out[module] = (alpha / r) * b @ tensors[key].double().numpy()
    return out


@pytest.mark.model
def test_full_rank_truncation_reproduces_the_update(probe, tmp_path):
    compress_adapter(probe, parse_variant("uniform_r8", 0.9), tmp_path / "r8")
    before, after = _deltas(probe), _deltas(tmp_path / "r8")
    assert set(before) == set(after) and len(before) == 30 * len(MODULES)
    worst = max(float(np.abs(before[m] - after[m]).max()) for m in before)
    assert worst < 1e-5


@pytest.mark.model
def test_uniform_variant_keeps_the_best_rank_k_update(probe, tmp_path):
    summary = compress_adapter(probe, parse_variant("uniform_r3", 0.9), tmp_path / "r3")
    cfg = json.loads((tmp_path / "r3" / ADAPTER_CONFIG).read_text())
    assert (cfg["r"], cfg["lora_alpha"], cfg["rank_pattern"]) == (3, 3, {})
    assert summary.min_rank == summary.max_rank == 3
    before, after = _deltas(probe), _deltas(tmp_path / "r3")
    tail = total = 0.0
    for module, delta in before.items():
        s = np.linalg.svd(delta, compute_uv=False)
        residual = np.linalg.norm(delta - after[module]) ** 2
        assert residual == pytest.approx(float((s[3:] ** 2).sum()), rel=1e-4)
        tail += float((s[3:] ** 2).sum())
        total += float((s**2).sum())
    assert summary.relative_error == pytest.approx(np.sqrt(tail / total), rel=1e-6)
    assert summary.parameter_share == pytest.approx(3 / 8)


def _manual_logits(base_dir: Path, deltas: dict[str, np.ndarray], batch: torch.Tensor):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, delta in deltas.items():
            modules[name].weight += torch.from_numpy(delta).float()
        return model(batch).logits


@pytest.mark.model
def test_per_layer_variant_loads_in_peft_with_its_own_rank_per_module(base_dir, probe, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    energy = 0.9
    out = tmp_path / "lora-s1-per_layer"
    summary = compress_adapter(probe, parse_variant("per_layer", energy), out, record={"seed": 1})
    # Expected ranks and updates, from numpy's SVD of the full update, independently.
    expected: dict[str, np.ndarray] = {}
    ranks: dict[str, int] = {}
    for module, delta in _deltas(probe).items():
        u, s, vt = np.linalg.svd(delta, full_matrices=False)
        share = np.cumsum(s**2) / (s**2).sum()
        ranks[module] = next(i + 1 for i, v in enumerate(share) if v >= energy - 1e-12)
        expected[module] = (u[:, : ranks[module]] * s[: ranks[module]]) @ vt[: ranks[module]]
    assert len(set(ranks.values())) > 1  # the fixture's spectra really differ
    assert (summary.min_rank, summary.max_rank) == (min(ranks.values()), max(ranks.values()))
    card = json.loads((out / VARIANT_CARD_FILE).read_text())
    assert card["seed"] == 1 and card["variant"]["energy"] == energy
    assert {m: c["rank"] for m, c in card["modules"].items()} == ranks

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, str(out)).eval()
    built = {
        name.removeprefix("base_model.model.").removesuffix(".lora_A.default"): m.weight.shape[0]
        for name, m in peft_model.named_modules()
        if name.endswith("lora_A.default")
    }
    assert built == ranks
    batch = torch.tensor([[1, 504, 3077, 314, 253, 1789, 30, 2476, 28]])
    with torch.inference_mode():
        got = peft_model(batch).logits
    want = _manual_logits(base_dir, expected, batch)
    assert torch.max(torch.abs(got - want)).item() < 1e-4
    # ... and the variant is not the probe: the dropped energy changes the logits.
    full = _manual_logits(base_dir, _deltas(probe), batch)
    assert torch.max(torch.abs(got - full)).item() > 1e-4


@pytest.mark.model
def test_rank_above_the_source_and_missing_adapters_are_refused(probe, tmp_path):
    with pytest.raises(ConfigError, match=r"asks rank 16 .* has rank 8"):
        compress_adapter(probe, parse_variant("uniform_r16", 0.9), tmp_path / "r16")
    assert not (tmp_path / "r16").exists()
    with pytest.raises(MissingEvidenceError, match=r"adapter_model\.safetensors"):
        compress_adapter(tmp_path / "nothing", parse_variant("uniform_r2", 0.9), tmp_path / "x")


@pytest.mark.model
def test_same_input_same_bytes(probe, tmp_path):
    a = compress_adapter(probe, parse_variant("per_layer", 0.8), tmp_path / "a")
    b = compress_adapter(probe, parse_variant("per_layer", 0.8), tmp_path / "b")
    assert a.adapter_sha256 == b.adapter_sha256
    assert (tmp_path / "a" / ADAPTER_CONFIG).read_bytes() == (
        tmp_path / "b" / ADAPTER_CONFIG
    ).read_bytes()


def test_a_failed_probe_gives_a_variant_recording_the_same_failure(tmp_path):
    from promgate.train.candidate import FAILED_FILE, read_failure
    from promgate.train.variants import carry_failure

    probe = tmp_path / "lora-s7"
    failure = {
        "status": "diverged",
        "candidate": "lora-s7",
        "seed": 7,
        "error": "TrainingDivergedError",
        "failure": {
            "kind": "diverged",
            "phase": "train",
            "cause": "nonfinite_loss",
            "step": 3,
            "loss": None,
            "loss_text": "nan",
            "message": "loss is nan at step 3",
        },
        "metrics_file": "metrics/train/lora-s7.json",
    }
    probe.mkdir()
    (probe / FAILED_FILE).write_text(json.dumps(failure))
    out = tmp_path / "lora-s7-per_layer"
    out.mkdir()
    (out / "adapter_model.safetensors").write_text("stale")
    assert carry_failure(probe, out, "lora-s7-per_layer") == "diverged"
    carried = read_failure(out)
    assert carried is not None and carried.candidate == "lora-s7-per_layer"
    assert carried.failure.message == "loss is nan at step 3"
    assert sorted(p.name for p in out.iterdir()) == [FAILED_FILE]  # no stale adapter beside it
    assert carry_failure(tmp_path / "trained", out, "x") is None
