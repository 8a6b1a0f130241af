"""The torch.library ops behind Attention calls.

torch.compile sees attnc's attention as three custom ops,
torch.ops.attnc.attention, .attention_paged and .attention_padded, each
with a fake (meta) implementation, so graphs that call an Attention trace
without breaks. An op cannot take a Python object: the compiled spec is
passed as an integer handle into the registry below, which keeps every
Attention reachable from a graph alive for the life of the process.
"""

import itertools
import threading
from typing import Dict, List, Optional, Tuple

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


@torch.library.custom_op("attnc::attention", mutates_args=())
def attention(
    handle: int,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    qo_indptr: Optional[torch.Tensor],
    kv_indptr: Optional[torch.Tensor],
    num_splits: int,
    param_names: str,
    params: List[torch.Tensor],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Ragged dense attention of Attention `handle` (see Attention.__call__)."""
    return lookup(handle)._dense(
        q, k, v, qo_indptr, kv_indptr, num_splits, _params(param_names, params)
    )


@attention.register_fake
def _(handle, q, k, v, qo_indptr, kv_indptr, num_splits, param_names, params):
    return q.new_empty(q.shape), q.new_empty(q.shape[:2], dtype=torch.float32)


@torch.library.custom_op("attnc::attention_paged", mutates_args=())
def attention_paged(
    handle: int,
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    block_table: torch.Tensor,
    kv_lens: torch.Tensor,
    qo_indptr: Optional[torch.Tensor],
    num_splits: int,
    param_names: str,
    params: List[torch.Tensor],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Attention over a paged KV cache (see Attention.paged)."""
    return lookup(handle)._paged(
        q, k_cache, v_cache, block_table, kv_lens, qo_indptr, num_splits,
        _params(param_names, params),
    )


@attention_paged.register_fake
def _(handle, q, k_cache, v_cache, block_table, kv_lens, qo_indptr, num_splits,
      param_names, params):
    return q.new_empty(q.shape), q.new_empty(q.shape[:2], dtype=torch.float32)


@torch.library.custom_op("attnc::attention_padded", mutates_args=())
def attention_padded(
    handle: int,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    q_lens: Optional[torch.Tensor],
    kv_lens: Optional[torch.Tensor],
    param_names: str,
    params: List[torch.Tensor],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Attention in the model layout [B, heads, S, D] (see Attention.padded)."""
    return lookup(handle)._padded(q, k, v, q_lens, kv_lens, _params(param_names, params))


@attention_padded.register_fake
def _(handle, q, k, v, q_lens, kv_lens, param_names, params):
    return q.new_empty(q.shape), q.new_empty(q.shape[:3], dtype=torch.float32)
