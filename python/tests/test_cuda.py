"""CUDA tensors on the cuda backend: the same checks as on the CPU, where a
GPU is present (skipped elsewhere, as the C++ [gpu] tests are). The
CPU-only behaviour of backend="cuda" is checked in test_errors.py."""

import pytest
import torch

import attnc
from conftest import ragged
from reference import assert_close, attention, paged_to_dense

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

PREFIX = """
attention cuda_prefix {
  dtype = bf16; head_dim = 64; q_heads = 8; kv_heads = 2
  param prefix : i32[batch]
  mask = kv <= q || kv < prefix[b]
}
"""

PAGED = """
attention cuda_paged {
  dtype = fp16; head_dim = 64; q_heads = 4; kv_heads = 2
  kv_cache = paged(page_size = 16)
  mask = kv <= q
}
"""


def test_dense_with_i32_param_on_a_side_stream():
    attn = attnc.compile(PREFIX)
    assert attn.backend == "cuda"
    q, qo = ragged([30, 1, 9], 8, 64, torch.bfloat16)
    k, kv = ragged([30, 70, 9], 2, 64, torch.bfloat16)
    v, _ = ragged([30, 70, 9], 2, 64, torch.bfloat16)
    prefix = torch.tensor([4, 50, 0], dtype=torch.int32)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        o, lse = attn(q.cuda(), k.cuda(), v.cuda(), qo_indptr=qo.cuda(),
                      kv_indptr=kv.cuda(), prefix=prefix.cuda())
    stream.synchronize()
    ref_o, ref_lse = attention(q, k, v, qo, kv, scale=attn.info["scale"],
                               mask=lambda b, h, qp, kp: (kp <= qp) | (kp < prefix[b]))
    assert_close(o.cpu(), lse.cpu(), ref_o, ref_lse, torch.bfloat16)
    # The same spec on CPU tensors runs on sim, from the same Attention.
    so, slse = attn(q, k, v, qo_indptr=qo, kv_indptr=kv, prefix=prefix)
    assert_close(so, slse, ref_o, ref_lse, torch.bfloat16)


def test_kvcache_on_the_gpu_feeds_paged_attention():
    attn = attnc.compile(PAGED)
    cache = attnc.KVCache.for_attention(attn, num_pages=16, device="cuda")
    assert cache.key_cache(0).device.type == "cuda"
    seq = cache.add_sequence(list(range(40)))
    k, v = torch.randn(40, 2, 64).half(), torch.randn(40, 2, 64).half()
    cache.write(0, seq.slots, k.cuda(), v.cuda())
    child = cache.fork(seq.seq_id)
    slots = cache.append(child, [1])  # copy-on-write on the device
    cache.write(0, slots, k[:1].cuda(), v[:1].cuda())
    table, lens = cache.block_tables([seq.seq_id, child])
    q = torch.randn(2, 4, 64).half()
    o, lse = attn.paged(q.cuda(), cache.key_cache(0), cache.value_cache(0), table, lens)
    kd, vd, kvp = paged_to_dense(cache.key_cache(0).cpu(), cache.value_cache(0).cpu(),
                                 table.cpu(), lens.cpu())
    ref_o, ref_lse = attention(q, kd, vd, torch.tensor([0, 1, 2]), kvp,
                               scale=attn.info["scale"], mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o.cpu(), lse.cpu(), ref_o, ref_lse, torch.float16)


def test_index_tensors_must_be_on_the_gpu_too():
    attn = attnc.compile(PREFIX)
    q = torch.randn(4, 8, 64, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(4, 2, 64, dtype=torch.bfloat16, device="cuda")
    with pytest.raises(ValueError, match="qo_indptr is on cpu but q is on cuda:0"):
        attn(q, k, k, qo_indptr=torch.tensor([0, 4], dtype=torch.int32),
             prefix=torch.zeros(1, dtype=torch.int32, device="cuda"))


def test_torch_compile_on_the_gpu():
    attn = attnc.compile(PREFIX)
    q = torch.randn(16, 8, 64, dtype=torch.bfloat16, device="cuda")
    k = torch.randn(16, 2, 64, dtype=torch.bfloat16, device="cuda")
    prefix = torch.zeros(1, dtype=torch.int32, device="cuda")

    def f(q, k, prefix):
        o, lse = attn(q, k, k, prefix=prefix)
        return o.float() + 1

    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    assert torch.equal(compiled(q, k, prefix), f(q, k, prefix))


def test_fp8_kvcache_on_the_gpu():
    """An e4m3 spec over a KVCache in device memory: float8 pages, rows
    written already quantized, the uint8 view of the pages giving the same
    bits (test_fp8.py checks the same on the CPU)."""
    attn = attnc.compile(PAGED.replace("attention cuda_paged", "attention cuda_fp8").replace(
        "mask = kv <= q", "kv_dtype = e4m3\n  param k_descale : f32[kv_heads]\n"
        "  param v_descale : f32[kv_heads]\n  k_scale = k_descale[h / 2]\n"
        "  v_scale = v_descale[h / 2]\n  mask = kv <= q"))
    cache = attnc.KVCache.for_attention(attn, num_pages=16, device="cuda")
    assert cache.key_cache(0).dtype == torch.float8_e4m3fn
    seq = cache.add_sequence(list(range(40)))
    k8 = (torch.randn(40, 2, 64) * 4).to(torch.float8_e4m3fn)
    v8 = (torch.randn(40, 2, 64) * 4).to(torch.float8_e4m3fn)
    cache.write(0, seq.slots, k8.cuda(), v8.view(torch.uint8).cuda())
    table, lens = cache.block_tables([seq.seq_id])
    q = torch.randn(1, 4, 64).half()
    kd, vd = torch.tensor([0.125, 0.5]), torch.tensor([0.25, 0.0625])
    o, lse = attn.paged(q.cuda(), cache.key_cache(0), cache.value_cache(0), table, lens,
                        k_descale=kd.cuda(), v_descale=vd.cuda())
    ref_o, ref_lse = attention(q, k8.double() * kd.double().view(-1, 1),
                               v8.double() * vd.double().view(-1, 1),
                               torch.tensor([0, 1]), torch.tensor([0, 40]),
                               scale=attn.info["scale"], mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o.cpu(), lse.cpu(), ref_o, ref_lse, torch.float16)
    bo, blse = attn.paged(q.cuda(), cache.key_cache(0).view(torch.uint8),
                          cache.value_cache(0).view(torch.uint8), table, lens,
                          k_descale=kd.cuda(), v_descale=vd.cuda())
    assert torch.equal(o, bo) and torch.equal(lse, blse)
