"""MLA decode (DeepSeek-V2/V3): queries and keys of 576 columns, values of
512, one latent KV head whose first 512 columns are V (kv_layout = latent).
The cache is passed once; a V argument, if any, must be the view of K's
first 512 columns that the kernel reads."""

import pytest
import torch

import attnc
from reference import assert_close, attention, paged_to_dense

SPEC = """
attention mla_decode {
  dtype = bf16; head_dim = 576; v_head_dim = 512; q_heads = 16; kv_heads = 1
  kv_cache = paged(page_size = 16)
  kv_layout = latent
  scale = 0.07216878364870322
  mask = kv <= q
}
"""


def test_latent_cache_decode_matches_the_reference():
    attn = attnc.compile(SPEC)
    assert attn.info["head_dim"] == 576 and attn.info["v_head_dim"] == 512
    assert attn.info["kv_layout"] == "latent"
    torch.manual_seed(0)
    cache = torch.randn(9, 16, 1, 576).bfloat16()
    table = torch.tensor([[3, 7, 1, 0], [8, 2, 5, 6]], dtype=torch.int32)
    lens = torch.tensor([50, 17], dtype=torch.int32)
    q = torch.randn(2, 16, 576).bfloat16()
    o, lse = attn.paged(q, cache, cache[..., :512], table, lens)
    assert o.shape == (2, 16, 512) and lse.shape == (2, 16)
    # The reference gets V as its own tensor, copied out of the cache.
    k, v, kv = paged_to_dense(cache, cache[..., :512].contiguous(), table, lens)
    ref_o, ref_lse = attention(q, k, v, torch.tensor([0, 1, 2], dtype=torch.int32), kv,
                               scale=0.07216878364870322,
                               mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o, lse, ref_o, ref_lse, torch.bfloat16)


def test_a_v_cache_that_is_not_the_view_of_k_is_refused():
    attn = attnc.compile(SPEC)
    cache = torch.randn(4, 16, 1, 576).bfloat16()
    table = torch.tensor([[0, 1]], dtype=torch.int32)
    lens = torch.tensor([20], dtype=torch.int32)
    q = torch.randn(1, 16, 576).bfloat16()
    with pytest.raises(ValueError, match=r"kv_layout = latent: V is the first 512 "
                                         r"columns of k_cache"):
        attn.paged(q, cache, cache[..., :512].contiguous(), table, lens)


def test_kvcache_says_how_to_pass_a_latent_cache():
    with pytest.raises(ValueError, match=r"kv_layout = latent .* k_cache\[\.\.\., :512\] as v_cache"):
        attnc.KVCache.for_attention(attnc.compile(SPEC), num_pages=4)


def test_v_wider_than_k_is_a_spec_error():
    with pytest.raises(attnc.SpecError, match="kv_layout = latent reads V"):
        attnc.compile(SPEC.replace("head_dim = 576", "head_dim = 320"))
