"""Ragged dense attention against the float64 reference."""

import math

import pytest
import torch

import attnc
from conftest import ragged
from reference import assert_close, attention

WINDOW_BF16 = """
attention window {
  dtype = bf16; head_dim = 64; q_heads = 4; kv_heads = 4
  mask = kv <= q && q - kv < 9
}
"""

GQA7 = """
attention gqa7 {
  dtype = fp16; head_dim = 32; q_heads = 14; kv_heads = 2
  mask = kv <= q
}
"""


def run_and_check(attn, q_lens, kv_lens, dtype, mask, **call):
    info = attn.info
    q, qo = ragged(q_lens, info["q_heads"], info["head_dim"], dtype)
    k, kv = ragged(kv_lens, info["kv_heads"], info["head_dim"], dtype)
    v, _ = ragged(kv_lens, info["kv_heads"], info["head_dim"], dtype)
    o, lse = attn(q, k, v, qo_indptr=qo, kv_indptr=kv, **call)
    assert o.shape == q.shape and o.dtype == dtype
    assert lse.shape == q.shape[:2] and lse.dtype == torch.float32
    ref_o, ref_lse = attention(q, k, v, qo, kv, scale=info["scale"], mask=mask)
    assert_close(o, lse, ref_o, ref_lse, dtype)
    return o, lse


def test_three_sequences_fp16(causal):
    # Different lengths, a prefill (q == kv), a chunk (q < kv) and one with
    # more queries than keys, whose first rows see no key at all.
    o, lse = run_and_check(causal, [37, 5, 20], [37, 70, 12], torch.float16,
                           lambda b, h, q, kv: kv <= q)
    assert torch.isinf(lse[42:50]).all() and (o[42:50] == 0).all()
    assert causal.backend == "sim"


def test_bf16_sliding_window():
    attn = attnc.compile(WINDOW_BF16)
    assert attn.info["dtype"] == "bf16"
    run_and_check(attn, [33, 1, 17], [33, 60, 40], torch.bfloat16,
                  lambda b, h, q, kv: (kv <= q) & (q - kv < 9))


def test_gqa_seven_query_heads_per_kv_head():
    attn = attnc.compile(GQA7)
    assert attn.info["q_heads"] // attn.info["kv_heads"] == 7
    run_and_check(attn, [19, 3, 40], [19, 50, 41], torch.float16,
                  lambda b, h, q, kv: kv <= q)


def test_decode_shape_takes_the_decode_path(causal):
    # One query per sequence: the heuristics pick the split-KV decode kernel.
    assert causal.kernel_for(3, 1, 90)["path"] == "decode"
    run_and_check(causal, [1, 1, 1], [90, 17, 64], torch.float16,
                  lambda b, h, q, kv: kv <= q, num_splits=3)


def test_one_sequence_by_default(causal):
    q = torch.randn(24, 4, 64).half()
    k = torch.randn(40, 2, 64).half()
    v = torch.randn(40, 2, 64).half()
    o, lse = causal(q, k, v)
    ref_o, ref_lse = attention(q, k, v, torch.tensor([0, 24]), torch.tensor([0, 40]),
                               scale=1 / math.sqrt(64), mask=lambda b, h, q, kv: kv <= q)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)


def test_info(causal):
    info = causal.info
    assert info == {"name": "causal", "dtype": "fp16", "kv_dtype": "fp16", "head_dim": 64,
                    "v_head_dim": 64, "q_heads": 4, "kv_heads": 2, "kv_cache": "dense",
                    "kv_layout": "separate", "page_size": None, "params": {}, "scale": 0.125}
    info["name"] = "changed"  # a copy: the Attention is unaffected
    assert causal.info["name"] == "causal"
