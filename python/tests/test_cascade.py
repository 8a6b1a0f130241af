"""Cascade attention from Python: KVCache.cascade_tables finds the groups
of forked sequences, Attention.cascade reads their shared pages once per
group, and the result is attention over the whole sequences."""

import pytest
import torch

import attnc
from reference import assert_close, attention, paged_to_dense


def forked_batch(attn, prompt_len=70, steps=(1, 3, 0, 2)):
    """A prompt forked into len(steps) samples, each decoding its own
    tokens (a partly filled shared page is copied on the first write), and
    an unrelated sequence; K/V rows random."""
    cache = attnc.KVCache.for_attention(attn, num_pages=64)
    heads, dim = attn.info["kv_heads"], attn.info["head_dim"]
    parent = cache.add_sequence(list(range(prompt_len)))
    cache.write(0, parent.slots, torch.randn(prompt_len, heads, dim).half(),
                torch.randn(prompt_len, heads, dim).half())
    seqs = [parent.seq_id] + [cache.fork(parent.seq_id) for _ in steps[1:]]
    for seq, n in zip(seqs, steps):
        for _ in range(n):
            slots = cache.append(seq, [5])
            cache.write(0, slots, torch.randn(1, heads, dim).half(),
                        torch.randn(1, heads, dim).half())
    other = cache.add_sequence(list(range(500, 533)))
    cache.write(0, other.slots, torch.randn(33, heads, dim).half(),
                torch.randn(33, heads, dim).half())
    return cache, seqs + [other.seq_id]


def test_cascade_equals_attention_over_whole_sequences(paged_causal, causal):
    cache, seqs = forked_batch(paged_causal)
    tables = cache.cascade_tables(seqs)
    assert tables.group_indptr.tolist() == [0, 4, 5]
    assert tables.prefix_lens.tolist() == [64, 0]  # 4 full pages of 70 tokens
    assert tables.shared_rows + tables.own_rows < tables.plain_rows
    table, lens = cache.block_tables(seqs)
    assert torch.equal(tables.block_table, table) and torch.equal(tables.kv_lens, lens)

    q = torch.randn(len(seqs), 4, 64).half()  # one decode query each
    o, lse = paged_causal.cascade(q, cache.key_cache(), cache.value_cache(),
                                  tables.block_table, tables.kv_lens,
                                  tables.group_indptr, tables.prefix_block_table,
                                  tables.prefix_lens)
    k, v, kv_indptr = paged_to_dense(cache.key_cache(), cache.value_cache(),
                                     table, lens)
    qo = torch.arange(len(seqs) + 1, dtype=torch.int32)
    ref_o, ref_lse = attention(q, k, v, qo, kv_indptr, scale=64 ** -0.5,
                               mask=lambda b, h, qp, kp: kp <= qp)
    assert_close(o, lse, ref_o, ref_lse, torch.float16)
    # And the plain paged call agrees.
    po, plse = paged_causal.paged(q, cache.key_cache(), cache.value_cache(), table, lens)
    assert_close(o, lse, po.double(), plse.double(), torch.float16)


def test_cascade_refusals_write_nothing(paged_causal, causal):
    cache, seqs = forked_batch(paged_causal)
    t = cache.cascade_tables(seqs)
    q = torch.randn(len(seqs), 4, 64).half()
    bad_table = t.prefix_block_table.clone()
    bad_table[0, 1] += 1
    with pytest.raises(ValueError, match="does not map its group's prefix page 1"):
        paged_causal.cascade(q, cache.key_cache(), cache.value_cache(), t.block_table,
                             t.kv_lens, t.group_indptr, bad_table, t.prefix_lens)
    with pytest.raises(ValueError, match="group_indptr must run from 0 to the batch"):
        paged_causal.cascade(q, cache.key_cache(), cache.value_cache(), t.block_table,
                             t.kv_lens, t.group_indptr[:-1], t.prefix_block_table,
                             t.prefix_lens[:-1])
    with pytest.raises(ValueError, match="cascade attention runs over a paged KV cache"):
        causal.cascade(q, cache.key_cache(), cache.value_cache(), t.block_table,
                       t.kv_lens, t.group_indptr, t.prefix_block_table, t.prefix_lens)


def test_cascade_with_a_sink_and_a_window():
    attn = attnc.compile("""
attention sink_window {
  dtype = fp16; head_dim = 64; q_heads = 4; kv_heads = 2
  kv_cache = paged(page_size = 16)
  param sinks : f32[q_heads]
  sink = sinks[h]
  mask = kv <= q && q - kv < 40
}
""")
    cache, seqs = forked_batch(attn, prompt_len=100, steps=(2, 1, 1, 4))
    t = cache.cascade_tables(seqs)
    q = torch.randn(len(seqs), 4, 64).half()
    sinks = torch.tensor([0.5, -1.0, 2.0, 0.0])
    o, lse = attn.cascade(q, cache.key_cache(), cache.value_cache(), t.block_table,
                          t.kv_lens, t.group_indptr, t.prefix_block_table,
                          t.prefix_lens, sinks=sinks)
    po, plse = attn.paged(q, cache.key_cache(), cache.value_cache(), t.block_table,
                          t.kv_lens, sinks=sinks)
    assert_close(o, lse, po.double(), plse.double(), torch.float16)
