"""Ring attention (context parallelism) over torch.distributed with attnc kernels.

Each of the W ranks of a process group holds a slice of the sequence's
queries and the matching slice of its keys and values. The K/V slices travel
around the ring (rank r sends to r + 1 and receives from r - 1) while every
rank attends its queries to the slice it holds; the partial results of the
W steps are merged with their log-sum-exps in float32. After W steps each
rank holds the exact attention output of its queries over the whole
sequence.

    ring = RingAttention.for_mask(head_dim=128, q_heads=32, kv_heads=8,
                                  dtype="bf16", causal=True, window=None)
    q_local = zigzag_shard(q, world, rank)          # [S / W, Hq, D]
    k_local = zigzag_shard(k, world, rank)
    v_local = zigzag_shard(v, world, rank)
    o_local, lse_local = ring(q_local, k_local, v_local)
    o = zigzag_unshard(all_gather(o_local), world)  # [S, Hq, D]

Positions. A mask must see global positions, but each attnc call sees one
query chunk and one key chunk. The specs used for the chunk pairs declare
`param q_off : i32[batch]` and `param kv_off : i32[batch]` and write the mask
with `q + q_off[b]` and `kv + kv_off[b]`. Inside an attnc call the positions
are bottom-right aligned (a query block of length M over N keys has
positions N - M .. N - 1), so for a query chunk starting at global position
qs and a key chunk starting at ks the offsets are
`q_off = qs - (N - M)` and `kv_off = ks`.

Load balance. With contiguous slices, causal attention gives rank W - 1
W times the work of rank 0. Zig-zag sharding splits the sequence into 2W
chunks and gives rank r chunks r and 2W - 1 - r, so every rank has the same
amount of visible (q, kv) pairs. `zigzag_shard` / `zigzag_unshard` convert
between the two layouts.

Chunk pairs. For causal and sliding-window masks, each (query chunk, key
chunk) pair is fully visible (run with the unmasked spec), fully masked
(skipped) or partial (run with the offset spec). All pairs of one kind in a
step go to attnc as one ragged batch.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from .integrations.spec import causal_window_terms, format_spec

# ----------------------------------------------------------------------------
# Sharding
# ----------------------------------------------------------------------------


def zigzag_positions(seq_len: int, world_size: int, rank: int) -> list[tuple[int, int]]:
    """The (start, length) pieces of the global sequence rank `rank` holds."""
    if seq_len % (2 * world_size):
        raise ValueError(f"zig-zag sharding needs a sequence length divisible by 2 * world_size = {2 * world_size}")
    c = seq_len // (2 * world_size)
    return [(rank * c, c), ((2 * world_size - 1 - rank) * c, c)]


def contiguous_positions(seq_len: int, world_size: int, rank: int) -> list[tuple[int, int]]:
    """The (start, length) piece of the global sequence rank `rank` holds, unbalanced."""
    if seq_len % world_size:
        raise ValueError(f"contiguous sharding needs a sequence length divisible by world_size = {world_size}")
    c = seq_len // world_size
    return [(rank * c, c)]


def zigzag_shard(x: torch.Tensor, world_size: int, rank: int, dim: int = 0) -> torch.Tensor:
    """Rank `rank`'s zig-zag slice of x along `dim`: chunk r, then chunk 2W - 1 - r of 2W."""
    chunks = x.chunk(2 * world_size, dim=dim)
    if len(chunks) != 2 * world_size or x.shape[dim] % (2 * world_size):
        raise ValueError(f"zig-zag sharding needs a length divisible by 2 * world_size = {2 * world_size}")
    return torch.cat([chunks[rank], chunks[2 * world_size - 1 - rank]], dim=dim)


def zigzag_unshard(shards: Sequence[torch.Tensor], dim: int = 0) -> torch.Tensor:
    """Inverse of zigzag_shard: shards[r] is rank r's slice; returns the full tensor."""
    world_size = len(shards)
    chunks: list[torch.Tensor | None] = [None] * (2 * world_size)
    for r, s in enumerate(shards):
        a, b = s.chunk(2, dim=dim)
        chunks[r] = a
        chunks[2 * world_size - 1 - r] = b
    return torch.cat(chunks, dim=dim)


# ----------------------------------------------------------------------------
# Specs and chunk-pair classification
# ----------------------------------------------------------------------------


def ring_specs(
    *,
    head_dim: int,
    q_heads: int,
    kv_heads: int,
    dtype: str = "bf16",
    causal: bool = True,
    window: int | None = None,
    scale: float | None = None,
    softcap: float | None = None,
    name: str = "ring",
) -> tuple[str, str]:
    """(offset spec, unmasked spec) for a causal / sliding-window / full mask.

    The offset spec's mask is `kv <= q && q - kv < window` written over the
    global positions `q + q_off[b]` and `kv + kv_off[b]`.
    """
    terms = causal_window_terms(causal, window, q="(q + q_off[b])", kv="(kv + kv_off[b])")
    common = dict(dtype=dtype, head_dim=head_dim, q_heads=q_heads, kv_heads=kv_heads, scale=scale, softcap=softcap)
    offset = format_spec(
        f"{name}_offset", params=("q_off : i32[batch]", "kv_off : i32[batch]"), mask_terms=terms, **common
    )
    return offset, format_spec(f"{name}_full", **common)


NONE, FULL, PARTIAL = "none", "full", "partial"


def classify(q_range: tuple[int, int], kv_range: tuple[int, int], causal: bool, window: int | None) -> str:
    """How the mask `kv <= q && q - kv < window` (global positions) covers a chunk pair.

    Ranges are (start, length). Returns NONE (no pair visible), FULL (every
    pair visible) or PARTIAL.
    """
    qa, qn = q_range
    ka, kn = kv_range
    if qn == 0 or kn == 0:
        return NONE
    q_lo, q_hi = qa, qa + qn - 1
    k_lo, k_hi = ka, ka + kn - 1
    if not causal:
        return FULL
    if k_lo > q_hi:  # every key after every query
        return NONE
    if window is not None and q_lo - k_hi >= window:  # the closest pair is already out of the window
        return NONE
    if k_hi <= q_lo and (window is None or q_hi - k_lo < window):
        return FULL
    return PARTIAL


# ----------------------------------------------------------------------------
# The merge
# ----------------------------------------------------------------------------


def merge_partials(
    o_acc: torch.Tensor, lse_acc: torch.Tensor, o_new: torch.Tensor, lse_new: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge two softmax-normalised partial results over disjoint key sets.

    o_* [..., H, D] (any float dtype), lse_* [..., H] natural-log sums.
    Returns float32 (o, lse). Rows where both parts saw no key keep o = 0,
    lse = -inf; a part with lse = -inf contributes nothing, whatever its o.
    """
    a = lse_acc.float()
    b = lse_new.float()
    m = torch.maximum(a, b)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    wa = torch.exp(a - m)  # exp(-inf) = 0
    wb = torch.exp(b - m)
    s = wa + wb
    seen = s > 0
    lse = torch.where(seen, m + torch.log(torch.where(seen, s, torch.ones_like(s))), torch.full_like(s, float("-inf")))
    inv = torch.where(seen, 1.0 / torch.where(seen, s, torch.ones_like(s)), torch.zeros_like(s))
    oa = torch.where((wa > 0)[..., None], o_acc.float(), torch.zeros((), dtype=torch.float32, device=o_acc.device))
    ob = torch.where((wb > 0)[..., None], o_new.float(), torch.zeros((), dtype=torch.float32, device=o_new.device))
    o = (oa * wa[..., None] + ob * wb[..., None]) * inv[..., None]
    return o, lse


# ----------------------------------------------------------------------------
# Ring attention
# ----------------------------------------------------------------------------


@dataclasses.dataclass
class _Pair:
    q_piece: int  # index into this rank's pieces
    q_range: tuple[int, int]
    kv_piece: int  # index into the source rank's pieces
    kv_range: tuple[int, int]


class RingAttention:
    """Context-parallel attention: attnc kernels for the chunk pairs, a float32 LSE merge.

    offset_spec: DSL text (or a path) whose mask and score read global
        positions as `q + q_off[b]` and `kv + kv_off[b]`, declaring
        `param q_off : i32[batch]` and `param kv_off : i32[batch]`.
    full_spec: optional DSL text for pairs the mask leaves fully visible
        (no mask, same dtype, heads, scale and score); without it the offset
        spec runs those pairs too.
    causal, window: declare what the offset spec's mask is over global
        positions: causal=True is `kv <= q` (with window=W, `kv <= q && q - kv
        < W`), causal=False is no mask at all. Chunk pairs are then skipped or
        run unmasked where that mask allows. causal=None (the default) says
        nothing about the mask: every pair runs with the offset spec, which
        is right for any mask written over `q + q_off[b]`, `kv + kv_off[b]`.
    layout: "zigzag" (default) or "contiguous", how the sequence is split.
    group: the torch.distributed process group (default: the world). With no
        initialised process group the module runs on one rank.
    """

    def __init__(
        self,
        offset_spec: str,
        full_spec: str | None = None,
        *,
        causal: bool | None = None,
        window: int | None = None,
        layout: str = "zigzag",
        group=None,
        **compile_options,
    ):
        import attnc

        if layout not in ("zigzag", "contiguous"):
            raise ValueError(f"layout must be 'zigzag' or 'contiguous', not {layout!r}")
        if window is not None and causal is not True:
            raise ValueError("window needs causal=True")
        self.offset_attn = attnc.compile(offset_spec, **compile_options)
        params = self.offset_attn.info.get("params", {})
        for p in ("q_off", "kv_off"):
            if p not in params:
                raise ValueError(f"the offset spec must declare 'param {p} : i32[batch]'")
        self.full_attn = attnc.compile(full_spec, **compile_options) if full_spec is not None else None
        self.causal = causal
        self.window = window
        self.layout = layout
        self.group = group
        self.stats = {"full": 0, "partial": 0, "skipped": 0}

    @classmethod
    def for_mask(
        cls,
        *,
        causal: bool = True,
        window: int | None = None,
        layout: str = "zigzag",
        group=None,
        compile_options: dict | None = None,
        **spec,
    ) -> "RingAttention":
        """Ring attention for a causal, sliding-window (causal=True, window=W) or full
        (causal=False) mask; spec: head_dim, q_heads, kv_heads, dtype, scale,
        softcap as in ring_specs."""
        offset_spec, full_spec = ring_specs(causal=causal, window=window, **spec)
        return cls(
            offset_spec, full_spec, causal=causal, window=window, layout=layout, group=group, **(compile_options or {})
        )

    # -- layout ---------------------------------------------------------------

    def _world(self) -> tuple[int, int]:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_world_size(self.group), dist.get_rank(self.group)
        return 1, 0

    def pieces(self, seq_len: int, world_size: int, rank: int) -> list[tuple[int, int]]:
        if self.layout == "zigzag":
            return zigzag_positions(seq_len, world_size, rank)
        return contiguous_positions(seq_len, world_size, rank)

    def shard(self, x: torch.Tensor, dim: int = 0) -> torch.Tensor:
        """This rank's slice of a full-sequence tensor, in this module's layout."""
        world, rank = self._world()
        if self.layout == "zigzag":
            return zigzag_shard(x, world, rank, dim)
        return x.chunk(world, dim=dim)[rank]

    def unshard(self, shards: Sequence[torch.Tensor], dim: int = 0) -> torch.Tensor:
        """The full tensor from every rank's slice (shards[r] from rank r)."""
        if self.layout == "zigzag":
            return zigzag_unshard(shards, dim)
        return torch.cat(list(shards), dim=dim)

    # -- the ring -------------------------------------------------------------

    def _rotate(self, buf: torch.Tensor, world: int, rank: int):
        """Start sending buf to rank + 1 and receiving rank - 1's into a new buffer."""
        import torch.distributed as dist

        recv = torch.empty_like(buf)
        # gloo and some NCCL builds lack bf16 point-to-point: move the bits as int16.
        send_bits = buf.view(torch.int16) if buf.element_size() == 2 else buf
        recv_bits = recv.view(torch.int16) if recv.element_size() == 2 else recv
        to = dist.get_global_rank(self.group, (rank + 1) % world) if self.group is not None else (rank + 1) % world
        frm = dist.get_global_rank(self.group, (rank - 1) % world) if self.group is not None else (rank - 1) % world
        ops = [
            dist.P2POp(dist.isend, send_bits, to, self.group),
            dist.P2POp(dist.irecv, recv_bits, frm, self.group),
        ]
        return recv, dist.batch_isend_irecv(ops)

    def _run_pairs(self, attn, pairs, q, kv, q_pieces, kv_pieces, with_offsets, params):
        """One ragged attnc call for a list of chunk pairs over every sequence of the batch."""
        B = q.shape[0]
        qs, ks, vs, q_len, kv_len, q_off, kv_off, seq = [], [], [], [], [], [], [], []
        for b in range(B):
            for p in pairs:
                qa, qn = p.q_range
                ka, kn = p.kv_range
                q_lo = sum(n for _, n in q_pieces[: p.q_piece])
                k_lo = sum(n for _, n in kv_pieces[: p.kv_piece])
                qs.append(q[b, q_lo : q_lo + qn])
                ks.append(kv[0][b, k_lo : k_lo + kn])
                vs.append(kv[1][b, k_lo : k_lo + kn])
                q_len.append(qn)
                kv_len.append(kn)
                q_off.append(qa - (kn - qn))
                kv_off.append(ka)
                seq.append(b)
        dev = q.device
        qo_indptr = torch.tensor([0, *torch.tensor(q_len).cumsum(0).tolist()], dtype=torch.int32, device=dev)
        kv_indptr = torch.tensor([0, *torch.tensor(kv_len).cumsum(0).tolist()], dtype=torch.int32, device=dev)
        # Params with a leading `batch` dimension: one row per sequence of the
        # caller's batch; the call's batch is one entry per (sequence, pair).
        extra = {}
        declared = attn.info.get("params", {})
        rows = torch.tensor(seq, dtype=torch.long, device=dev)
        for name, value in params.items():
            dims = declared.get(name, (None, ()))[1]
            if dims and dims[0] == "batch" and isinstance(value, torch.Tensor):
                value = value.index_select(0, rows.to(value.device))
            extra[name] = value
        if with_offsets:
            extra["q_off"] = torch.tensor(q_off, dtype=torch.int32, device=dev)
            extra["kv_off"] = torch.tensor(kv_off, dtype=torch.int32, device=dev)
        o, lse = attn(
            torch.cat(qs).contiguous(),
            torch.cat(ks).contiguous(),
            torch.cat(vs).contiguous(),
            qo_indptr=qo_indptr,
            kv_indptr=kv_indptr,
            **extra,
        )
        out = []
        i = 0
        for b in range(B):
            for p in pairs:
                n = p.q_range[1]
                out.append((b, p, o[i : i + n], lse[i : i + n]))
                i += n
        return out

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, seq_len: int | None = None, **params):
        """Attention of this rank's queries over the whole (sharded) sequence.

        q [S_local, Hq, D] or [B, S_local, Hq, D]; k, v [S_local, Hkv, D] or
        [B, S_local, Hkv, D]: this rank's slice in the module's layout (every
        rank holds the same number of tokens; seq_len defaults to
        world_size * S_local). Extra keyword arguments are the spec's other
        params; a param whose first dimension is `batch` has one row per
        sequence of q's batch, and position-indexed params are read at the
        global positions the spec writes (`doc[b, q + q_off[b]]`). Returns (o like q, lse float32 [..., S_local, Hq]) for this
        rank's queries.
        """
        squeeze = q.dim() == 3
        if squeeze:
            q, k, v = q[None], k[None], v[None]
        if k.shape[:2] != q.shape[:2] or v.shape != k.shape:
            raise ValueError("q, k and v must hold the same sequences and tokens (self-attention)")
        world, rank = self._world()
        S_local = q.shape[1]
        if seq_len is None:
            seq_len = S_local * world
        my_pieces = self.pieces(seq_len, world, rank)
        if sum(n for _, n in my_pieces) != S_local:
            raise ValueError(f"rank {rank} holds {S_local} tokens, the layout gives it {sum(n for _, n in my_pieces)}")

        B, _, Hq, D = q.shape
        o_acc = torch.zeros(B, S_local, Hq, D, dtype=torch.float32, device=q.device)
        lse_acc = torch.full((B, S_local, Hq), float("-inf"), dtype=torch.float32, device=q.device)
        kv_buf = torch.stack([k, v]).contiguous()  # one message per step

        for step in range(world):
            pending = None
            if step + 1 < world:
                next_buf, pending = self._rotate(kv_buf, world, rank)
            src = (rank - step) % world
            src_pieces = self.pieces(seq_len, world, src)
            full_pairs, partial_pairs = [], []
            for i, qr in enumerate(my_pieces):
                for j, kr in enumerate(src_pieces):
                    kind = classify(qr, kr, self.causal, self.window) if self.causal is not None else PARTIAL
                    pair = _Pair(i, qr, j, kr)
                    if kind == NONE:
                        self.stats["skipped"] += 1
                    elif kind == FULL and self.full_attn is not None:
                        full_pairs.append(pair)
                    else:
                        partial_pairs.append(pair)
            results = []
            if full_pairs:
                self.stats["full"] += len(full_pairs)
                results += self._run_pairs(self.full_attn, full_pairs, q, kv_buf, my_pieces, src_pieces, False, params)
            if partial_pairs:
                self.stats["partial"] += len(partial_pairs)
                results += self._run_pairs(
                    self.offset_attn, partial_pairs, q, kv_buf, my_pieces, src_pieces, True, params
                )
            for b, p, o, lse in results:
                lo = sum(n for _, n in my_pieces[: p.q_piece])
                hi = lo + p.q_range[1]
                o_acc[b, lo:hi], lse_acc[b, lo:hi] = merge_partials(o_acc[b, lo:hi], lse_acc[b, lo:hi], o, lse)
            if pending is not None:
                for req in pending:
                    req.wait()
                kv_buf = next_buf

        o = o_acc.to(q.dtype)
        if squeeze:
            return o[0], lse_acc[0]
        return o, lse_acc


__all__ = [
    "RingAttention",
    "classify",
    "contiguous_positions",
    "merge_partials",
    "ring_specs",
    "zigzag_positions",
    "zigzag_shard",
    "zigzag_unshard",
]
