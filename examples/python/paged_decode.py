"""A decode loop over a paged KV cache (PagedAttention layout) with attnc.

The cache is a pool of fixed-size pages, k_cache/v_cache [num_pages,
page_size, kv_heads, head_dim]; each sequence owns a list of pages (its row
of the block table) and a length. This script keeps the pool itself (a free
list), prefills three prompts, then decodes: every step appends one token's
K/V to each running sequence (taking a new page when the last one is full),
and runs `attn.paged` with one query per sequence. Halfway, the first
sequence finishes, its pages go back to the pool, and a new prompt joins the
batch in its place. Every step is checked against float64 attention over the
same keys; pages nobody wrote hold NaN, so reading one would show.

Random tensors stand in for a model's q/k/v projections. (attnc.KVCache
offers a managed pool with fork, copy-on-write and prefix reuse; this
example keeps the bookkeeping visible.)

    python examples/python/paged_decode.py
"""

from __future__ import annotations

import math
import sys

import torch

import attnc

SPEC = """
attention paged_decode {
  dtype    = bf16
  head_dim = 64
  q_heads  = 8
  kv_heads = 2
  kv_cache = paged(page_size = 16)
  mask     = kv <= q
}
"""
NUM_PAGES, MAX_PAGES = 24, 6
STEPS = 12


class Pool:
    """Pages of K and V, a free list, and each sequence's pages and length."""

    def __init__(self, attn):
        info = attn.info
        self.page_size, self.hkv, self.d = info["page_size"], info["kv_heads"], info["head_dim"]
        shape = (NUM_PAGES, self.page_size, self.hkv, self.d)
        self.k = torch.full(shape, float("nan"), dtype=torch.bfloat16)
        self.v = torch.full(shape, float("nan"), dtype=torch.bfloat16)
        self.free = list(range(NUM_PAGES))
        self.pages: dict[int, list[int]] = {}
        self.length: dict[int, int] = {}
        self.history: dict[int, tuple[list, list]] = {}  # every K/V row, for the reference

    def append(self, seq: int, k: torch.Tensor, v: torch.Tensor):
        """Write the K/V rows [n, kv_heads, head_dim] after the sequence's last token."""
        pages = self.pages.setdefault(seq, [])
        n0 = self.length.get(seq, 0)
        for i in range(k.shape[0]):
            pos = n0 + i
            if pos // self.page_size == len(pages):
                pages.append(self.free.pop(0))
            page, slot = pages[pos // self.page_size], pos % self.page_size
            self.k[page, slot], self.v[page, slot] = k[i], v[i]
        self.length[seq] = n0 + k.shape[0]
        hk, hv = self.history.setdefault(seq, ([], []))
        hk.append(k)
        hv.append(v)

    def release(self, seq: int):
        self.free += self.pages.pop(seq)
        del self.length[seq], self.history[seq]

    def tables(self, seqs: list[int]):
        table = torch.zeros(len(seqs), MAX_PAGES, dtype=torch.int32)
        for row, s in enumerate(seqs):
            table[row, : len(self.pages[s])] = torch.tensor(self.pages[s], dtype=torch.int32)
        lens = torch.tensor([self.length[s] for s in seqs], dtype=torch.int32)
        return table, lens


def reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
    """float64 causal attention of q [m, Hq, D] at the end of k/v [n, Hkv, D]."""
    m, hq, d = q.shape
    n, rep = k.shape[0], hq // k.shape[1]
    s = torch.einsum("qhd,khd->hqk", q.double(), k.double().repeat_interleave(rep, 1)) / math.sqrt(d)
    pos_q = torch.arange(n - m, n)[:, None]
    s = s.masked_fill(torch.arange(n)[None, :] > pos_q, float("-inf"))
    o = torch.einsum("hqk,khd->qhd", torch.softmax(s, -1), v.double().repeat_interleave(rep, 1))
    return o, torch.logsumexp(s, -1).T


def main() -> int:
    attn = attnc.compile(SPEC)
    hq, hkv, d = attn.info["q_heads"], attn.info["kv_heads"], attn.info["head_dim"]
    pool = Pool(attn)
    g = torch.Generator().manual_seed(0)

    def rows(n, heads):
        return torch.randn(n, heads, d, generator=g).to(torch.bfloat16)

    worst = 0.0

    def check(seqs, q, qo_indptr):
        nonlocal worst
        table, lens = pool.tables(seqs)
        o, lse = attn.paged(q, pool.k, pool.v, table, lens, qo_indptr=qo_indptr)
        for row, s in enumerate(seqs):
            a, b = (int(qo_indptr[row]), int(qo_indptr[row + 1])) if qo_indptr is not None else (row, row + 1)
            ref_o, ref_lse = reference(q[a:b], torch.cat(pool.history[s][0]), torch.cat(pool.history[s][1]))
            err = (o[a:b].double() - ref_o).abs().max().item() / ref_o.abs().max().item()
            lerr = (lse[a:b].double() - ref_lse).abs().max().item()
            worst = max(worst, err)
            if not (err <= 1e-2 and lerr <= 1e-3):
                raise AssertionError(f"sequence {s}: |o - ref| / max|ref| = {err:.2e}, |lse - ref| = {lerr:.2e}")

    # Prefill three prompts: their K/V go into pages, their queries run as one ragged batch.
    running, next_id = [], 0
    prompts = [5, 17, 33]
    qs = []
    for n in prompts:
        pool.append(next_id, rows(n, hkv), rows(n, hkv))
        qs.append(rows(n, hq))
        running.append(next_id)
        next_id += 1
    qo = torch.tensor([0, *torch.tensor(prompts).cumsum(0).tolist()], dtype=torch.int32)
    check(running, torch.cat(qs), qo)
    print(f"prefill {prompts}: pages {[pool.pages[s] for s in running]}")

    for step in range(STEPS):
        if step == STEPS // 2:  # sequence 0 is done; a new prompt takes its place (and its pages)
            pool.release(running[0])
            pool.append(next_id, rows(20, hkv), rows(20, hkv))
            check([next_id], rows(20, hq), torch.tensor([0, 20], dtype=torch.int32))
            running = running[1:] + [next_id]
            next_id += 1
        for s in running:  # this step's token of every running sequence
            pool.append(s, rows(1, hkv), rows(1, hkv))
        check(running, rows(len(running), hq), None)  # q [batch, Hq, D]: one query per sequence
        table, lens = pool.tables(running)
        print(f"step {step:2}: lengths {lens.tolist()}, free pages {len(pool.free)}")
    print(f"every step matches float64 attention (worst |o - ref| / max|ref| = {worst:.2e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
