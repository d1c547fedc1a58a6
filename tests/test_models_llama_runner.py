"""LlamaRunner: the block-exact oneDNN linear, the forward pass, the KV cache, the model cache."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from promgate.models.llama_runner import MIN_ROWS, ExactLinear, LlamaRunner


def tiny_llama(attn: str = "sdpa") -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=160,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        tie_word_embeddings=True,
    )
    config._attn_implementation = attn
    return LlamaForCausalLM(config).eval()


def causal_batch(batch: int, length: int, vocab: int):
    ids = torch.randint(3, vocab, (batch, length))
    positions = torch.arange(length).expand(batch, length)
    mask = torch.ones(length, length, dtype=torch.bool).tril()[None, None]
    return ids, positions, mask.expand(batch, 1, length, length)


@pytest.fixture(scope="module")
def block() -> int:
    shapes = [torch.randn(576, 576), torch.randn(576, 1536)]
    found = ExactLinear.calibrate(shapes)
    if found is None:
        pytest.skip("oneDNN does not reproduce torch's linear on this machine")
    return found


@pytest.mark.parametrize("rows", [MIN_ROWS, 40, 333])
@pytest.mark.parametrize("inner", [576, 1536])
def test_exact_linear_is_bitwise_torch_linear(block, rows, inner):
    weight = torch.randn(960, inner)
    x = torch.randn(rows, 1, inner)
    assert torch.equal(ExactLinear(weight, block)(x), torch.nn.functional.linear(x, weight))


def test_exact_linear_tiles_and_small_batches(block):
    weight = torch.randn(2500, 576)
    tiled = ExactLinear(weight, block, tile=1024)  # three tiles, the last a short one
    for rows in (1, MIN_ROWS - 1, 64):
        x = torch.randn(rows, 576)
        assert torch.equal(tiled(x), torch.nn.functional.linear(x, weight))


def test_calibration_refuses_a_block_that_changes_the_sums():
    # A block of one input feature per product cannot be MKL's order for 576 features.
    from promgate.models import llama_runner

    weight = torch.randn(576, 576)
    assert not llama_runner._reproduces(weight, 1, torch.Generator().manual_seed(0))


def test_supports_only_plain_sdpa_llama():
    assert LlamaRunner.supports(tiny_llama())
    assert LlamaRunner.preferred(tiny_llama())  # on the CPU, "auto" takes the runner
    assert not LlamaRunner.supports(tiny_llama(attn="eager"))
    assert not LlamaRunner.supports(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="cannot run"):
        LlamaRunner(tiny_llama(attn="eager"))
    with pytest.raises(ValueError, match="kernel"):
        LlamaRunner(tiny_llama(), kernel="fast")


@pytest.mark.parametrize("kernel", ["auto", "aten"])
def test_tiny_forward_equals_transformers(kernel):
    model = tiny_llama()
    runner = LlamaRunner(model, kernel=kernel)
    ids, positions, mask = causal_batch(3, 9, 300)
    with torch.inference_mode():
        ours = runner.logits(runner.forward(ids, positions, mask))
        theirs = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_cache_writes_in_place_and_compacts_rows():
    model = tiny_llama()
    runner = LlamaRunner(model, kernel="aten")
    ids, positions, mask = causal_batch(3, 10, 300)
    with torch.inference_mode():
        full = runner.logits(runner.forward(ids, positions, mask))
        cache = runner.new_cache(3, 10)
        cache.valid[:] = True
        runner.forward(ids[:, :6], positions[:, :6], mask[:, :, :6, :6], cache, slice(0, 3), 0)
        # Row 2 moves into row 0, as when row 0 finishes: rows 0 and 1 carry on.
        cache.move_rows(torch.tensor([0]), torch.tensor([2]))
        order = torch.tensor([2, 1])
        steps = []
        for column in range(6, 10):
            step = runner.forward(
                ids[order, column : column + 1],
                positions[order, column : column + 1],
                cache.valid[:2, None, None, : column + 1],
                cache,
                rows=slice(0, 2),
                column=column,
            )
            steps.append(runner.logits(step))
    assert torch.allclose(torch.cat(steps, dim=1), full[order, 6:], atol=1e-4)


def test_for_model_reuses_the_runner_until_weights_change():
    model = tiny_llama()
    first = LlamaRunner.for_model(model)
    assert LlamaRunner.for_model(model) is first
    with torch.no_grad():
        model.model.layers[0].mlp.down_proj.weight.mul_(2.0)  # in place: a new version
    rebuilt = LlamaRunner.for_model(model)
    assert rebuilt is not first
    ids, positions, mask = causal_batch(2, 5, 300)
    with torch.inference_mode():
        ours = rebuilt.logits(rebuilt.forward(ids, positions, mask))
        theirs = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.mark.model
@pytest.mark.parametrize("shape", [(3, 20), (16, 40), (1, 7)])
def test_real_model_forward_is_bitwise_transformers(baseline, shape):
    """Same logits to the last bit as transformers' forward, whichever kernel runs."""
    runner = LlamaRunner.for_model(baseline.model)
    ids, positions, mask = causal_batch(*shape, 40000)
    with torch.inference_mode():
        ours = runner.logits(runner.forward(ids, positions, mask))
        theirs = baseline.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    assert torch.equal(ours, theirs), (runner.kernel, (ours - theirs).abs().max())
