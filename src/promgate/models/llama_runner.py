"""A lean forward pass for Llama-family models, with a preallocated KV cache.

transformers' forward is general; on a 2-core CPU three of its costs dominate evaluation:
the dynamic cache concatenates every layer's keys and values at every step (a full copy
of the cache per generated token), each step rebuilds masks and cache bookkeeping, and fp32
``nn.Linear`` goes to MKL, which on this AMD CPU runs kernels about half as fast as
oneDNN's. The runner calls the model's own modules (embedding, norms, rotary embedding)
and weights in transformers' order, writes keys and values in place into one buffer, and
runs the linears through oneDNN *in MKL's floating-point order*: MKL sums the inner
dimension in blocks (192 wide here) and adds the blocks' products in turn, so oneDNN run
block by block, each block's product added to the last, gives bit-identical results.
``ExactLinear.calibrate`` checks that on the weights at hand and picks the block width;
where no width reproduces ``torch.nn.functional.linear`` bit for bit, torch's linear is
used as is. Numbers are therefore those of the transformers path; what still differs is
the batch a row is computed in (attention over another padded width), as with any change
of batch size.

``LlamaRunner.supports(model)`` says whether a model can run here; callers keep the
transformers path for anything else.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

MIN_ROWS = 12  # below this MKL takes other code paths (and splits the sum across threads)
BLOCKS = (192, 256, 128, 384, 96, 64, 512)  # inner-dimension widths tried, most likely first
HEAD_TILE = 4096  # output columns per LM-head product: a tile of logits stays in cache


def _onednn_op():
    import torch

    op = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available() or not hasattr(op, "binary"):
        return None
    return op


class ExactLinear:
    """``x @ weight.T`` through oneDNN, in blocks of ``block`` input features added in turn.

    Holds contiguous copies of the weight's column blocks (oneDNN re-lays out strided
    weights on every call). Inputs with fewer than ``MIN_ROWS`` rows go to torch's linear.
    """

    def __init__(self, weight, block: int, tile: int | None = None) -> None:
        self.weight = weight
        self.block = block
        width = weight.shape[0]
        step = tile or width
        self.tiles = [
            [
                weight[n : n + step, k : k + block].contiguous()
                for k in range(0, weight.shape[1], block)
            ]
            for n in range(0, width, step)
        ]
        self.step = step
        self.op = _onednn_op()

    def __call__(self, x):
        import torch

        if x.numel() // x.shape[-1] < MIN_ROWS:
            return torch.nn.functional.linear(x, self.weight)
        if len(self.tiles) == 1:
            return self._tile(x, self.tiles[0])
        out = x.new_empty((*x.shape[:-1], self.weight.shape[0]))
        for index, tile in enumerate(self.tiles):
            start = index * self.step
            out[..., start : start + tile[0].shape[0]] = self._tile(x, tile)
        return out

    def _tile(self, x, blocks):
        op, width = self.op, self.block
        out = op(x[..., :width], blocks[0], None, "none", [], "")
        for index, block in enumerate(blocks[1:], start=1):
            # binary "add": this block's product, then the running sum added to it.
            out = op.binary(x[..., index * width : (index + 1) * width], out, block, None, "add")
        return out

    @staticmethod
    def calibrate(weights: list) -> int | None:
        """The block width that reproduces torch's linear bit for bit on ``weights`` (one
        per inner dimension) for batches of several sizes, or None."""
        import torch

        if _onednn_op() is None:
            return None
        generator = torch.Generator().manual_seed(0)
        for block in BLOCKS:
            if all(_reproduces(w[:1024], block, generator) for w in weights):
                return block
        return None


def _reproduces(weight, block: int, generator) -> bool:
    import torch

    linear = ExactLinear(weight, block)
    for rows in (MIN_ROWS, 13, 16, 31, 64, 257):
        x = torch.randn((rows, weight.shape[1]), generator=generator, dtype=weight.dtype)
        if not torch.equal(linear(x), torch.nn.functional.linear(x, weight)):
            return False
    return True


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


@dataclass
class _Layer:
    module: object  # LlamaDecoderLayer: its norms run as they are
    qkv: object  # callable: x -> concatenated q, k, v projections
    o: object
    gate_up: object  # callable: x -> concatenated gate and up projections
    down: object


class LlamaRunner:
    """Forward passes of a transformers Llama model, optionally over a ``KVCache``."""

    def __init__(self, model, kernel: str = "auto") -> None:
        """``kernel``: "onednn" (block-exact, see above), "aten" (torch's own linear), or
        "auto": oneDNN where it reproduces torch's linear on this machine, else aten."""
        import torch

        if not self.supports(model):
            raise ValueError(f"{type(model).__name__} cannot run in LlamaRunner")
        if kernel not in ("auto", "onednn", "aten"):
            raise ValueError(f"kernel must be auto, onednn or aten, got {kernel!r}")
        cfg = model.config
        self.inner = model.model  # not the model itself: the cache below is keyed by it
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.scaling = self.head_dim**-0.5
        self.device = model.lm_head.weight.device
        self.dtype = model.lm_head.weight.dtype
        layers = list(self.inner.layers)
        block = None
        if kernel != "aten" and self.device.type == "cpu" and self.dtype == torch.float32:
            first = layers[0]
            block = ExactLinear.calibrate(
                [first.self_attn.q_proj.weight, first.mlp.down_proj.weight]
            )
        if kernel == "onednn" and block is None:
            raise ValueError("oneDNN does not reproduce torch's linear for this model here")
        self.kernel = "aten" if block is None else "onednn"
        self.block = block

        def linear(*weights, tile=None):
            if block is None:  # torch's linear, one product per module as transformers runs
                return lambda x: torch.cat([torch.nn.functional.linear(x, w) for w in weights], -1)
            # One product for the projections that read the same input.
            return ExactLinear(torch.cat(weights) if len(weights) > 1 else weights[0], block, tile)

        self.layers = []
        for layer in layers:
            attn, mlp = layer.self_attn, layer.mlp
            self.layers.append(
                _Layer(
                    module=layer,
                    qkv=linear(attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight),
                    o=linear(attn.o_proj.weight),
                    gate_up=linear(mlp.gate_proj.weight, mlp.up_proj.weight),
                    down=linear(mlp.down_proj.weight),
                )
            )
        self.head = linear(model.lm_head.weight, tile=HEAD_TILE)
        self.q_width = self.heads * self.head_dim
        self.kv_width = self.kv_heads * self.head_dim
        self.intermediate = cfg.intermediate_size

    @classmethod
    def for_model(cls, model) -> LlamaRunner:
        """The runner of ``model``, built once while its weights stay the same tensors."""
        fingerprint = tuple((p.data_ptr(), p._version) for p in model.parameters())
        held = _RUNNERS.get(model)
        if held is None or held[0] != fingerprint:
            held = (fingerprint, cls(model))
            _RUNNERS[model] = held
        return held[1]

    @classmethod
    def select(cls, model, engine: str | LlamaRunner) -> LlamaRunner | None:
        """The runner an ``engine`` setting asks for, or None for the model's own forward.

        "runner" forces it, "transformers" refuses it, "auto" takes it when ``preferred``;
        a ``LlamaRunner`` is used as given.
        """
        if isinstance(engine, LlamaRunner):
            return engine
        if engine == "runner" or (engine == "auto" and cls.preferred(model)):
            return cls.for_model(model)
        if engine in ("auto", "transformers"):
            return None
        raise ValueError(f"engine must be auto, runner or transformers, got {engine!r}")

    @classmethod
    def preferred(cls, model) -> bool:
        """Whether ``engine="auto"`` takes the runner: a supported model on the CPU (on a GPU
        transformers' forward has none of the costs the runner removes)."""
        return cls.supports(model) and model.lm_head.weight.device.type == "cpu"

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
        hidden = self.inner.embed_tokens(ids)
        cos, sin = self.inner.rotary_emb(hidden, positions)
        end = column + q
        groups = self.heads // self.kv_heads
        qw, kw = self.q_width, self.kv_width
        for index, layer in enumerate(self.layers):
            x = layer.module.input_layernorm(hidden)
            qkv = layer.qkv(x)
            query = qkv[..., :qw].view(batch, q, -1, self.head_dim).transpose(1, 2)
            key = qkv[..., qw : qw + kw].view(batch, q, -1, self.head_dim).transpose(1, 2)
            value = qkv[..., qw + kw :].view(batch, q, -1, self.head_dim).transpose(1, 2)
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
            hidden = hidden + layer.o(out)
            x = layer.module.post_attention_layernorm(hidden)
            gate_up = layer.gate_up(x)
            inner = silu(gate_up[..., : self.intermediate]) * gate_up[..., self.intermediate :]
            hidden = hidden + layer.down(inner)
        return self.inner.norm(hidden)

    def logits(self, hidden):
        return self.head(hidden)


_RUNNERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _repeat_kv(states, groups: int):
    batch, heads, length, dim = states.shape
    if groups == 1:
        return states
    expanded = states[:, :, None].expand(batch, heads, groups, length, dim)
    return expanded.reshape(batch, heads * groups, length, dim)
