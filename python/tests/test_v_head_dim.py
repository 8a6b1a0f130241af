"""v_head_dim: V and O with their own number of columns (DeepSeek's MLA
prefill: queries and keys of 192, values of 128)."""

import pytest
import torch

import attnc
from reference import assert_close, attention, paged_to_dense

SPEC = """
attention mla_prefill {
  dtype = fp16; head_dim = 192; v_head_dim = 128; q_heads = 4; kv_heads = 2
  mask = kv <= q
}
"""


def test_o_has_v_head_dim_columns_and_matches_the_reference():
    attn = attnc.compile(SPEC)
    assert attn.info["head_dim"] == 192 and attn.info["v_head_dim"] == 128
    q = torch.randn(50, 4, 192).half()
    k = torch.randn(80, 2, 192).half()
    v = torch.randn(80, 2, 128).half()
    qo = torch.tensor([0, 30, 50], dtype=torch.int32)
    kv = torch.tensor([0, 45, 80], dtype=torch.int32)
    o, lse = attn(q, k, v, qo_indptr=qo, kv_indptr=kv)
    assert o.shape == (50, 4, 128) and lse.shape == (50, 4)
    ref_o, ref_lse = attention(q, k, v, qo, kv, scale=192 ** -0.5,
                               mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)


def test_paged_with_a_narrow_v_and_the_model_layout():
    attn = attnc.compile(SPEC.replace("mask = kv <= q",
                                      "kv_cache = paged(page_size = 8)\n  mask = kv <= q"))
    k_cache = torch.randn(12, 8, 2, 192).half()
    v_cache = torch.randn(12, 8, 2, 128).half()
    table = torch.tensor([[3, 7, 1, 0, 9], [11, 2, 5, 6, 4]], dtype=torch.int32)
    lens = torch.tensor([37, 30], dtype=torch.int32)
    q = torch.randn(2, 4, 192).half()
    o, lse = attn.paged(q, k_cache, v_cache, table, lens)
    assert o.shape == (2, 4, 128)
    k, v, kv = paged_to_dense(k_cache, v_cache, table, lens)
    ref_o, ref_lse = attention(q, k, v, torch.tensor([0, 1, 2], dtype=torch.int32), kv,
                               scale=192 ** -0.5, mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)
    # A V cache of the wrong width is refused by name.
    with pytest.raises(ValueError, match="v_cache has shape"):
        attn.paged(q, k_cache, k_cache, table, lens)
    with pytest.raises(ValueError, match="v_head_dim 128 and head_dim 192"):
        attnc.KVCache.for_attention(attn, num_pages=4)


def test_padded_layout_returns_v_head_dim_columns():
    attn = attnc.compile(SPEC)
    q = torch.randn(2, 4, 9, 192).half()
    k = torch.randn(2, 2, 13, 192).half()
    v = torch.randn(2, 2, 13, 128).half()
    o, lse = attn.padded(q, k, v)
    assert o.shape == (2, 4, 9, 128) and lse.shape == (2, 4, 9)
