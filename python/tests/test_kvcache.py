"""attnc.KVCache: the paged KV-cache manager over torch tensors, feeding
attn.paged."""

import pytest
import torch

import attnc
from reference import assert_close, attention

@pytest.fixture
def attn(paged_causal):
    return paged_causal


def rows(n):
    return torch.randn(n, 2, 64).half(), torch.randn(n, 2, 64).half()


def test_pages_are_tensors_over_the_cache(attn):
    cache = attnc.KVCache.for_attention(attn, num_pages=8, num_layers=2)
    assert cache.key_cache(1).shape == (8, 16, 2, 64)
    assert cache.key_cache(1).dtype == torch.float16
    assert torch.isnan(cache.value_cache(0)).all()  # unwritten pages are NaN
    seq = cache.add_sequence(list(range(20)))
    k, v = rows(20)
    cache.write(1, seq.slots, k, v)
    pages = cache.sequence(seq.seq_id)[1]
    assert torch.equal(cache.key_cache(1)[pages[0]], k[:16])
    assert torch.equal(cache.value_cache(1)[pages[1], :4], v[16:])
    keys = cache.key_cache(1)
    del cache  # the tensor keeps the pages alive
    assert torch.equal(keys[pages[0]], k[:16])


def test_fork_append_free_and_attention(attn, causal):
    cache = attnc.KVCache.for_attention(attn, num_pages=12)
    history = {}
    prompt = list(range(100, 140))  # 40 tokens: 2 full pages and half a page
    parent = cache.add_sequence(prompt)
    assert parent.reused_tokens == 0 and parent.slots.dtype == torch.int32
    k, v = rows(40)
    cache.write(0, parent.slots, k, v)
    history[parent.seq_id] = (k, v)

    child = cache.fork(parent.seq_id)
    assert cache.sequence(child)[1] == cache.sequence(parent.seq_id)[1]
    assert cache.stats()["shared_pages"] == 3 and cache.stats()["used_pages"] == 3

    # The child's append copies the shared, half-full last page first.
    for seq in (child, parent.seq_id):
        slots = cache.append(seq, [7])
        kn, vn = rows(1)
        cache.write(0, slots, kn, vn)
        hk, hv = history.get(seq, history[parent.seq_id])
        history[seq] = (torch.cat([hk, kn]), torch.cat([hv, vn]))
    stats = cache.stats()
    assert stats["copy_on_writes"] == 1 and stats["used_pages"] == 4
    child_pages, parent_pages = cache.sequence(child)[1], cache.sequence(parent.seq_id)[1]
    assert child_pages[:2] == parent_pages[:2] and child_pages[2] != parent_pages[2]
    cache.verify()

    # One decode step over both sequences, through the exported tables.
    table, lens = cache.block_tables([parent.seq_id, child], pad_value=0)
    assert table.dtype == torch.int32 and lens.tolist() == [41, 41]
    q = torch.randn(2, 4, 64).half()
    o, lse = attn.paged(q, cache.key_cache(0), cache.value_cache(0), table, lens)
    k = torch.cat([history[parent.seq_id][0], history[child][0]])
    v = torch.cat([history[parent.seq_id][1], history[child][1]])
    ref_o, ref_lse = attention(q, k, v, torch.tensor([0, 1, 2]), torch.tensor([0, 41, 82]),
                               scale=attn.info["scale"], mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)
    # The dense kernel over the same histories gives the same rows.
    do, dlse = causal(q, k, v, qo_indptr=torch.tensor([0, 1, 2], dtype=torch.int32),
                     kv_indptr=torch.tensor([0, 41, 82], dtype=torch.int32))
    assert_close(o, lse, do, dlse.double(), torch.float16)

    # Freeing the child returns its private page; its id is then unknown.
    free_before = cache.stats()["free_pages"]
    cache.free(child)
    assert cache.stats()["free_pages"] == free_before + 1
    assert child not in cache and parent.seq_id in cache
    with pytest.raises(KeyError):
        cache.append(child, [1])
    cache.verify()


def test_prefix_reuse_and_exhaustion(attn):
    cache = attnc.KVCache.for_attention(attn, num_pages=4)
    first = cache.add_sequence(list(range(40)))
    again = cache.add_sequence(list(range(40)))
    assert again.reused_tokens == 32 and len(again.slots) == 8
    assert cache.sequence(again.seq_id)[1][:2] == cache.sequence(first.seq_id)[1][:2]
    before = cache.stats()
    with pytest.raises(attnc.PoolExhaustedError, match="needs 7 new page"):
        cache.add_sequence(list(range(1000, 1100)))
    assert cache.stats() == before  # a failed operation changes nothing
