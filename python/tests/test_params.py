"""Specs that read runtime params: f32 tensors, f32 scalars, i32 tensors."""

import pytest
import torch

import attnc
from conftest import ragged
from reference import assert_close, attention

SPEC = """
attention alibi_softcap_prefix {
  dtype = fp16; head_dim = 32; q_heads = 4; kv_heads = 4
  param slope  : f32[q_heads]     # ALiBi
  param cap    : f32              # logit softcap
  param prefix : i32[batch]       # prefix-LM: the first prefix[b] keys are always visible
  score = cap * tanh((score - slope[h] * (q - kv)) / cap)
  mask  = kv <= q || kv < prefix[b]
}
"""


@pytest.fixture(scope="module")
def attn():
    return attnc.compile(SPEC)


def test_info_lists_the_params(attn):
    assert attn.info["params"] == {"slope": ("f32", ("q_heads",)), "cap": ("f32", ()),
                                   "prefix": ("i32", ("batch",))}


@pytest.mark.parametrize("cap_as_number", [False, True])
def test_params_match_reference(attn, cap_as_number):
    q_lens, kv_lens = [20, 6, 11], [20, 40, 11]
    q, qo = ragged(q_lens, 4, 32, torch.float16)
    k, kv = ragged(kv_lens, 4, 32, torch.float16)
    v, _ = ragged(kv_lens, 4, 32, torch.float16)
    slope = torch.tensor([2.0 ** (-8 * (h + 1) / 4) for h in range(4)])
    prefix = torch.tensor([5, 30, 0], dtype=torch.int32)
    cap = 3.0 if cap_as_number else torch.tensor(3.0)
    o, lse = attn(q, k, v, qo_indptr=qo, kv_indptr=kv, slope=slope, cap=cap, prefix=prefix)

    def score(s, b, h, qp, kp):
        return 3.0 * torch.tanh((s - slope.double()[h] * (qp - kp)) / 3.0)

    def mask(b, h, qp, kp):
        return (kp <= qp) | (kp < prefix[b])

    ref_o, ref_lse = attention(q, k, v, qo, kv, scale=attn.info["scale"], score=score,
                               mask=mask)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)
    # The params matter: without the prefix the second sequence sees fewer keys.
    o2, _ = attn(q, k, v, qo_indptr=qo, kv_indptr=kv, slope=slope, cap=cap,
                 prefix=torch.zeros(3, dtype=torch.int32))
    assert not torch.equal(o, o2)
