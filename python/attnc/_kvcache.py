"""The paged KV-cache manager (runtime/kvcache) from Python."""

from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch

from . import _C

Tensor = torch.Tensor
# The page dtypes of an fp8 cache (dtype "e4m3" / "e5m2").
_FP8 = (torch.float8_e4m3fn, torch.float8_e5m2)
Tokens = Union[Sequence[int], Tensor]


class AddedSequence(NamedTuple):
    """What KVCache.add_sequence returns."""

    seq_id: int
    """The new sequence's id (never reused)."""
    reused_tokens: int
    """Leading prompt tokens whose K/V were found in the prefix cache."""
    slots: Tensor
    """int32 flat slots (page * page_size + offset) where the K/V of
    prompt[reused_tokens:] go, on the cache's device."""


class CascadeTables(NamedTuple):
    """What KVCache.cascade_tables returns: Attention.cascade's tables."""

    group_indptr: Tensor
    """[groups + 1]: group g is sequences [group_indptr[g], group_indptr[g+1])."""
    prefix_block_table: Tensor
    """[groups, max_prefix_pages]: the pages each group shares."""
    prefix_lens: Tensor
    """[groups]: the keys each group shares (0 for a group of one)."""
    block_table: Tensor
    """[batch, max_pages]: each sequence's whole table (as block_tables)."""
    kv_lens: Tensor
    """[batch]: each sequence's keys."""
    shared_rows: int
    """Key rows the groups share, read once per group."""
    own_rows: int
    """Key rows past the shared prefixes, read per sequence."""
    plain_rows: int
    """Key rows one launch over whole sequences reads."""


def _token_list(tokens: Tokens) -> List[int]:
    if isinstance(tokens, Tensor):
        return tokens.reshape(-1).tolist()
    return [int(t) for t in tokens]


class KVCache:
    """Pages of K and V for every layer of a model, and the block manager
    deciding which page each token goes to (docs/kvcache.md).

        cache = attnc.KVCache.for_attention(attn, num_pages=256, num_layers=32)
        seq = cache.add_sequence(prompt_ids)           # slots for the prompt's K/V
        cache.write(layer, seq.slots, k_rows, v_rows)  # [n, kv_heads, head_dim]
        child = cache.fork(seq.seq_id)                 # shares every page
        slots = cache.append(child, [token])           # copy-on-write if shared
        table, lens = cache.block_tables([seq.seq_id, child])
        o, lse = attn.paged(q, cache.key_cache(layer), cache.value_cache(layer),
                            table, lens)

    Pages are shared by reference counting (fork, prefix reuse) and copied
    on write. A failed operation changes nothing: PoolExhaustedError when the
    pages do not fit, KeyError for an unknown or freed sequence id.
    Storage: host memory for device "cpu" (the sim backend), device memory
    for "cuda[:N]"; new pages hold NaN until written.

    dtype: "fp16" or "bf16", or "e4m3" / "e5m2" for an fp8 cache (pages of
    torch.float8_e4m3fn / torch.float8_e5m2: half the bytes per token, so
    twice the tokens in the same memory). An fp8 cache stores rows already
    quantized: write() takes float8 rows of the page dtype (or their uint8
    bytes) and refuses wider ones; the dequantization scales are the spec's
    k_scale / v_scale params, passed to each attention call.
    """

    def __init__(self, num_pages: int, page_size: int, kv_heads: int, head_dim: int,
                 num_layers: int = 1, dtype: str = "fp16", *,
                 prefix_cache: bool = True,
                 device: Union[str, torch.device] = "cpu"):
        self._device = torch.device(device)
        if self._device.type not in ("cpu", "cuda"):
            raise ValueError(f"device must be cpu or cuda, not {self._device}")
        index = -1
        if self._device.type == "cuda":
            index = self._device.index if self._device.index is not None else \
                torch.cuda.current_device()
            self._device = torch.device("cuda", index)
        self._core = _C.KVCache(num_pages, page_size, kv_heads, head_dim, num_layers,
                                dtype, prefix_cache, index)
        self._keys = [self._core.key_cache(layer) for layer in range(num_layers)]
        self._values = [self._core.value_cache(layer) for layer in range(num_layers)]

    @classmethod
    def for_attention(cls, attn, num_pages: int, num_layers: int = 1, *,
                      prefix_cache: bool = True,
                      device: Union[str, torch.device] = "cpu") -> "KVCache":
        """A cache shaped for Attention `attn` (its page size, KV heads,
        head_dim and K/V dtype: the spec's kv_dtype, so fp8 pages for an
        fp8 spec; page_size 16 for a dense spec)."""
        info = attn.info
        if info.get("kv_layout") == "latent":
            raise ValueError(
                f"attention '{info['name']}' has kv_layout = latent (one cache whose first "
                f"{info['v_head_dim']} columns are V); KVCache holds separate K and V pages "
                f"(pass a k_cache tensor of your own to attn.paged, and "
                f"k_cache[..., :{info['v_head_dim']}] as v_cache)")
        if info["v_head_dim"] != info["head_dim"]:
            raise ValueError(
                f"attention '{info['name']}' has v_head_dim {info['v_head_dim']} and "
                f"head_dim {info['head_dim']}; KVCache holds K and V rows of one head_dim "
                f"(pass k_cache and v_cache tensors of your own to attn.paged)")
        return cls(num_pages, info["page_size"] or 16, info["kv_heads"], info["head_dim"],
                   num_layers, info.get("kv_dtype", info["dtype"]),
                   prefix_cache=prefix_cache, device=device)

    # -- sequences -------------------------------------------------------

    def add_sequence(self, prompt: Tokens) -> AddedSequence:
        """Starts a sequence holding the token ids `prompt`; its leading full
        pages found in the prefix cache are mapped, not allocated (the last
        prompt token is never reused)."""
        seq_id, reused, slots = self._core.add_sequence(_token_list(prompt))
        return AddedSequence(seq_id, reused, self._on_device(slots))

    def append(self, seq_id: int, tokens: Tokens) -> Tensor:
        """Appends token ids to a sequence; returns the int32 slots of their
        K/V. A shared, partly filled last page is copied first."""
        return self._on_device(self._core.append(seq_id, _token_list(tokens)))

    def fork(self, seq_id: int) -> int:
        """A new sequence sharing every page of `seq_id` (no page is
        allocated)."""
        return self._core.fork(seq_id)

    def free(self, seq_id: int) -> None:
        """Drops a sequence; its pages return to the pool (or stay cached for
        prefix reuse) when their last reference goes."""
        self._core.free(seq_id)

    def sequence(self, seq_id: int) -> Tuple[List[int], List[int]]:
        """(token ids, physical page of each logical page) of a sequence."""
        return self._core.sequence(seq_id)

    def sequence_ids(self) -> List[int]:
        """Live sequence ids, ascending."""
        return self._core.sequence_ids()

    def __contains__(self, seq_id: int) -> bool:
        return self._core.__contains__(seq_id)

    def __len__(self) -> int:
        return len(self._core.sequence_ids())

    # -- kernel inputs ---------------------------------------------------

    def block_tables(self, seq_ids: Iterable[int], pad_value: int = 0,
                     max_pages: Optional[int] = None) -> Tuple[Tensor, Tensor]:
        """block_table int32 [batch, max_pages] (rows padded with
        `pad_value`; max_pages None: the longest table) and kv_lens int32
        [batch] of `seq_ids` in that order, on the cache's device: what
        Attention.paged takes."""
        table, lens = self._core.block_tables(
            list(seq_ids), pad_value, -1 if max_pages is None else max_pages)
        return self._on_device(table), self._on_device(lens)

    def cascade_tables(self, seq_ids: Iterable[int], pad_value: int = 0,
                       min_shared_pages: int = 1) -> "CascadeTables":
        """The groups of `seq_ids` (in that order) that share leading pages,
        for Attention.cascade: consecutive sequences whose block tables start
        with the same page form a group sharing its longest common run of
        pages (at least `min_shared_pages`; else groups of one). Sharers
        must be adjacent in `seq_ids`. All tensors int32 on the cache's
        device."""
        groups, prefix_table, prefix_lens, table, lens, rows = \
            self._core.cascade_tables(list(seq_ids), pad_value, min_shared_pages)
        return CascadeTables(self._on_device(groups), self._on_device(prefix_table),
                             self._on_device(prefix_lens), self._on_device(table),
                             self._on_device(lens), *rows)

    def key_cache(self, layer: int = 0) -> Tensor:
        """Layer `layer`'s k_cache [num_pages, page_size, kv_heads, head_dim]:
        a tensor over the cache's own memory (no copy)."""
        return self._keys[layer]

    def value_cache(self, layer: int = 0) -> Tensor:
        """Layer `layer`'s v_cache, like key_cache."""
        return self._values[layer]

    def write(self, layer: int, slots: Tensor, k: Tensor, v: Tensor) -> None:
        """Writes K and V rows [n, kv_heads, head_dim] of layer `layer` at
        the flat `slots` add_sequence / append returned. Rows are cast to
        a 16-bit cache's dtype; an fp8 cache takes rows already quantized
        (the page's float8 dtype, or uint8 bytes) and raises TypeError for
        any other dtype rather than cast without the scales."""
        index = slots.to(device=self._device, dtype=torch.long)
        copies = []
        for cache, rows, name in ((self._keys[layer], k, "k"), (self._values[layer], v, "v")):
            flat = cache.view(-1, cache.shape[2], cache.shape[3])
            if rows.shape != (index.numel(),) + tuple(flat.shape[1:]):
                raise ValueError(f"{name} has shape {list(rows.shape)}; expected "
                                 f"{[index.numel()] + list(flat.shape[1:])}")
            if flat.dtype in _FP8:
                if rows.dtype not in (flat.dtype, torch.uint8):
                    raise TypeError(
                        f"{name} is {rows.dtype}, but this cache holds {flat.dtype} "
                        f"(an fp8 KV cache): write rows already quantized, e.g. "
                        f"({name} / {name}_scale).to({flat.dtype}), and pass the "
                        f"scales to the attention call as the spec's k_scale / "
                        f"v_scale params")
                # torch has no fp8 index_copy_: copy the bytes.
                copies.append((flat.view(torch.uint8),
                               rows.to(device=flat.device).view(torch.uint8)))
            else:
                copies.append((flat, rows.to(device=flat.device, dtype=flat.dtype)))
        for flat, rows in copies:  # both checked first: an error writes nothing
            flat.index_copy_(0, index, rows)

    # -- accounting ------------------------------------------------------

    def stats(self) -> dict:
        """Page counts, tokens, waste and sharing (CacheStats as a dict)."""
        return self._core.stats()

    def verify(self) -> None:
        """Checks every invariant of the block manager (ValueError or
        RuntimeError naming the first broken one)."""
        self._core.verify()

    def synchronize(self) -> None:
        """Waits for queued page copies (CUDA storage; no-op on the host)."""
        self._core.synchronize()

    @property
    def device(self) -> torch.device:
        """Where the pages live: cpu, or cuda:N."""
        return self._device

    @property
    def num_pages(self) -> int:
        """Pages in the pool."""
        return self._core.num_pages

    @property
    def page_size(self) -> int:
        """Tokens per page."""
        return self._core.page_size

    @property
    def num_layers(self) -> int:
        """Layers, each with its own k_cache and v_cache."""
        return self._core.num_layers

    def _on_device(self, array) -> Tensor:
        """An int32 array from the native module as a tensor on the cache's
        device (a view of it on the CPU)."""
        t = torch.from_numpy(array)
        return t if self._device.type == "cpu" else t.to(self._device)
