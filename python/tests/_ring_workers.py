"""Worker processes for test_ring.py (spawned by torch.multiprocessing)."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from attnc.ring import RingAttention

# One problem for every run: a sequence of S tokens, GQA 4:2, head_dim 32.
S, HQ, HKV, D = 128, 4, 2, 32
# (name, causal, window, layout, batch)
CASES = [
    ("causal", True, None, "zigzag", 1),
    ("window", True, 24, "zigzag", 1),
    ("causal_batch2", True, None, "zigzag", 2),
    ("window_contiguous", True, 24, "contiguous", 1),
]


def inputs(batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, S, HQ, D, generator=g).to(torch.bfloat16)
    k = torch.randn(batch, S, HKV, D, generator=g).to(torch.bfloat16)
    v = torch.randn(batch, S, HKV, D, generator=g).to(torch.bfloat16)
    return q, k, v


def worker(rank: int, world: int, port: int, out_path: str):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        results = {}
        for name, causal, window, layout, batch in CASES:
            ring = RingAttention.for_mask(
                head_dim=D, q_heads=HQ, kv_heads=HKV, dtype="bf16", causal=causal, window=window, layout=layout
            )
            q, k, v = inputs(batch)
            local = [ring.shard(t, dim=1) for t in (q, k, v)]
            o, lse = ring(*local)
            os_ = [torch.empty_like(o) for _ in range(world)]
            ls = [torch.empty_like(lse) for _ in range(world)]
            dist.all_gather(os_, o)
            dist.all_gather(ls, lse)
            stats = torch.tensor([ring.stats["full"], ring.stats["partial"], ring.stats["skipped"]])
            all_stats = [torch.empty_like(stats) for _ in range(world)]
            dist.all_gather(all_stats, stats)
            results[name] = {
                "o": ring.unshard(os_, dim=1),
                "lse": ring.unshard(ls, dim=1),
                "stats": torch.stack(all_stats),  # [world, (full, partial, skipped)]
            }
        if rank == 0:
            torch.save(results, out_path)
    finally:
        dist.destroy_process_group()
