"""DSL text for the specs the integrations compile."""

from __future__ import annotations

import math


def float_literal(x: float) -> str:
    """x as a DSL float literal (repr always has a '.' or an exponent)."""
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"attnc needs a finite number here, got {x}")
    return repr(x)


def format_spec(
    name: str,
    *,
    dtype: str,
    head_dim: int,
    q_heads: int,
    kv_heads: int,
    scale: float | None = None,
    softcap: float | None = None,
    params: tuple[str, ...] = (),
    mask_terms: tuple[str, ...] = (),
    sink: str | None = None,
) -> str:
    """One attention block: a dense KV cache, `scale` (None: 1/sqrt(head_dim)),
    softcap c as `score = c * tanh(score / c)`, params given as declarations
    (`"q_off : i32[batch]"`), the mask as the conjunction of mask_terms and
    an attention sink's logit (`"sinks[h]"`)."""
    if dtype not in ("fp16", "bf16"):
        raise ValueError(f"attnc kernels are fp16 or bf16, not {dtype}")
    lines = [
        f"attention {name} {{",
        f"  dtype = {dtype}",
        f"  head_dim = {int(head_dim)}",
        f"  q_heads = {int(q_heads)}",
        f"  kv_heads = {int(kv_heads)}",
        "  kv_cache = dense",
    ]
    lines += [f"  param {p}" for p in params]
    if scale is not None:
        lines.append(f"  scale = {float_literal(scale)}")
    if softcap is not None and float(softcap) != 0.0:
        c = float_literal(softcap)
        lines.append(f"  score = {c} * tanh(score / {c})")
    if mask_terms:
        lines.append("  mask = " + " && ".join(mask_terms))
    if sink is not None:
        lines.append(f"  sink = {sink}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def causal_window_terms(causal: bool, window: int | None, q: str = "q", kv: str = "kv") -> tuple[str, ...]:
    """Mask terms for `kv <= q` and, with a window W, `q - kv < W`; q and kv
    are the DSL expressions of the two positions."""
    terms = []
    if causal:
        terms.append(f"{kv} <= {q}")
    if window is not None:
        if not causal:
            raise ValueError("a sliding window is only supported on a causal mask")
        terms.append(f"{q} - {kv} < {int(window)}")
    return tuple(terms)
