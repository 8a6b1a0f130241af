# Type stubs of the attnc package's public API (the implementation is in
# _attention.py, _kvcache.py and _tuning.py; docs/python.md).
import os
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch

from . import _C as _C

_PathLike = Union[str, os.PathLike[str]]
_Tokens = Union[Sequence[int], torch.Tensor]
_ParamValue = Union[torch.Tensor, float, int]

__version__: str

class SpecError(ValueError):
    """A spec that does not check; the message holds the rendered diagnostics."""

class PoolExhaustedError(RuntimeError):
    """The KV cache has too few free or evictable pages; nothing was changed."""

def compile(
    spec: _PathLike,
    kernel: Optional[str] = None,
    *,
    backend: str = "auto",
    path: str = "auto",
    tuning_db: Optional[_PathLike] = None,
    cache_dir: Optional[_PathLike] = None,
) -> Attention: ...

class Attention:
    @property
    def info(self) -> Dict[str, Any]: ...
    @property
    def backend(self) -> str: ...
    @property
    def selection(self) -> str: ...
    def kernel_for(self, batch: int, max_q_len: int, max_kv_len: int,
                   device: str = "cpu") -> Dict[str, Any]: ...
    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                 qo_indptr: Optional[torch.Tensor] = None,
                 kv_indptr: Optional[torch.Tensor] = None,
                 num_splits: int = 0,
                 **params: _ParamValue) -> Tuple[torch.Tensor, torch.Tensor]: ...
    def paged(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor,
              block_table: torch.Tensor, kv_lens: torch.Tensor, *,
              qo_indptr: Optional[torch.Tensor] = None,
              num_splits: int = 0,
              **params: _ParamValue) -> Tuple[torch.Tensor, torch.Tensor]: ...
    def padded(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
               q_lens: Optional[torch.Tensor] = None,
               kv_lens: Optional[torch.Tensor] = None,
               **params: _ParamValue) -> Tuple[torch.Tensor, torch.Tensor]: ...

class AddedSequence(NamedTuple):
    seq_id: int
    reused_tokens: int
    slots: torch.Tensor

class KVCache:
    def __init__(self, num_pages: int, page_size: int, kv_heads: int, head_dim: int,
                 num_layers: int = 1, dtype: str = "fp16", *,
                 prefix_cache: bool = True,
                 device: Union[str, torch.device] = "cpu") -> None: ...
    @classmethod
    def for_attention(cls, attn: Attention, num_pages: int, num_layers: int = 1, *,
                      prefix_cache: bool = True,
                      device: Union[str, torch.device] = "cpu") -> KVCache: ...
    def add_sequence(self, prompt: _Tokens) -> AddedSequence: ...
    def append(self, seq_id: int, tokens: _Tokens) -> torch.Tensor: ...
    def fork(self, seq_id: int) -> int: ...
    def free(self, seq_id: int) -> None: ...
    def sequence(self, seq_id: int) -> Tuple[List[int], List[int]]: ...
    def sequence_ids(self) -> List[int]: ...
    def __contains__(self, seq_id: int) -> bool: ...
    def __len__(self) -> int: ...
    def block_tables(self, seq_ids: Iterable[int], pad_value: int = 0,
                     max_pages: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]: ...
    def key_cache(self, layer: int = 0) -> torch.Tensor: ...
    def value_cache(self, layer: int = 0) -> torch.Tensor: ...
    def write(self, layer: int, slots: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None: ...
    def stats(self) -> Dict[str, Any]: ...
    def verify(self) -> None: ...
    def synchronize(self) -> None: ...
    @property
    def device(self) -> torch.device: ...
    @property
    def num_pages(self) -> int: ...
    @property
    def page_size(self) -> int: ...
    @property
    def num_layers(self) -> int: ...

def tune(
    spec: _PathLike,
    shapes: Sequence[Tuple[int, int, int]],
    tuning_db: Optional[_PathLike] = None,
    *,
    kernel: Optional[str] = None,
    backend: str = "auto",
    cache_dir: Optional[_PathLike] = None,
    paths: Sequence[str] = (),
    tiles: Sequence[Tuple[int, int]] = (),
    stages: Sequence[int] = (),
    rows_per_warp: Sequence[int] = (),
    splits: Sequence[int] = (),
    warmup: int = 1,
    repeat: int = 3,
    progress: Optional[Callable[[str], None]] = None,
) -> List[Dict[str, Any]]: ...

def read_tuning_db(path: Optional[_PathLike] = None) -> List[Dict[str, Any]]: ...
