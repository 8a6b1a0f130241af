"""Ring attention (attnc.ring) over torch.distributed's gloo backend on the CPU.

2 and 4 processes each hold a zig-zag (or contiguous) slice of one sequence;
the gathered result must equal a float64 torch reference and attnc run in a
single process on the whole sequence, for causal and sliding-window masks.
"""

from __future__ import annotations

import itertools
import math
import socket

import pytest
import torch
import torch.multiprocessing as mp

import attnc
import _ring_workers as W
from attnc.ring import (
    FULL,
    NONE,
    PARTIAL,
    RingAttention,
    classify,
    merge_partials,
    ring_specs,
    zigzag_positions,
    zigzag_shard,
    zigzag_unshard,
)

# max |o - ref| / max |ref|: bf16 outputs (one rounding in a single kernel,
# partial outputs rounded to bf16 before the float32 merge in the ring)
O_RTOL = 1e-2
LSE_ATOL = 1e-5


def reference(q, k, v, causal, window, mask_fn=None, softcap=None):
    """float64 attention of [B, S, H, D] tensors, positions 0..S-1; mask_fn(q, kv) replaces the mask."""
    B, S, Hq, D = q.shape
    rep = Hq // k.shape[2]
    qd = q.double().transpose(1, 2)
    kd = k.double().repeat_interleave(rep, 2).transpose(1, 2)
    vd = v.double().repeat_interleave(rep, 2).transpose(1, 2)
    s = qd @ kd.transpose(-1, -2) / math.sqrt(D)
    if softcap is not None:
        s = softcap * torch.tanh(s / softcap)
    i = torch.arange(S)
    visible = torch.ones(S, S, dtype=torch.bool)
    if causal:
        visible &= i[None, :] <= i[:, None]
    if window is not None:
        visible &= (i[:, None] - i[None, :]) < window
    if mask_fn is not None:
        visible = mask_fn(i[:, None], i[None, :])
    s = s.masked_fill(~visible, float("-inf"))
    o = torch.softmax(s, -1) @ vd
    return o.transpose(1, 2), torch.logsumexp(s, -1).transpose(1, 2)


def single_process(q, k, v, causal, window):
    """attnc on the whole sequence in this process (its own spec, no offsets)."""
    terms = (["kv <= q"] if causal else []) + ([f"q - kv < {window}"] if window is not None else [])
    spec = (
        f"attention single {{\n  dtype = bf16\n  head_dim = {W.D}\n  q_heads = {W.HQ}\n  kv_heads = {W.HKV}\n"
        + (f"  mask = {' && '.join(terms)}\n" if terms else "")
        + "}\n"
    )
    attn = attnc.compile(spec)
    B, S = q.shape[:2]
    indptr = torch.arange(0, (B + 1) * S, S, dtype=torch.int32)
    o, lse = attn(q.flatten(0, 1), k.flatten(0, 1), v.flatten(0, 1), qo_indptr=indptr, kv_indptr=indptr)
    return o.view(B, S, *o.shape[1:]), lse.view(B, S, -1)


def _check(o, lse, ref_o, ref_lse, what):
    scale = ref_o.abs().max().item()
    err = (o.double() - ref_o).abs().max().item() / scale
    lerr = (lse.double() - ref_lse).abs().max().item()
    print(f"{what}: |o - ref| / max|ref| {err:.2e}, max |lse - ref| {lerr:.2e}")
    assert torch.isfinite(o).all() and torch.isfinite(lse).all()
    assert err <= O_RTOL, what
    assert lerr <= LSE_ATOL, what


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("world", [2, 4])
def test_ring_matches_single_process_and_float64(world, tmp_path):
    # Compile every spec here first: the workers then find the kernels in the cache.
    for _, causal, window, _, _ in W.CASES:
        for spec in ring_specs(head_dim=W.D, q_heads=W.HQ, kv_heads=W.HKV, causal=causal, window=window):
            attnc.compile(spec)
    out = tmp_path / "ring.pt"
    mp.spawn(W.worker, args=(world, _free_port(), str(out)), nprocs=world, join=True)
    results = torch.load(out)

    for name, causal, window, layout, batch in W.CASES:
        q, k, v = W.inputs(batch)
        ref_o, ref_lse = reference(q, k, v, causal, window)
        one_o, one_lse = single_process(q, k, v, causal, window)
        _check(one_o, one_lse, ref_o, ref_lse, f"single process {name}")
        got = results[name]
        _check(got["o"], got["lse"], ref_o, ref_lse, f"ring of {world} {name}")
        # Ring against one process: both bf16 outputs of the same math.
        diff = (got["o"].float() - one_o.float()).abs().max().item() / one_o.float().abs().max().item()
        assert diff <= O_RTOL, name
        assert (got["lse"] - one_lse).abs().max().item() <= LSE_ATOL, name

        stats = got["stats"]  # per rank: full, partial, skipped chunk pairs
        assert stats[:, 2].sum() > 0, "causal masks leave chunk pairs to skip"
        work = stats[:, 0] + stats[:, 1]
        if name.startswith("causal") and layout == "zigzag":
            # zig-zag balances causal work: every rank runs 2W + 1 chunk pairs (each over the whole batch)
            assert (work == 2 * world + 1).all(), stats.tolist()
        if layout == "contiguous":
            # the last rank's queries see more of the sequence than rank 0's
            assert work[-1] >= work[0]


def test_zigzag_shard_roundtrip():
    x = torch.arange(2 * 16 * 3).view(2, 16, 3)
    for world in (1, 2, 4, 8):
        shards = [zigzag_shard(x, world, r, dim=1) for r in range(world)]
        assert torch.equal(zigzag_unshard(shards, dim=1), x)
        for r, s in enumerate(shards):
            pos = torch.cat([torch.arange(a, a + n) for a, n in zigzag_positions(16, world, r)])
            assert torch.equal(s[0, :, 0], x[0, pos, 0])
    with pytest.raises(ValueError):
        zigzag_shard(torch.zeros(10), 4, 0)


def test_classify_agrees_with_the_mask():
    """Every chunk pair's class against the mask evaluated on all of its (q, kv) pairs."""
    for causal, window in [(True, None), (True, 1), (True, 3), (True, 7), (False, None)]:
        for qa, qn, ka, kn in itertools.product(range(0, 12, 3), (1, 2, 5), range(0, 12, 2), (1, 3, 4)):
            q = torch.arange(qa, qa + qn)[:, None]
            kv = torch.arange(ka, ka + kn)[None, :]
            m = torch.ones(qn, kn, dtype=torch.bool)
            if causal:
                m &= kv <= q
            if window is not None:
                m &= (q - kv) < window
            expected = NONE if not m.any() else FULL if m.all() else PARTIAL
            assert classify((qa, qn), (ka, kn), causal, window) == expected, (causal, window, qa, qn, ka, kn)


def test_merge_partials_is_attention_over_the_union():
    """Merging two halves' (o, lse) gives attention over all keys; empty halves merge as nothing."""
    g = torch.Generator().manual_seed(3)
    s = torch.randn(5, 2, 10, generator=g, dtype=torch.float64) * 4  # [rows, heads, keys]
    v = torch.randn(10, 3, generator=g, dtype=torch.float64)
    s[0, :, 5:] = float("-inf")  # row 0: second half sees nothing
    s[1, :, :] = float("-inf")  # row 1: no key at all

    def part(lo, hi):
        ss = s[..., lo:hi]
        lse = torch.logsumexp(ss, -1)
        p = torch.exp(ss - lse[..., None]).nan_to_num(0.0)
        o = p @ v[lo:hi]
        o[~torch.isfinite(lse)] = float("nan")  # whatever a kernel leaves there must not leak
        return o, lse

    o1, l1 = part(0, 5)
    o2, l2 = part(5, 10)
    o, lse = merge_partials(o1, l1, o2, l2)
    full_lse = torch.logsumexp(s, -1)
    full_o = (torch.softmax(s, -1).nan_to_num(0.0)) @ v
    assert torch.allclose(o[2:].double(), full_o[2:], atol=1e-5)
    assert torch.allclose(o[0].double(), full_o[0], atol=1e-5)
    assert torch.allclose(lse[:1].double(), full_lse[:1], atol=1e-5) and torch.allclose(
        lse[2:].double(), full_lse[2:], atol=1e-5
    )
    assert torch.isneginf(lse[1]).all() and (o[1] == 0).all()


@pytest.mark.parametrize("layout", ["zigzag", "contiguous"])
def test_one_process_without_a_process_group(layout):
    """With no process group the module runs the whole sequence on one rank (here with a softcap)."""
    q, k, v = W.inputs(1, seed=5)
    ref_o, ref_lse = reference(q, k, v, True, 24, softcap=1.5)
    ring = RingAttention.for_mask(
        head_dim=W.D, q_heads=W.HQ, kv_heads=W.HKV, causal=True, window=24, softcap=1.5, layout=layout
    )
    o, lse = ring(q[0], k[0], v[0])  # [S, H, D]: a single sequence
    _check(o[None], lse[None], ref_o, ref_lse, f"one rank, {layout}")
    no_cap_o, _ = reference(q, k, v, True, 24)
    assert (no_cap_o - ref_o).abs().max().item() > 10 * O_RTOL * ref_o.abs().max().item()


def _offset_spec(name, mask, *params):
    """A spec of the test's shape whose mask reads the global positions through q_off / kv_off."""
    lines = [f"attention {name}_offset {{", "  dtype = bf16", f"  head_dim = {W.D}", f"  q_heads = {W.HQ}",
             f"  kv_heads = {W.HKV}", "  param q_off : i32[batch]", "  param kv_off : i32[batch]",
             *(f"  {p}" for p in params), f"  mask = {mask}", "}"]
    return "\n".join(lines) + "\n"


def test_custom_mask_through_offsets():
    """Any mask written over q + q_off[b], kv + kv_off[b] (here Llama-4-style chunked causal
    attention, chunks of 16) runs with causal=None: every chunk pair through the offset spec."""
    spec = _offset_spec("chunked", "kv + kv_off[b] <= q + q_off[b] && (q + q_off[b]) / 16 == (kv + kv_off[b]) / 16")
    q, k, v = W.inputs(2, seed=7)
    ref_o, ref_lse = reference(q, k, v, True, None, mask_fn=lambda i, j: (j <= i) & (i // 16 == j // 16))
    ring = RingAttention(spec)
    o, lse = ring(q, k, v)
    _check(o, lse, ref_o, ref_lse, "chunked mask, one rank")
    assert ring.stats["skipped"] == 0 and ring.stats["full"] == 0


def test_ring_example_runs():
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "ring_attention.py")
    proc = subprocess.run(
        [sys.executable, script, "--world", "2", "--window", "48"], capture_output=True, text=True, timeout=300
    )
    print(proc.stdout[-2000:], proc.stderr[-2000:])
    assert proc.returncode == 0
    assert "ring of 2 vs one process" in proc.stdout


def test_batch_params_follow_their_sequence():
    """A document mask over a batch of two: doc[b, ...] must reach each sequence's chunk pairs."""
    spec = _offset_spec(
        "doc",
        "kv + kv_off[b] <= q + q_off[b] && doc[b, q + q_off[b]] == doc[b, kv + kv_off[b]]",
        "param doc : i32[batch, ?]",
    )
    doc = torch.zeros(2, W.S, dtype=torch.int32)
    doc[0, 40:] = 1
    doc[1, 10:] = 1
    doc[1, 90:] = 2
    q, k, v = W.inputs(2, seed=9)
    # float64 reference, one sequence at a time with its own documents
    outs = [
        reference(q[b : b + 1], k[b : b + 1], v[b : b + 1], True, None,
                  mask_fn=lambda i, j, d=doc[b]: (j <= i) & (d[i] == d[j]))
        for b in range(2)
    ]
    ref_o, ref_lse = torch.cat([o for o, _ in outs]), torch.cat([lse for _, lse in outs])
    o, lse = RingAttention(spec)(q, k, v, doc=doc)
    _check(o, lse, ref_o, ref_lse, "document mask, batch of two")
