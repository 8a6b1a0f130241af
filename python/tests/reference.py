"""An independent float64 attention reference, written with torch.

It evaluates attention as docs/dsl.md defines it, sequence by sequence:
s = (q . k) * scale, the score modifier, the mask (positions bottom-right
aligned: the last query of a sequence sits at its last key), a softmax over
the visible keys. Score and mask are Python functions of broadcast tensors
(score, b, h, q, kv), so each test states its variant again in Python
instead of trusting the compiler's reading of the spec.
"""

import math

import torch


def attention(q, k, v, qo_indptr, kv_indptr, *, scale, score=None, mask=None):
    """o [total_q, Hq, Dv] and lse [total_q, Hq] in float64 for ragged q, k, v
    (any float dtype; computed from their values as given; Dv is v's last
    dimension)."""
    q, k, v = q.double(), k.double(), v.double()
    total_q, hq, d = q.shape
    hkv = k.shape[1]
    group = hq // hkv
    o = torch.zeros(total_q, hq, v.shape[-1], dtype=torch.float64)
    lse = torch.full((total_q, hq), -math.inf, dtype=torch.float64)
    qo, kvp = qo_indptr.tolist(), kv_indptr.tolist()
    for b in range(len(qo) - 1):
        qs, qe, ks, ke = qo[b], qo[b + 1], kvp[b], kvp[b + 1]
        nq, nk = qe - qs, ke - ks
        if nq == 0:
            continue
        qb = q[qs:qe]                                         # [nq, Hq, D]
        kb = k[ks:ke].repeat_interleave(group, dim=1)         # [nk, Hq, D]
        vb = v[ks:ke].repeat_interleave(group, dim=1)
        s = torch.einsum("qhd,khd->hqk", qb, kb) * scale      # [Hq, nq, nk]
        h = torch.arange(hq).view(hq, 1, 1)
        qpos = (torch.arange(nq) + (nk - nq)).view(1, nq, 1)
        kpos = torch.arange(nk).view(1, 1, nk)
        bb = torch.full((1, 1, 1), b)
        if score is not None:
            s = score(s, bb, h, qpos, kpos).double()
        if mask is not None:
            visible = torch.broadcast_to(mask(bb, h, qpos, kpos), s.shape)
            s = s.masked_fill(~visible, -math.inf)
        row_lse = torch.logsumexp(s, dim=-1)                  # [Hq, nq]
        p = torch.exp(s - row_lse.unsqueeze(-1)).nan_to_num(0.0)
        o[qs:qe] = torch.einsum("hqk,khd->qhd", p, vb)
        lse[qs:qe] = row_lse.transpose(0, 1)
    return o, lse


def paged_to_dense(k_cache, v_cache, block_table, kv_lens):
    """The K and V rows each sequence reads through its block table, laid
    out densely, and their kv_indptr."""
    page = k_cache.shape[1]
    ks, vs, indptr = [], [], [0]
    for b, n in enumerate(kv_lens.tolist()):
        rows = [block_table[b, i // page].item() * page + i % page for i in range(n)]
        index = torch.tensor(rows, dtype=torch.long)
        ks.append(k_cache.reshape(-1, *k_cache.shape[2:])[index])
        vs.append(v_cache.reshape(-1, *v_cache.shape[2:])[index])
        indptr.append(indptr[-1] + n)
    return torch.cat(ks), torch.cat(vs), torch.tensor(indptr, dtype=torch.int32)


def assert_close(o, lse, ref_o, ref_lse, dtype):
    """O within the dtype's rounding (relative Frobenius norm) and LSE within
    1e-3, with fully masked rows (lse = -inf) matching exactly."""
    tol = 4e-3 if dtype == torch.float16 else 2e-2
    ref_o = ref_o.to(torch.float64)
    err = (o.double() - ref_o).norm() / ref_o.norm().clamp_min(1e-30)
    assert err < tol, f"|o - ref| / |ref| = {err:.3e} (tolerance {tol})"
    finite = torch.isfinite(ref_lse)
    assert torch.equal(torch.isfinite(lse), finite), "fully masked rows differ"
    assert torch.all(lse[~finite] == -math.inf)
    worst = (lse[finite].double() - ref_lse[finite]).abs().max().item() if finite.any() else 0.0
    assert worst < 1e-3, f"max |lse - ref| = {worst:.3e}"
