"""The torch.library ops behind Attention calls.

torch.compile sees attnc's attention as three ops, torch.ops.attnc.attention,
.attention_paged and .attention_padded, each with a fake (meta)
implementation, so graphs that call an Attention trace without breaks. An
op cannot take a Python object: the compiled spec is passed as an integer
handle into the registry below, which keeps every Attention reachable from
a graph alive for the life of the process.

The ops are defined with torch.library.Library (a schema, one
CompositeExplicitAutograd kernel, a fake implementation) rather than
torch.library.custom_op, whose Python wrapper layers cost about 9 us more
per eager call (bench/python_overhead.py).
"""

import itertools
import threading
from typing import Dict, List

import torch

_registry: Dict[int, object] = {}
_handles = itertools.count(1)
_lock = threading.Lock()


def register(attn: object) -> int:
    """A new handle for `attn`, valid until the process exits."""
    with _lock:
        handle = next(_handles)
        _registry[handle] = attn
    return handle


def lookup(handle: int):
    """The Attention registered under `handle`."""
    try:
        return _registry[handle]
    except KeyError:
        raise ValueError(f"no compiled attention has handle {handle}") from None


def _params(names: str, tensors: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
    return dict(zip(names.split(","), tensors)) if names else {}


_lib = torch.library.Library("attnc", "DEF")


def _define(name: str, tensors: str, method: str, lse_dims: int):
    """Defines attnc::`name`(int handle, `tensors`, str param_names,
    Tensor[] params) -> (o, lse), run by Attention.`method` (the call's
    arguments in schema order, then the params as a dict), with a fake
    implementation giving o like q (v_head_dim columns) and lse float32
    q.shape[:lse_dims].
    Returns the op's overload, for callers to call directly."""
    _lib.define(f"{name}(int handle, {tensors}, str param_names, Tensor[] params) "
                f"-> (Tensor, Tensor)")

    def kernel(handle, *args):
        *args, names, params = args
        return getattr(lookup(handle), method)(*args, _params(names, params))

    def fake(handle, q, *args):
        o_shape = q.shape[:-1] + (lookup(handle).info["v_head_dim"],)
        return q.new_empty(o_shape), q.new_empty(q.shape[:lse_dims], dtype=torch.float32)

    kernel.__doc__ = f"attnc::{name}: Attention.{method} of the Attention `handle`."
    _lib.impl(name, kernel, "CompositeExplicitAutograd")
    torch.library.register_fake(f"attnc::{name}", fake, lib=_lib)
    return getattr(torch.ops.attnc, name).default


# Ragged dense attention (Attention.__call__).
attention = _define(
    "attention",
    "Tensor q, Tensor k, Tensor v, Tensor? qo_indptr, Tensor? kv_indptr, int num_splits",
    "_dense", 2)
# Attention over a paged KV cache (Attention.paged).
attention_paged = _define(
    "attention_paged",
    "Tensor q, Tensor k_cache, Tensor v_cache, Tensor block_table, Tensor kv_lens, "
    "Tensor? qo_indptr, int num_splits",
    "_paged", 2)
# Attention in the model layout [B, heads, S, D] (Attention.padded).
attention_padded = _define(
    "attention_padded",
    "Tensor q, Tensor k, Tensor v, Tensor? q_lens, Tensor? kv_lens",
    "_padded", 3)
