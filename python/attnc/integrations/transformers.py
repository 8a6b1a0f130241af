"""attnc as a Hugging Face transformers attention backend.

    import attnc.integrations.transformers as attnc_hf
    attnc_hf.register()                       # adds "attnc" to transformers' interfaces
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="attnc")

`register()` adds two functions under one name:

* an attention function (`transformers.AttentionInterface`): it builds an
  attnc spec from the layer (head_dim, query and KV heads, the scaling, the
  softcap, the sliding window and causality), compiles it once per distinct
  spec text, packs the valid tokens of the batch into attnc's ragged layout,
  runs the kernel and scatters the result back to [batch, q_len, heads,
  head_dim];
* a mask function (`transformers.AttentionMaskInterface`): it describes the
  mask as an `AttncMask` (the valid query rows and key run of each sequence,
  causal or not, the sliding window), checks that this description
  reproduces transformers' own boolean mask for the same request on every
  valid query row, and returns the dense boolean mask with the description
  attached (the attention function reads the description). A mask attnc
  cannot express (packed sequences with a document mask, custom and/or mask
  functions, padding in the middle of a sequence) raises `UnsupportedMask`
  instead of computing something else.

Padding: each row of the batch must hold one contiguous run of valid keys
that ends at the row's last valid query: left padding (what `generate()`
uses for batches) and right padding without a cache both qualify. The valid
run is handed to attnc as one ragged sequence, so the spec's bottom-right
alignment (the last query sits at the last key) is exactly transformers'
causal alignment. Query rows that are padding get an output of zeros (eager
and sdpa compute values there that nothing reads).

dtype: attnc kernels run in fp16 or bf16. A float32 model's q/k/v are cast
to bf16 for the kernel (accumulation is float32 inside it) and the output is
cast back to float32; expect bf16-level differences (about 1e-2 relative)
against eager in float32.

gpt-oss's learned attention sinks (s_aux, one logit per query head) become
the spec's `sink = sinks[h]` with the layer's sinks passed as a param.

Not supported (each raises): dropout during training, position biases, `output_attentions` weights (None is returned, as sdpa
does), transformers' continuous batching (its 5.x scheduler accepts only
"paged|eager", "sdpa" and flash implementations).
"""

from __future__ import annotations

import dataclasses
import threading

import torch

from .spec import causal_window_terms, format_spec

NAME = "attnc"


class UnsupportedMask(NotImplementedError):
    """The attention mask transformers asked for is not expressible with attnc."""


@dataclasses.dataclass
class AttncMask:
    """What the attnc attention function needs to know about one mask.

    q_valid:  [batch, q_len] bool, the query rows that are real tokens
    kv_valid: [batch, kv_len] bool, the keys visible to the row's valid queries
              (one contiguous run per row, ending at the row's last valid query)
    causal:   queries see keys at or before their own position
    window:   sliding window W (a query sees keys q - kv < W), or None
    """

    q_valid: torch.Tensor
    kv_valid: torch.Tensor
    causal: bool
    window: int | None

    def attach(self, dense: torch.Tensor) -> torch.Tensor:
        """The dense [batch, 1, q_len, kv_len] bool mask, carrying this description.

        transformers passes a ready 4D mask through untouched (generate()
        builds masks ahead, and makes them contiguous, for static caches), so
        the mask function returns a real, contiguous boolean mask (the same
        values as transformers' on every valid query row) with the
        description in its `attnc_mask` attribute, which is what the attnc
        attention function reads.
        """
        dense = dense.contiguous()
        dense.attnc_mask = self
        return dense


# ----------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------

_DTYPE = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float32: "bf16"}


def build_spec(
    *,
    head_dim: int,
    q_heads: int,
    kv_heads: int,
    dtype: str,
    scaling: float | None = None,
    causal: bool = True,
    window: int | None = None,
    softcap: float | None = None,
    sinks: bool = False,
    name: str = "hf_attention",
) -> str:
    """The attnc DSL text for one transformers attention layer.

    scaling None means 1/sqrt(head_dim); softcap c gives `c * tanh(score / c)`
    (Gemma-2's attn_logit_softcapping); window W gives `q - kv < W` on top of
    the causal mask (transformers' `kv > q - W`); sinks adds gpt-oss's learned
    per-head sink logit (`param sinks : f32[q_heads]`, `sink = sinks[h]`).
    """
    if window is not None and not causal:
        raise UnsupportedMask("a bidirectional sliding window is not supported by the attnc backend")
    return format_spec(name, dtype=dtype, head_dim=head_dim, q_heads=q_heads, kv_heads=kv_heads,
                       scale=scaling, softcap=softcap, mask_terms=causal_window_terms(causal, window),
                       params=("sinks : f32[q_heads]",) if sinks else (),
                       sink="sinks[h]" if sinks else None)


_compiled: dict[tuple, object] = {}
_compiled_lock = threading.Lock()
_options: dict = {}
_options_verify = {"on": True}


def compiled(spec: str):
    """attnc.compile(spec), once per distinct spec text (and compile options)."""
    import attnc

    key = (spec, tuple(sorted(_options.items())))
    with _compiled_lock:
        attn = _compiled.get(key)
        if attn is None:
            attn = attnc.compile(spec, **_options)
            _compiled[key] = attn
    return attn


def compiled_specs() -> list[str]:
    """The spec texts compiled so far (for inspection and tests)."""
    with _compiled_lock:
        return [k[0] for k in _compiled]


# ----------------------------------------------------------------------------
# The mask function
# ----------------------------------------------------------------------------


def _runs_are_contiguous(valid: torch.Tensor) -> torch.Tensor:
    """Per row: at most one run of True values."""
    starts = valid[:, :1].long() + (valid[:, 1:] & ~valid[:, :-1]).long().sum(1, keepdim=True)
    return starts.squeeze(1) <= 1


def attnc_mask(
    batch_size: int,
    q_length: int,
    kv_length: int,
    q_offset=0,
    kv_offset: int = 0,
    mask_function=None,
    attention_mask: torch.Tensor | None = None,
    local_size: int | None = None,
    device="cpu",
    **kwargs,
) -> torch.Tensor:
    """transformers' mask interface for attnc (see the module docstring); returns a dense mask carrying an AttncMask."""
    from transformers.masking_utils import (
        bidirectional_mask_function,
        causal_mask_function,
        prepare_padding_mask,
        sdpa_mask,
    )

    if mask_function is None:
        mask_function = causal_mask_function
    q_offset = int(q_offset)
    kv_offset = int(kv_offset)

    ref = None
    candidates = (True, False)  # causal, then bidirectional
    if _options_verify["on"]:
        # transformers' own verdict, as a dense boolean mask [B, 1, q, kv].
        ref = sdpa_mask(
            batch_size=batch_size,
            q_length=q_length,
            kv_length=kv_length,
            q_offset=q_offset,
            kv_offset=kv_offset,
            mask_function=mask_function,
            attention_mask=attention_mask,
            allow_is_causal_skip=False,
            allow_is_bidirectional_skip=False,
            use_vmap=kwargs.get("use_vmap", False),
            device=device,
        )
        if ref is None:
            raise UnsupportedMask("transformers returned no mask to check against")
        ref = ref.expand(batch_size, 1, q_length, kv_length)[:, 0]
    else:
        candidates = (mask_function is not bidirectional_mask_function,)

    # Key index of each query's own token (the query is also a key of this call).
    own = torch.arange(q_length, device=device) + (q_offset - kv_offset)
    if attention_mask is not None:
        pad = prepare_padding_mask(attention_mask.to(device=device, dtype=torch.bool), kv_length, kv_offset)
        pad = pad[:, kv_offset : kv_offset + kv_length]
        pad = pad.expand(batch_size, kv_length)
    else:
        pad = torch.ones(batch_size, kv_length, dtype=torch.bool, device=device)

    own_in = (own >= 0) & (own < kv_length)
    own_c = own.clamp(0, kv_length - 1)
    j = torch.arange(kv_length, device=device)

    for causal in candidates:
        kv_valid = pad.clone()
        if causal:
            if own.numel() == 0:
                continue
            kv_valid &= (j <= own[-1])[None, :]
        q_valid = kv_valid[:, own_c] & own_in[None, :]
        expect = q_valid[:, :, None] & kv_valid[:, None, :]
        if causal:
            expect &= j[None, None, :] <= own[None, :, None]
            if local_size is not None:
                expect &= (own[None, :, None] - j[None, None, :]) < int(local_size)
        if ref is not None and bool(((expect != ref) & q_valid[:, :, None]).any()):
            continue
        if not bool(_runs_are_contiguous(kv_valid).all()):
            raise UnsupportedMask(
                "attnc needs one contiguous run of valid keys per sequence (left padding, or right padding "
                "without a cache); this attention_mask has padding inside a sequence"
            )
        if causal:
            # The last valid query must be the last valid key (bottom-right alignment).
            has_q = q_valid.any(1)
            last_q = torch.where(q_valid, own[None, :], torch.full_like(own, -1)[None, :]).amax(1)
            last_kv = torch.where(kv_valid, j[None, :], torch.full_like(j, -1)[None, :]).amax(1)
            if bool((has_q & (last_q != last_kv)).any()):
                raise UnsupportedMask("the last valid query of a sequence is not its last valid key")
        return AttncMask(
            q_valid=q_valid,
            kv_valid=kv_valid,
            causal=causal,
            window=int(local_size) if (causal and local_size is not None) else None,
        ).attach(expect[:, None])
    raise UnsupportedMask(
        "this attention mask is neither causal (with padding and an optional sliding window) nor bidirectional "
        "with padding, so attnc cannot express it (packed sequences, custom and/or mask functions and block masks "
        "are not supported by the attnc backend)"
    )


# ----------------------------------------------------------------------------
# The attention function
# ----------------------------------------------------------------------------


def attnc_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask,
    scaling: float | None = None,
    dropout: float = 0.0,
    sliding_window: int | None = None,
    softcap: float | None = None,
    **kwargs,
):
    """transformers' attention function for attnc.

    query [B, Hq, Sq, D], key/value [B, Hkv, Skv, D]; returns ([B, Sq, Hq, D], None).
    """
    if dropout and module.training:
        raise NotImplementedError("the attnc backend has no attention dropout; set attention_dropout = 0")
    if kwargs.get("position_bias") is not None:
        raise NotImplementedError("the attnc backend does not take a position_bias tensor")
    # gpt-oss passes its learned per-head sink logits as s_aux.
    sinks = kwargs.get("s_aux")
    if sinks is None:
        sinks = getattr(module, "sinks", None)
    if kwargs.get("cache") is not None and type(kwargs["cache"]).__name__ == "PagedAttentionCache":
        raise NotImplementedError("the attnc backend does not support transformers' continuous batching")
    if value.shape[-1] != query.shape[-1] or key.shape[-1] != query.shape[-1]:
        raise NotImplementedError("attnc needs one head_dim for q, k and v")

    B, Hq, Sq, D = query.shape
    Hkv, Skv = key.shape[1], key.shape[2]

    if attention_mask is None:
        # No mask was built (e.g. the layer is called directly): no padding;
        # causal layers align the queries with the last keys.
        causal = bool(getattr(module, "is_causal", True))
        window = sliding_window
        q_valid = torch.ones(B, Sq, dtype=torch.bool, device=query.device)
        kv_valid = torch.ones(B, Skv, dtype=torch.bool, device=query.device)
        if causal and Sq > Skv:
            raise UnsupportedMask("more queries than keys in a causal layer")
    elif isinstance(getattr(attention_mask, "attnc_mask", attention_mask), AttncMask):
        attention_mask = getattr(attention_mask, "attnc_mask", attention_mask)
        causal, window = attention_mask.causal, attention_mask.window
        q_valid = attention_mask.q_valid.to(query.device)
        kv_valid = attention_mask.kv_valid.to(query.device)
        if q_valid.shape != (B, Sq) or kv_valid.shape != (B, Skv):
            raise UnsupportedMask(
                f"the mask was built for q/kv lengths {tuple(q_valid.shape)}/{tuple(kv_valid.shape)}, "
                f"the layer has {(B, Sq)}/{(B, Skv)}"
            )
    else:
        raise UnsupportedMask(
            "the attnc backend takes the masks its own mask function builds; a ready-made "
            f"{type(attention_mask).__name__} mask cannot be read (register() installs the mask function)"
        )

    dtype = _DTYPE.get(query.dtype)
    if dtype is None:
        raise NotImplementedError(f"the attnc backend does not run {query.dtype} models")
    kernel_dtype = torch.float16 if dtype == "fp16" else torch.bfloat16

    if scaling is None:
        scaling = getattr(module, "scaling", None)
    attn = compiled(build_spec(head_dim=D, q_heads=Hq, kv_heads=Hkv, dtype=dtype, scaling=scaling,
                               causal=causal, window=window, softcap=softcap, sinks=sinks is not None))
    params = {}
    if sinks is not None:
        if sinks.shape != (Hq,):
            raise NotImplementedError(f"attention sinks of shape {tuple(sinks.shape)}; attnc takes one per query head ({Hq})")
        params["sinks"] = sinks.detach().to(device=query.device, dtype=torch.float32).contiguous()

    # Rows with no valid query contribute nothing: drop their keys too.
    n_q = q_valid.sum(1)
    kv_valid = kv_valid & (n_q > 0)[:, None]
    n_kv = kv_valid.sum(1)
    keep = n_q > 0

    out = torch.zeros(B, Sq, Hq, D, dtype=query.dtype, device=query.device)
    if not bool(keep.any()):
        return out, None

    zero = torch.zeros(1, dtype=torch.int32, device=query.device)
    qo_indptr = torch.cat([zero, n_q[keep].cumsum(0).to(torch.int32)])
    kv_indptr = torch.cat([zero, n_kv[keep].cumsum(0).to(torch.int32)])

    q = query.transpose(1, 2)[q_valid].to(kernel_dtype).contiguous()  # [total_q, Hq, D]
    k = key.transpose(1, 2)[kv_valid].to(kernel_dtype).contiguous()  # [total_kv, Hkv, D]
    v = value.transpose(1, 2)[kv_valid].to(kernel_dtype).contiguous()

    o, _lse = attn(q, k, v, qo_indptr=qo_indptr, kv_indptr=kv_indptr, **params)
    out[q_valid] = o.to(query.dtype)
    return out, None


def register(name: str = NAME, *, verify_masks: bool = True, **compile_options) -> str:
    """Register attnc with transformers under `name` (default "attnc").

    verify_masks: check every mask transformers asks for against its own
    dense boolean mask (costs batch * q_len * kv_len booleans per mask, once
    per forward and mask type); with False the mask function trusts that the
    request is causal (with padding and an optional sliding window) or
    bidirectional. compile_options go to attnc.compile (backend=, path=,
    tuning_db=, cache_dir=). Returns the name to pass as attn_implementation.
    """
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    _options.clear()
    _options.update(compile_options)
    _options_verify["on"] = bool(verify_masks)
    AttentionInterface.register(name, attnc_attention_forward)
    AttentionMaskInterface.register(name, attnc_mask)
    return name


__all__ = [
    "NAME",
    "AttncMask",
    "UnsupportedMask",
    "attnc_attention_forward",
    "attnc_mask",
    "build_spec",
    "compiled",
    "compiled_specs",
    "register",
]
