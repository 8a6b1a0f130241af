"""Attention over a paged KV cache, through a random block table."""

import pytest
import torch

from conftest import ragged
from reference import assert_close, attention, paged_to_dense


def random_cache(kv_lens, num_pages=40, page=16, heads=2, dim=64):
    """Pages in a random order: sequence b's pages are a random slice of a
    permutation of the pool, its unused table entries padded with -1."""
    k_cache = torch.randn(num_pages, page, heads, dim).half()
    v_cache = torch.randn(num_pages, page, heads, dim).half()
    need = [(n + page - 1) // page for n in kv_lens]
    perm = torch.randperm(num_pages).tolist()
    table = torch.full((len(kv_lens), max(need) + 1), -1, dtype=torch.int32)
    for b, n in enumerate(need):
        table[b, :n] = torch.tensor(perm[:n], dtype=torch.int32)
        perm = perm[n:]
    return k_cache, v_cache, table, torch.tensor(kv_lens, dtype=torch.int32)


@pytest.mark.parametrize("q_lens", [[1, 1, 1], [9, 1, 30]])
def test_paged_matches_reference(paged_causal, q_lens):
    kv_lens = [70, 16, 33]
    k_cache, v_cache, table, lens = random_cache(kv_lens)
    q, qo = ragged(q_lens, 4, 64, torch.float16)
    o, lse = paged_causal.paged(q, k_cache, v_cache, table, lens, qo_indptr=qo)
    k, v, kv = paged_to_dense(k_cache, v_cache, table, lens)
    ref_o, ref_lse = attention(q, k, v, qo, kv, scale=paged_causal.info["scale"],
                               mask=lambda b, h, q, kv: kv <= q)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)


def test_decode_step_needs_no_qo_indptr(paged_causal):
    k_cache, v_cache, table, lens = random_cache([5, 48])
    q = torch.randn(2, 4, 64).half()
    o, lse = paged_causal.paged(q, k_cache, v_cache, table, lens)
    explicit, _ = paged_causal.paged(q, k_cache, v_cache, table, lens,
                              qo_indptr=torch.tensor([0, 1, 2], dtype=torch.int32))
    assert torch.equal(o, explicit)
    with pytest.raises(ValueError, match="split evenly"):
        paged_causal.paged(torch.randn(3, 4, 64).half(), k_cache, v_cache, table, lens)


def test_table_entry_past_the_pool_is_refused(paged_causal):
    k_cache, v_cache, table, lens = random_cache([20, 8])
    table[0, 1] = 917
    with pytest.raises(ValueError, match=r"block_table\[0\]\[1\] = 917"):
        paged_causal.paged(torch.randn(2, 4, 64).half(), k_cache, v_cache, table, lens)


def test_dense_call_on_a_paged_spec_says_which_call(paged_causal):
    q = torch.randn(4, 4, 64).half()
    with pytest.raises(ValueError, match="attn.paged"):
        paged_causal(q, torch.randn(4, 2, 64).half(), torch.randn(4, 2, 64).half())


def test_k_and_v_in_one_tensor_and_a_layer_dimension(paged_causal):
    """Pages further apart than a page: FlashInfer's combined K/V layout
    [pages, 2, page, heads, dim], and an engine's [pages, layers, 2, ...]
    cache whose other layers hold NaN (read, they would poison the rows)."""
    kv_lens = [70, 16, 33]
    k_cache, v_cache, table, lens = random_cache(kv_lens)
    q, qo = ragged([9, 1, 30], 4, 64, torch.float16)
    want_o, want_lse = paged_causal.paged(q, k_cache, v_cache, table, lens, qo_indptr=qo)

    combined = torch.stack([k_cache, v_cache], dim=1)
    assert combined[:, 0].stride(0) == 2 * 16 * 2 * 64
    o, lse = paged_causal.paged(q, combined[:, 0], combined[:, 1], table, lens, qo_indptr=qo)
    assert torch.equal(o, want_o) and torch.equal(lse, want_lse)

    layers = torch.full((40, 3, 2, 16, 2, 64), float("nan"), dtype=torch.float16)
    layers[:, 1, 0] = k_cache
    layers[:, 1, 1] = v_cache
    o, lse = paged_causal.paged(q, layers[:, 1, 0], layers[:, 1, 1], table, lens, qo_indptr=qo)
    assert torch.equal(o, want_o) and torch.equal(lse, want_lse)


def test_cache_layouts_the_kernel_cannot_read_are_refused(paged_causal):
    k_cache, v_cache, table, lens = random_cache([20, 8])
    q = torch.randn(2, 4, 64).half()
    heads_first = k_cache.transpose(1, 2).contiguous().transpose(1, 2)
    with pytest.raises(ValueError, match="k_cache is not contiguous within a page"):
        paged_causal.paged(q, heads_first, v_cache, table, lens)
    combined = torch.stack([k_cache, v_cache], dim=1)
    with pytest.raises(ValueError, match="one page stride for both"):
        paged_causal.paged(q, combined[:, 0], v_cache, table, lens)
    # Pages 8 elements further apart than whole rows: not a row multiple.
    base = torch.randn(40 * (16 * 2 * 64 + 8)).half()
    odd = torch.as_strided(base, (40, 16, 2, 64), (16 * 2 * 64 + 8, 128, 64, 1))
    with pytest.raises(ValueError, match="must be a multiple of kv_heads"):
        paged_causal.paged(q, odd, odd, table, lens)


def test_rows_past_kv_len_are_never_read(paged_causal):
    """NaN in every cache row a sequence does not hold (its last page's tail,
    pages no sequence uses) leaves the output exactly as it was."""
    kv_lens = [70, 16, 33]
    k_cache, v_cache, table, lens = random_cache(kv_lens)
    q, qo = ragged([9, 1, 30], 4, 64, torch.float16)
    want_o, want_lse = paged_causal.paged(q, k_cache, v_cache, table, lens, qo_indptr=qo)
    held = torch.zeros(k_cache.shape[:2], dtype=torch.bool)
    for b, n in enumerate(kv_lens):
        for pos in range(n):
            held[table[b, pos // 16], pos % 16] = True
    k_cache[~held] = float("nan")
    v_cache[~held] = float("nan")
    o, lse = paged_causal.paged(q, k_cache, v_cache, table, lens, qo_indptr=qo)
    assert torch.equal(o, want_o) and torch.equal(lse, want_lse)
