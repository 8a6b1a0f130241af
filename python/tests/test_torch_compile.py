"""torch.compile(fullgraph=True) over functions calling an Attention: the
calls are torch.ops.attnc.* custom ops with fake implementations, so dynamo
traces them without a graph break and the graph runs them."""

import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

import attnc
from conftest import ragged

SPEC = """
attention compiled {
  dtype = fp16; head_dim = 32; q_heads = 4; kv_heads = 2
  param cap : f32
  score = cap * tanh(score / cap)
  mask = kv <= q
}
"""

PAGED = """
attention compiled_paged {
  dtype = fp16; head_dim = 32; q_heads = 4; kv_heads = 2
  kv_cache = paged(page_size = 8)
  mask = kv <= q
}
"""


def compile_and_count(fn, *args):
    """fn compiled with fullgraph=True by a backend that records each graph
    and runs it with aot_eager; returns (result, graphs, graph breaks)."""
    torch._dynamo.reset()
    counters.clear()
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        from torch._dynamo.backends.debugging import aot_eager
        return aot_eager(gm, example_inputs)

    result = torch.compile(fn, fullgraph=True, backend=backend)(*args)
    return result, graphs, sum(counters["graph_break"].values())


def test_dense_and_padded_trace_without_breaks():
    attn = attnc.compile(SPEC)
    q, qo = ragged([9, 14], 4, 32, torch.float16)
    k, kv = ragged([20, 14], 2, 32, torch.float16)
    v, _ = ragged([20, 14], 2, 32, torch.float16)

    def step(q, k, v, qo, kv):
        o, lse = attn(q * 0.5, k, v, qo_indptr=qo, kv_indptr=kv, cap=20.0)
        return o.float().sum(-1) + lse

    def model_layout(q, k, v):
        o, lse = attn.padded(q, k, v, cap=20.0)
        return o * 2, lse

    (out, graphs, breaks) = compile_and_count(step, q, k, v, qo, kv)
    assert breaks == 0 and len(graphs) == 1
    assert "torch.ops.attnc.attention" in graphs[0].code
    assert torch.equal(out, step(q, k, v, qo, kv))

    qp, kp, vp = (torch.randn(2, h, s, 32).half() for h, s in ((4, 6), (2, 9), (2, 9)))
    (o, lse), graphs, breaks = compile_and_count(model_layout, qp, kp, vp)
    assert breaks == 0 and "torch.ops.attnc.attention_padded" in graphs[0].code
    eo, else_ = model_layout(qp, kp, vp)
    assert torch.equal(o, eo) and torch.equal(lse, else_)


def test_paged_traces_without_breaks():
    attn = attnc.compile(PAGED)
    k_cache = torch.randn(6, 8, 2, 32).half()
    v_cache = torch.randn(6, 8, 2, 32).half()
    table = torch.tensor([[3, 1, 0], [5, 2, 4]], dtype=torch.int32)
    lens = torch.tensor([19, 24], dtype=torch.int32)
    q = torch.randn(2, 4, 32).half()

    def decode(q, k_cache, v_cache, table, lens):
        return attn.paged(q, k_cache, v_cache, table, lens)

    (o, lse), graphs, breaks = compile_and_count(decode, q, k_cache, v_cache, table, lens)
    assert breaks == 0 and "torch.ops.attnc.attention_paged" in graphs[0].code
    eo, else_ = decode(q, k_cache, v_cache, table, lens)
    assert torch.equal(o, eo) and torch.equal(lse, else_)


def test_fake_shapes_match_real():
    attn = attnc.compile(SPEC)
    q, qo = ragged([5], 4, 32, torch.float16)
    k, kv = ragged([7], 2, 32, torch.float16)
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode() as mode:
        fq, fk, fv = (mode.from_tensor(t) for t in (q, k, k))
        fo, flse = attn(fq, fk, fv, cap=20.0)
    o, lse = attn(q, k, k, cap=20.0)
    assert (fo.shape, fo.dtype, flse.shape, flse.dtype) == (o.shape, o.dtype, lse.shape, lse.dtype)
    assert fo.stride() == o.stride() and flse.stride() == lse.stride()
