"""A lean forward pass for Llama-family models, with a preallocated KV cache.

transformers' forward is general; on a 2-core CPU three of its costs dominate evaluation:
the dynamic cache concatenates every layer's keys and values at every step (a full copy
of the cache per generated token), each step builds its masks and cache objects again,
and fp32 ``nn.Linear`` goes to MKL, which on non-Intel CPUs runs its AVX2 kernels (oneDNN's
AVX-512 kernels do the same products about twice as fast on this machine). This runner
calls the model's own modules (norms, rotary embedding) and weights in the order
transformers does, writes keys and values in place into one preallocated buffer, and runs
fp32 linears on CPU through oneDNN. Only the order of floating-point additions inside a
matrix product changes: log-likelihoods agree with transformers to ~1e-5.

``LlamaRunner.supports(model)`` says whether a model can run here; callers keep the
transformers path for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass


def _onednn_linear():
    """fp32 x @ W.T through oneDNN, or None where this torch has no oneDNN build."""
    import torch

    op = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available():
        return None

    def linear(x, weight):
        return op(x, weight, None, "none", [], "")

    return linear


@dataclass
class KVCache:
    """Keys and values of every layer for ``rows`` sequences of up to ``width`` positions.

    ``data[layer, 0|1, row, kv_head, column]``; a row's tokens sit at ``start[row]`` onward
    (left padding) and ``valid[row, column]`` says which columns it may attend to.
    """

    data: object  # torch.Tensor (layers, 2, rows, kv_heads, width, head_dim)
    valid: object  # torch.Tensor bool (rows, width)
    start: object  # torch.Tensor long (rows,)

    def move_rows(self, targets, sources) -> None:
        """Copy rows ``sources`` onto rows ``targets`` (compaction as sequences finish)."""
        self.data[:, :, targets] = self.data[:, :, sources]
        self.valid[targets] = self.valid[sources]
        self.start[targets] = self.start[sources]


class LlamaRunner:
    """Forward passes of a transformers Llama model over a ``KVCache``."""

    def __init__(self, model, kernel: str = "auto") -> None:
        """``kernel``: "onednn" or "aten" (torch's own linear); "auto" takes oneDNN on CPU."""
        import torch

        if not self.supports(model):
            raise ValueError(f"{type(model).__name__} cannot run in LlamaRunner")
        self.model = model
        cfg = model.config
        self.inner = model.model
        self.layers = list(self.inner.layers)
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.scaling = self.head_dim**-0.5
        self.device = model.lm_head.weight.device
        self.dtype = model.lm_head.weight.dtype
        if kernel not in ("auto", "onednn", "aten"):
            raise ValueError(f"kernel must be auto, onednn or aten, got {kernel!r}")
        onednn = None
        if kernel != "aten" and self.device.type == "cpu":
            onednn = _onednn_linear()
        if kernel == "onednn" and onednn is None:
            raise ValueError("oneDNN linears need a CPU model and a torch built with oneDNN")
        self.linear = onednn or torch.nn.functional.linear
        self.kernel = "onednn" if onednn else "aten"

    @staticmethod
    def supports(model) -> bool:
        """Plain (merged, unquantised) Llama with SDPA attention, default RoPE, SiLU MLP."""
        cfg = getattr(model, "config", None)
        if cfg is None or type(model).__name__ != "LlamaForCausalLM":
            return False
        rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
        return (
            getattr(model, "hf_quantizer", None) is None
            and getattr(cfg, "_attn_implementation", None) == "sdpa"
            and rope.get("rope_type", "default") == "default"
            and cfg.hidden_act == "silu"
            and not cfg.attention_bias
            and not getattr(cfg, "mlp_bias", False)
            and getattr(cfg, "pretraining_tp", 1) == 1
        )

    def new_cache(self, rows: int, width: int) -> KVCache:
        import torch

        shape = (len(self.layers), 2, rows, self.kv_heads, width, self.head_dim)
        return KVCache(
            data=torch.zeros(shape, dtype=self.dtype, device=self.device),
            valid=torch.zeros((rows, width), dtype=torch.bool, device=self.device),
            start=torch.zeros(rows, dtype=torch.long, device=self.device),
        )

    def forward(
        self, ids, positions, mask, cache: KVCache | None = None, rows=None, column=0, first=0
    ):
        """Final hidden states (after the last norm) of ``ids`` (batch, q).

        ``mask`` (batch, 1, q, keys) is boolean. With a cache, the new keys and values are
        written at columns ``column:column + q`` of cache rows ``rows`` (a slice) and the
        queries attend to columns ``first:column + q``; without one, to the new tokens only.
        """
        from torch.nn.functional import scaled_dot_product_attention, silu
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        batch, q = ids.shape
        linear = self.linear
        hidden = self.inner.embed_tokens(ids)
        cos, sin = self.inner.rotary_emb(hidden, positions)
        end = column + q
        groups = self.heads // self.kv_heads
        for index, layer in enumerate(self.layers):
            attn = layer.self_attn
            x = layer.input_layernorm(hidden)
            query = linear(x, attn.q_proj.weight).view(batch, q, -1, self.head_dim).transpose(1, 2)
            key = linear(x, attn.k_proj.weight).view(batch, q, -1, self.head_dim).transpose(1, 2)
            value = linear(x, attn.v_proj.weight).view(batch, q, -1, self.head_dim).transpose(1, 2)
            query, key = apply_rotary_pos_emb(query, key, cos, sin)
            if cache is not None:
                cache.data[index, 0, rows, :, column:end] = key
                cache.data[index, 1, rows, :, column:end] = value
                key = cache.data[index, 0, rows, :, first:end]
                value = cache.data[index, 1, rows, :, first:end]
            if q == 1:
                # One query: its heads that share a key head become that head's queries, as
                # transformers' SDPA path does, instead of repeating the keys.
                out = scaled_dot_product_attention(
                    query.reshape(batch, self.kv_heads, groups, self.head_dim),
                    key,
                    value,
                    attn_mask=mask,
                    scale=self.scaling,
                )
                out = out.reshape(batch, -1, 1, self.head_dim)
            else:
                out = scaled_dot_product_attention(
                    query,
                    _repeat_kv(key, groups),
                    _repeat_kv(value, groups),
                    attn_mask=mask,
                    scale=self.scaling,
                )
            out = out.transpose(1, 2).contiguous().reshape(batch, q, -1)
            hidden = hidden + linear(out, attn.o_proj.weight)
            x = layer.post_attention_layernorm(hidden)
            mlp = layer.mlp
            inner = silu(linear(x, mlp.gate_proj.weight)) * linear(x, mlp.up_proj.weight)
            hidden = hidden + linear(inner, mlp.down_proj.weight)
        return self.inner.norm(hidden)

    def logits(self, hidden):
        return self.linear(hidden, self.model.lm_head.weight)


def _repeat_kv(states, groups: int):
    batch, heads, length, dim = states.shape
    if groups == 1:
        return states
    expanded = states[:, :, None].expand(batch, heads, groups, length, dim)
    return expanded.reshape(batch, heads * groups, length, dim)
