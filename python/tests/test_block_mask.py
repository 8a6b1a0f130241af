"""A mask the compiler cannot bound (a 2-D param read at q and kv) runs over
a runtime block mask, which a call builds and the next call of the same
lengths and mask param values reuses (Runtime::run keeps it per stream).
A changed param value or length must build a new one: each call is checked
against a float64 reference computed here from the same tensors."""

import math

import pytest
import torch

import attnc
from conftest import ragged
from reference import assert_close, attention

PAIRWISE = """
attention pairwise_py {
  dtype = fp16; head_dim = 32; q_heads = 4; kv_heads = 2
  param allow : i32[?, ?]
  mask = allow[q, kv] >= 1 && kv <= q
}
"""


@pytest.fixture(scope="module")
def pairwise():
    return attnc.compile(PAIRWISE)


def blocks(n, rows, cols, shift=0):
    """allow[i, j] = 1 in blocks of rows x cols, one in three, not aligned
    with the kernel's tiles; `shift` moves the pattern."""
    i = torch.arange(n).view(n, 1)
    j = torch.arange(n).view(1, n)
    return (((i // rows + (j + shift) // cols) % 3) == 0).to(torch.int32)


def check(attn, q, k, v, qo, kv, allow):
    o, lse = attn(q, k, v, qo_indptr=qo, kv_indptr=kv, allow=allow)
    ref_o, ref_lse = attention(
        q, k, v, qo, kv, scale=1 / math.sqrt(32),
        mask=lambda b, h, qp, kp: (allow[qp, kp] >= 1) & (kp <= qp))
    assert_close(o, lse, ref_o, ref_lse, torch.float16)


def test_reused_mask_follows_param_and_length_changes(pairwise):
    assert pairwise.kernel_for(2, 150, 150)["block_mask"]
    torch.manual_seed(0)
    q, qo = ragged([150, 90], 4, 32, torch.float16)
    k, kv = ragged([150, 120], 2, 32, torch.float16)
    v = torch.randn_like(k)
    allow = blocks(150, 37, 53)
    check(pairwise, q, k, v, qo, kv, allow)     # builds the mask
    check(pairwise, q, k, v, qo, kv, allow)     # reuses it
    check(pairwise, q, k, v, qo, kv, blocks(150, 37, 53, shift=20))  # values
    q2, qo2 = ragged([150, 91], 4, 32, torch.float16)
    k2, kv2 = ragged([150, 121], 2, 32, torch.float16)
    check(pairwise, q2, k2, torch.randn_like(k2), qo2, kv2, allow)  # lengths
