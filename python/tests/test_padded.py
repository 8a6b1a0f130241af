"""attn.padded: the model layout [B, heads, S, D] with per-sequence lengths."""

import math

import pytest
import torch

import attnc
from reference import assert_close, attention

CAUSAL = """
attention padded_causal {
  dtype = fp16; head_dim = 32; q_heads = 6; kv_heads = 2
  mask = kv <= q
}
"""


@pytest.fixture(scope="module")
def attn():
    return attnc.compile(CAUSAL)


def reference_padded(q, k, v, q_lens, kv_lens, scale):
    """The reference per sequence on its valid rows, scattered back into the
    padded layout (0 and -inf past q_lens)."""
    batch, hq, sq, d = q.shape
    o = torch.zeros(batch, hq, sq, d, dtype=torch.float64)
    lse = torch.full((batch, hq, sq), -math.inf, dtype=torch.float64)
    for b in range(batch):
        nq, nk = int(q_lens[b]), int(kv_lens[b])
        ob, lb = attention(q[b, :, :nq].transpose(0, 1), k[b, :, :nk].transpose(0, 1),
                           v[b, :, :nk].transpose(0, 1), torch.tensor([0, nq]),
                           torch.tensor([0, nk]), scale=scale,
                           mask=lambda bb, h, qq, kk: kk <= qq)
        o[b, :, :nq] = ob.transpose(0, 1)
        lse[b, :, :nq] = lb.transpose(0, 1)
    return o, lse


def test_padded_with_lengths(attn):
    batch, sq, skv = 3, 12, 20
    q = torch.randn(batch, 6, sq, 32).half()
    k = torch.randn(batch, 2, skv, 32).half()
    v = torch.randn(batch, 2, skv, 32).half()
    q_lens = torch.tensor([12, 1, 7], dtype=torch.int32)
    kv_lens = torch.tensor([20, 9, 7], dtype=torch.int32)
    o, lse = attn.padded(q, k, v, q_lens=q_lens, kv_lens=kv_lens)
    assert o.shape == q.shape and lse.shape == (batch, 6, sq)
    ref_o, ref_lse = reference_padded(q, k, v, q_lens, kv_lens, attn.info["scale"])
    assert_close(o.transpose(1, 2).reshape(-1, 6, 32), lse.transpose(1, 2).reshape(-1, 6),
                 ref_o.transpose(1, 2).reshape(-1, 6, 32),
                 ref_lse.transpose(1, 2).reshape(-1, 6), torch.float16)
    assert (o[1, :, 1:] == 0).all() and torch.isinf(lse[1, :, 1:]).all()


def test_padded_full_lengths_any_strides(attn):
    q = torch.randn(2, 10, 6, 32).half().transpose(1, 2)  # [B, H, S, D], not contiguous
    k = torch.randn(2, 2, 15, 32).half()
    v = torch.randn(2, 2, 15, 32).half()
    o, lse = attn.padded(q, k, v)
    full = torch.tensor([10, 10], dtype=torch.int32)
    ref_o, ref_lse = reference_padded(q, k, v, full, torch.tensor([15, 15]), attn.info["scale"])
    assert_close(o.transpose(1, 2).reshape(-1, 6, 32), lse.transpose(1, 2).reshape(-1, 6),
                 ref_o.transpose(1, 2).reshape(-1, 6, 32),
                 ref_lse.transpose(1, 2).reshape(-1, 6), torch.float16)


def test_padded_lengths_are_checked(attn):
    q = torch.randn(2, 6, 4, 32).half()
    k = torch.randn(2, 2, 4, 32).half()
    with pytest.raises(ValueError, match=r"q_lens must lie in \[0, 4\]"):
        attn.padded(q, k, k, q_lens=torch.tensor([5, 1], dtype=torch.int32))
    with pytest.raises(TypeError, match="kv_lens is torch.int64"):
        attn.padded(q, k, k, kv_lens=torch.tensor([4, 1]))
