"""fp8 KV caches (kv_dtype = e4m3 / e5m2): K and V arrive as float8 tensors
(or their uint8 bytes) and attention runs over k_scale * K8, v_scale * V8.

The reference dequantizes the fp8 tensors' own values in float64
(.to(torch.float64) times the scales, stated again here), so it does not
depend on how attnc widens the bytes."""

import pytest
import torch

import attnc
from conftest import ragged
from reference import assert_close, attention, paged_to_dense

# Paged e4m3, bf16, one dequantization scale per KV head (2 query heads per
# KV head: h / 2 is the KV head of query head h).
E4M3_PAGED = """
attention fp8_paged {
  dtype = bf16; head_dim = 64; q_heads = 4; kv_heads = 2
  kv_cache = paged(page_size = 16)
  kv_dtype = e4m3
  param k_descale : f32[kv_heads]
  param v_descale : f32[kv_heads]
  k_scale = k_descale[h / 2]
  v_scale = v_descale[h / 2]
  mask = kv <= q
}
"""
# Dense e5m2, fp16, per-tensor scales (scalar params), sliding window.
E5M2_DENSE = """
attention fp8_dense {
  dtype = fp16; head_dim = 64; q_heads = 4; kv_heads = 2
  kv_dtype = e5m2
  param k_descale : f32
  param v_descale : f32
  k_scale = k_descale
  v_scale = v_descale
  mask = kv <= q && q - kv < 40
}
"""
BF16_PAGED = E4M3_PAGED.replace("kv_dtype = e4m3", "").replace(
    "k_scale = k_descale[h / 2]", "").replace("v_scale = v_descale[h / 2]", "")


@pytest.fixture(scope="module")
def paged_e4m3():
    return attnc.compile(E4M3_PAGED)


@pytest.fixture(scope="module")
def dense_e5m2():
    return attnc.compile(E5M2_DENSE)


def fp8(shape, dtype):
    """Random fp8 values of widely varied magnitude: each element randn
    times 2**e, e in [-6, 4), so small ones land on e4m3's subnormals."""
    scale = torch.pow(2.0, torch.randint(-6, 4, shape).float())
    return (torch.randn(shape) * scale).to(dtype)


def dequantize(x8, scale):
    """x8's values in float64 times a scale per KV head (dimension -2), or
    one scale for the whole tensor."""
    scale = torch.as_tensor(scale, dtype=torch.float64)
    return x8.to(torch.float64) * (scale.view(-1, 1) if scale.dim() else scale)


def random_pages(kv_lens, dtype, num_pages=24, page=16, heads=2, dim=64):
    """fp8 pages in a random order and the block table over them."""
    k_cache = fp8((num_pages, page, heads, dim), dtype)
    v_cache = fp8((num_pages, page, heads, dim), dtype)
    need = [(n + page - 1) // page for n in kv_lens]
    perm = torch.randperm(num_pages).tolist()
    table = torch.zeros(len(kv_lens), max(need), dtype=torch.int32)
    for b, n in enumerate(need):
        table[b, :n] = torch.tensor(perm[:n], dtype=torch.int32)
        perm = perm[n:]
    return k_cache, v_cache, table, torch.tensor(kv_lens, dtype=torch.int32)


def paged_reference(attn, q, qo, k_cache, v_cache, table, lens, k_descale, v_descale):
    k8, v8, kv = paged_to_dense(k_cache, v_cache, table, lens)
    return attention(q, dequantize(k8, k_descale), dequantize(v8, v_descale), qo, kv,
                     scale=attn.info["scale"], mask=lambda b, h, qp, kp: kp <= qp)


def dense_reference(attn, q, qo, k8, v8, kv, k_descale, v_descale):
    return attention(q, dequantize(k8, k_descale), dequantize(v8, v_descale), qo, kv,
                     scale=attn.info["scale"],
                     mask=lambda b, h, qp, kp: (kp <= qp) & (qp - kp < 40))


def test_info_names_the_kv_dtype(paged_e4m3, dense_e5m2, causal):
    assert paged_e4m3.info["kv_dtype"] == "e4m3" and paged_e4m3.info["dtype"] == "bf16"
    assert dense_e5m2.info["kv_dtype"] == "e5m2" and dense_e5m2.info["dtype"] == "fp16"
    assert causal.info["kv_dtype"] == causal.info["dtype"] == "fp16"


@pytest.mark.parametrize("q_lens", [[1, 1, 1], [9, 1, 30]])
def test_e4m3_paged_per_head_scales(paged_e4m3, q_lens):
    k_cache, v_cache, table, lens = random_pages([70, 16, 33], torch.float8_e4m3fn)
    q, qo = ragged(q_lens, 4, 64, torch.bfloat16)
    k_descale = torch.tensor([0.03, 0.25])
    v_descale = torch.tensor([0.5, 0.0625])
    o, lse = paged_e4m3.paged(q, k_cache, v_cache, table, lens, qo_indptr=qo,
                              k_descale=k_descale, v_descale=v_descale)
    assert o.dtype == torch.bfloat16
    ref_o, ref_lse = paged_reference(paged_e4m3, q, qo, k_cache, v_cache, table, lens,
                                     k_descale, v_descale)
    assert_close(o, lse, ref_o, ref_lse, torch.bfloat16)

    # Each scale is applied per KV head: with a head's scales swapped (or
    # the cache read as if unscaled) the output no longer matches.
    for wrong in (dict(k_descale=k_descale.flip(0), v_descale=v_descale),
                  dict(k_descale=k_descale, v_descale=v_descale.flip(0))):
        bad_o, bad_lse = paged_e4m3.paged(q, k_cache, v_cache, table, lens,
                                          qo_indptr=qo, **wrong)
        with pytest.raises(AssertionError):
            assert_close(bad_o, bad_lse, ref_o, ref_lse, torch.bfloat16)
    unscaled = paged_reference(paged_e4m3, q, qo, k_cache, v_cache, table, lens, 1.0, 1.0)
    with pytest.raises(AssertionError):
        assert_close(o, lse, *unscaled, torch.bfloat16)


def test_e5m2_dense_scalar_scales(dense_e5m2):
    q, qo = ragged([5, 1, 50], 4, 64, torch.float16)
    kv = torch.tensor([0, 60, 61, 131], dtype=torch.int32)
    k8 = fp8((131, 2, 64), torch.float8_e5m2)
    v8 = fp8((131, 2, 64), torch.float8_e5m2)
    o, lse = dense_e5m2(q, k8, v8, qo_indptr=qo, kv_indptr=kv,
                        k_descale=0.0625, v_descale=torch.tensor(0.375))
    assert o.dtype == torch.float16
    ref_o, ref_lse = dense_reference(dense_e5m2, q, qo, k8, v8, kv, 0.0625, 0.375)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)

    bad_o, bad_lse = dense_e5m2(q, k8, v8, qo_indptr=qo, kv_indptr=kv,
                                k_descale=0.125, v_descale=0.375)
    with pytest.raises(AssertionError):
        assert_close(bad_o, bad_lse, ref_o, ref_lse, torch.float16)
    bad_o, bad_lse = dense_e5m2(q, k8, v8, qo_indptr=qo, kv_indptr=kv,
                                k_descale=0.0625, v_descale=0.75)
    with pytest.raises(AssertionError):
        assert_close(bad_o, bad_lse, ref_o, ref_lse, torch.float16)


def test_padded_call_over_fp8(dense_e5m2):
    """attn.padded gathers fp8 K/V like 16-bit ones."""
    q = torch.randn(2, 4, 7, 64).half()
    k8 = fp8((2, 2, 9, 64), torch.float8_e5m2)
    v8 = fp8((2, 2, 9, 64), torch.float8_e5m2)
    o, lse = dense_e5m2.padded(q, k8, v8, k_descale=0.25, v_descale=0.5)
    ragged_o, ragged_lse = dense_e5m2(
        q.transpose(1, 2).reshape(14, 4, 64), k8.transpose(1, 2).reshape(18, 2, 64),
        v8.transpose(1, 2).reshape(18, 2, 64),
        qo_indptr=torch.tensor([0, 7, 14], dtype=torch.int32),
        kv_indptr=torch.tensor([0, 9, 18], dtype=torch.int32), k_descale=0.25, v_descale=0.5)
    assert torch.equal(o, ragged_o.view(2, 7, 4, 64).transpose(1, 2))
    assert torch.equal(lse, ragged_lse.view(2, 7, 4).transpose(1, 2))


def test_uint8_bytes_are_the_fp8_cache(paged_e4m3, dense_e5m2):
    """vLLM keeps its fp8 cache as uint8: the same bytes give the same
    output, bit for bit."""
    k_cache, v_cache, table, lens = random_pages([70, 16, 33], torch.float8_e4m3fn)
    q, qo = ragged([9, 1, 30], 4, 64, torch.bfloat16)
    scales = dict(k_descale=torch.tensor([0.03, 0.25]), v_descale=torch.tensor([0.5, 0.0625]))
    o, lse = paged_e4m3.paged(q, k_cache, v_cache, table, lens, qo_indptr=qo, **scales)
    bo, blse = paged_e4m3.paged(q, k_cache.view(torch.uint8), v_cache.view(torch.uint8),
                                table, lens, qo_indptr=qo, **scales)
    assert torch.equal(o, bo) and torch.equal(lse, blse)
    # K and V in one uint8 tensor [pages, 2, page, heads, dim].
    combined = torch.stack([k_cache.view(torch.uint8), v_cache.view(torch.uint8)], dim=1)
    co, clse = paged_e4m3.paged(q, combined[:, 0], combined[:, 1], table, lens,
                                qo_indptr=qo, **scales)
    assert torch.equal(o, co) and torch.equal(lse, clse)

    q, qo = ragged([5, 20], 4, 64, torch.float16)
    kv = torch.tensor([0, 30, 50], dtype=torch.int32)
    k8, v8 = fp8((50, 2, 64), torch.float8_e5m2), fp8((50, 2, 64), torch.float8_e5m2)
    o, lse = dense_e5m2(q, k8, v8, qo_indptr=qo, kv_indptr=kv, k_descale=0.5, v_descale=0.5)
    bo, blse = dense_e5m2(q, k8.view(torch.uint8), v8, qo_indptr=qo, kv_indptr=kv,
                          k_descale=0.5, v_descale=0.5)
    assert torch.equal(o, bo) and torch.equal(lse, blse)


def test_wrong_kv_dtypes_are_refused(paged_e4m3, dense_e5m2, causal):
    k_cache, v_cache, table, lens = random_pages([20, 8], torch.float8_e4m3fn)
    q = torch.randn(2, 4, 64).bfloat16()
    scales = dict(k_descale=torch.ones(2), v_descale=torch.ones(2))
    with pytest.raises(TypeError, match=r"^k_cache is bf16, but .* takes e4m3"):
        paged_e4m3.paged(q, k_cache.bfloat16(), v_cache, table, lens, **scales)
    with pytest.raises(TypeError, match=r"^v_cache is e5m2, but .* takes e4m3"):
        paged_e4m3.paged(q, k_cache, v_cache.view(torch.uint8).view(torch.float8_e5m2),
                         table, lens, **scales)
    with pytest.raises(TypeError, match=r"^k_cache is int8; .*float8_e4m3fn"):
        paged_e4m3.paged(q, k_cache.view(torch.int8), v_cache, table, lens, **scales)

    q, qo = ragged([3], 4, 64, torch.float16)
    k8 = fp8((3, 2, 64), torch.float8_e5m2)
    with pytest.raises(TypeError, match=r"^k is bf16, but .* takes e5m2"):
        dense_e5m2(q, k8.bfloat16(), k8, k_descale=1.0, v_descale=1.0)
    with pytest.raises(TypeError, match=r"^v is f16, but .* takes e5m2"):
        dense_e5m2(q, k8, k8.half(), k_descale=1.0, v_descale=1.0)
    # q stays in the spec's dtype; uint8 is only ever an fp8 K/V tensor.
    with pytest.raises(TypeError, match=r"^q is uint8; attnc takes"):
        dense_e5m2(torch.zeros(3, 4, 64, dtype=torch.uint8), k8, k8,
                   k_descale=1.0, v_descale=1.0)
    with pytest.raises(TypeError, match=r"^q is e5m2, but .* takes f16"):
        dense_e5m2(q.to(torch.float8_e5m2), k8, k8, k_descale=1.0, v_descale=1.0)
    with pytest.raises(TypeError, match=r"^k is uint8; attnc takes"):
        causal(q, k8.view(torch.uint8), k8.half())
    with pytest.raises(TypeError, match=r"^k is e5m2, but .* takes f16"):
        causal(q, k8, k8.half())


def test_kv_cache_for_an_fp8_spec(paged_e4m3):
    cache = attnc.KVCache.for_attention(paged_e4m3, num_pages=8)
    wide = attnc.KVCache.for_attention(attnc.compile(BF16_PAGED), num_pages=8)
    assert cache.key_cache(0).dtype == torch.float8_e4m3fn
    assert cache.value_cache(0).dtype == torch.float8_e4m3fn
    assert wide.key_cache(0).dtype == torch.bfloat16
    assert cache.key_cache(0).shape == wide.key_cache(0).shape == (8, 16, 2, 64)
    # Half the bytes per page: twice the tokens in the same memory.
    fp8_page, bf16_page = cache.stats()["bytes_per_page"], wide.stats()["bytes_per_page"]
    assert 2 * fp8_page == bf16_page
    budget = 8 * bf16_page
    assert (budget // fp8_page) * cache.page_size == 2 * (budget // bf16_page) * wide.page_size

    # Rows are written already quantized (fp8, or their uint8 bytes) and
    # attention over the cache matches the reference.
    seq = cache.add_sequence(list(range(40)))
    k8, v8 = fp8((40, 2, 64), torch.float8_e4m3fn), fp8((40, 2, 64), torch.float8_e4m3fn)
    cache.write(0, seq.slots[:20], k8[:20], v8[:20].view(torch.uint8))
    cache.write(0, seq.slots[20:], k8[20:].view(torch.uint8), v8[20:])
    pages = cache.sequence(seq.seq_id)[1]
    assert torch.equal(cache.key_cache(0)[pages[0]].view(torch.uint8), k8[:16].view(torch.uint8))
    table, lens = cache.block_tables([seq.seq_id])
    q = torch.randn(1, 4, 64).bfloat16()
    k_descale, v_descale = torch.tensor([0.125, 0.5]), torch.tensor([0.25, 0.03])
    o, lse = paged_e4m3.paged(q, cache.key_cache(0), cache.value_cache(0), table, lens,
                              k_descale=k_descale, v_descale=v_descale)
    ref_o, ref_lse = attention(q, dequantize(k8, k_descale), dequantize(v8, v_descale),
                               torch.tensor([0, 1]), torch.tensor([0, 40]),
                               scale=paged_e4m3.info["scale"], mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o, lse, ref_o, ref_lse, torch.bfloat16)

    # A 16-bit row is not silently cast into an fp8 page (that would drop
    # the scales); nothing is written.
    slots = cache.append(seq.seq_id, [7])
    before = cache.key_cache(0).view(torch.uint8).clone()
    with pytest.raises(TypeError, match=r"k is torch.bfloat16, but this cache holds "
                                        r"torch.float8_e4m3fn"):
        cache.write(0, slots, torch.randn(1, 2, 64).bfloat16(), v8[:1])
    with pytest.raises(TypeError, match=r"v is torch.float8_e5m2"):
        cache.write(0, slots, k8[:1], v8[:1].float().to(torch.float8_e5m2))
    assert torch.equal(cache.key_cache(0).view(torch.uint8), before)
