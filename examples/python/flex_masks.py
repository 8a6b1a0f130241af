"""A gallery of FlexAttention-style masks and score modifiers, ported to attnc specs.

PyTorch's FlexAttention writes a variant as two Python functions,
`mask_mod(b, h, q_idx, kv_idx) -> bool` and `score_mod(score, b, h, q_idx,
kv_idx) -> score`. In attnc the same variant is a spec whose `mask =` and
`score =` entries are those functions' bodies, with `q` and `kv` for the
positions and `param`s for the tensors they close over. Each entry below
holds both forms; the script runs the attnc kernel on random inputs and
compares it with float64 attention built from the Python functions.

Positions: FlexAttention counts queries from 0 (top-left aligned); attnc
aligns a query block to the end of its keys (bottom-right), so that `kv <= q`
stays causal in decode steps. The two agree when q_len == kv_len, as here.

    python examples/python/flex_masks.py            # on CPU tensors: the sim backend
"""

from __future__ import annotations

import math
import sys

import torch

import attnc

B, S, HQ, HKV, D = 2, 64, 4, 2, 32
HEADER = f"""  dtype = bf16
  head_dim = {D}
  q_heads = {HQ}
  kv_heads = {HKV}
"""

# Tensors the masks close over (FlexAttention captures them; attnc takes them as params).
PREFIX = torch.tensor([10, 37], dtype=torch.int32)  # prefix length of each sequence
DOC = torch.tensor([[0] * 20 + [1] * 30 + [2] * 14, [0] * 40 + [1] * 24], dtype=torch.int32)  # document ids
SLOPE = torch.tensor([2.0 ** (-8 * (h + 1) / HQ) for h in range(HQ)], dtype=torch.float32)  # ALiBi

GALLERY = [
    dict(
        name="causal",
        spec="mask = kv <= q",
        mask_mod=lambda b, h, q, kv: kv <= q,
    ),
    dict(
        name="sliding_window",  # Mistral: each query sees itself and the 15 keys before it
        spec="mask = kv <= q && q - kv < 16",
        mask_mod=lambda b, h, q, kv: (kv <= q) & (q - kv < 16),
    ),
    dict(
        name="prefix_lm",  # PaliGemma: the prefix is bidirectional, the rest causal
        spec="param prefix : i32[batch]\n  mask = kv <= q || kv < prefix[b]",
        mask_mod=lambda b, h, q, kv: (kv <= q) | (kv < PREFIX[b]),
        params=dict(prefix=PREFIX),
    ),
    dict(
        name="document",  # packed documents: causal within each document
        spec="param doc : i32[batch, ?]\n  mask = doc[b, q] == doc[b, kv] && kv <= q",
        mask_mod=lambda b, h, q, kv: (DOC[b, q] == DOC[b, kv]) & (kv <= q),
        params=dict(doc=DOC),
    ),
    dict(
        name="chunked",  # Llama-4 local layers: causal inside chunks of 16
        spec="mask = q / 16 == kv / 16 && kv <= q",
        mask_mod=lambda b, h, q, kv: (q // 16 == kv // 16) & (kv <= q),
    ),
    dict(
        name="dilated_window",  # every other key in a window of 32
        spec="mask = kv <= q && q - kv < 32 && (q - kv) % 2 == 0",
        mask_mod=lambda b, h, q, kv: (kv <= q) & (q - kv < 32) & ((q - kv) % 2 == 0),
    ),
    dict(
        name="alibi",  # MPT: a per-head linear bias
        spec="param slope : f32[q_heads]\n  score = score - slope[h] * (q - kv)\n  mask = kv <= q",
        mask_mod=lambda b, h, q, kv: kv <= q,
        score_mod=lambda s, b, h, q, kv: s - SLOPE[h] * (q - kv),
        params=dict(slope=SLOPE),
    ),
    dict(
        name="softcap",  # Gemma-2: tanh logit softcapping (cap 2 so that it bites here)
        spec="score = 2.0 * tanh(score / 2.0)\n  mask = kv <= q",
        mask_mod=lambda b, h, q, kv: kv <= q,
        score_mod=lambda s, b, h, q, kv: 2.0 * torch.tanh(s / 2.0),
    ),
    dict(
        name="relative_bias",  # a relative-position bias, full (bidirectional) attention
        spec="score = score + 0.05 * (kv - q)",
        mask_mod=lambda b, h, q, kv: torch.tensor(True),  # no mask
        score_mod=lambda s, b, h, q, kv: s + 0.05 * (kv - q),
    ),
]


def reference(q, k, v, mask_mod, score_mod):
    """float64 attention from FlexAttention-style functions; q [B, S, HQ, D]."""
    rep = HQ // HKV
    b = torch.arange(B).view(B, 1, 1, 1)
    h = torch.arange(HQ).view(1, HQ, 1, 1)
    qi = torch.arange(S).view(1, 1, S, 1)
    ki = torch.arange(S).view(1, 1, 1, S)
    qd = q.double().transpose(1, 2)
    kd = k.double().repeat_interleave(rep, 2).transpose(1, 2)
    vd = v.double().repeat_interleave(rep, 2).transpose(1, 2)
    s = qd @ kd.transpose(-1, -2) / math.sqrt(D)
    if score_mod is not None:
        s = score_mod(s, b, h, qi, ki)
    visible = mask_mod(b, h, qi, ki).expand(B, HQ, S, S)
    s = s.masked_fill(~visible, float("-inf"))
    o = torch.softmax(s, -1) @ vd
    return o.transpose(1, 2), torch.logsumexp(s, -1).transpose(1, 2)


def main() -> int:
    g = torch.Generator().manual_seed(0)
    q = torch.randn(B, S, HQ, D, generator=g).to(torch.bfloat16)
    k = torch.randn(B, S, HKV, D, generator=g).to(torch.bfloat16)
    v = torch.randn(B, S, HKV, D, generator=g).to(torch.bfloat16)
    indptr = torch.arange(0, (B + 1) * S, S, dtype=torch.int32)
    failed = 0
    print(f"{'variant':16} {'|o - ref| / max|ref|':>22} {'max |lse - ref|':>16}")
    for entry in GALLERY:
        spec = f"attention {entry['name']} {{\n{HEADER}  {entry['spec']}\n}}\n"
        attn = attnc.compile(spec)
        o, lse = attn(
            q.flatten(0, 1), k.flatten(0, 1), v.flatten(0, 1), qo_indptr=indptr, kv_indptr=indptr,
            **entry.get("params", {}),
        )
        ref_o, ref_lse = reference(q, k, v, entry["mask_mod"], entry.get("score_mod"))
        err = (o.view(B, S, HQ, D).double() - ref_o).abs().max().item() / ref_o.abs().max().item()
        lerr = (lse.view(B, S, HQ).double() - ref_lse).abs().max().item()
        ok = err <= 1e-2 and lerr <= 1e-3
        failed += not ok
        print(f"{entry['name']:16} {err:22.2e} {lerr:16.2e}  {'ok' if ok else 'MISMATCH'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
