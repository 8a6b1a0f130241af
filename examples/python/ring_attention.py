"""Ring attention (context parallelism) over torch.distributed with attnc kernels.

Spawns WORLD processes on the gloo backend (CPU; use nccl and CUDA tensors on
GPUs). Each holds a zig-zag slice of one long sequence; `RingAttention`
passes the K/V slices around the ring and merges the partial results with
their log-sum-exps. Rank 0 gathers the output and compares it with attnc on
the whole sequence in one process.

    python examples/python/ring_attention.py [--world 2] [--window 48]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import attnc
from attnc.ring import RingAttention, ring_specs

S, HQ, HKV, D = 256, 8, 2, 64


def inputs():
    g = torch.Generator().manual_seed(0)
    return [torch.randn(S, h, D, generator=g).to(torch.bfloat16) for h in (HQ, HKV, HKV)]


def run(rank: int, world: int, port: int, window, result_path: str):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    ring = RingAttention.for_mask(head_dim=D, q_heads=HQ, kv_heads=HKV, causal=True, window=window)
    q, k, v = (ring.shard(t) for t in inputs())  # this rank's chunks r and 2W-1-r
    o, lse = ring(q, k, v)
    parts = [torch.empty_like(o) for _ in range(world)]
    dist.all_gather(parts, o)
    print(f"rank {rank}: chunk pairs {ring.stats}", flush=True)
    if rank == 0:
        torch.save(ring.unshard(parts), result_path)
    dist.destroy_process_group()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", type=int, default=2)
    parser.add_argument("--window", type=int, default=None, help="sliding window (default: plain causal)")
    args = parser.parse_args()

    # Compile the specs once here; the workers find them in attnc's kernel cache.
    for spec in ring_specs(head_dim=D, q_heads=HQ, kv_heads=HKV, causal=True, window=args.window):
        attnc.compile(spec)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = f"/tmp/attnc-ring-{os.getpid()}.pt"
    mp.spawn(run, args=(args.world, port, args.window, result), nprocs=args.world)
    ring_o = torch.load(result)
    os.unlink(result)

    mask = "kv <= q" + (f" && q - kv < {args.window}" if args.window else "")
    one = attnc.compile(
        f"attention whole {{\n dtype = bf16\n head_dim = {D}\n q_heads = {HQ}\n kv_heads = {HKV}\n mask = {mask}\n}}\n"
    )
    q, k, v = inputs()
    o, _ = one(q, k, v)
    err = (ring_o.float() - o.float()).abs().max().item() / o.float().abs().max().item()
    print(f"ring of {args.world} vs one process: max |diff| / max|o| = {err:.2e}")
    return 0 if err <= 1e-2 else 1


if __name__ == "__main__":
    sys.exit(main())
