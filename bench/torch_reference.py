"""PyTorch's attention on bench/run.sh's shapes, timed like attnc's kernels.

scaled_dot_product_attention (its flash backend where it applies) and, where
this PyTorch has it, FlexAttention compiled with a causal block mask. Each
run is bracketed by CUDA events after a 256 MiB buffer is overwritten, so
no input is served from L2; the median of RUNS runs is printed. Decode uses
SDPA with GQA over a dense cache (PyTorch has no paged kernel), as the
closest stock comparison.
"""
import os
import statistics

import torch

RUNS = int(os.environ.get("RUNS", "20"))
PREFILL_LENS = [int(n) for n in os.environ.get("PREFILL_LENS", "512 2048 8192 16384").split()]
DECODE_BATCHES = [int(n) for n in os.environ.get("DECODE_BATCHES", "1 16 64").split()]
DECODE_CTX = [int(n) for n in os.environ.get("DECODE_CTX", "1024 8192 32768").split()]
Q_HEADS, KV_HEADS = 32, 8
flush = torch.empty(256 << 20, dtype=torch.int8, device="cuda")


def median_ms(fn):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(RUNS):
        flush.zero_()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def flex_causal():
    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    except ImportError:
        return None
    compiled = torch.compile(flex_attention)

    def run(q, k, v, n):
        mask = create_block_mask(lambda b, h, qi, ki: ki <= qi, None, None, n, n, device="cuda")
        return lambda: compiled(q, k, v, block_mask=mask, enable_gqa=True)

    return run


def flex_masks(n):
    """bench/run.sh's custom masks as FlexAttention mask_mods, and the
    document ids (a new document about every 8 keys, as attnc run --random
    makes them)."""
    doc = torch.cumsum((torch.rand(n, device="cuda") < 1 / 8).int(), 0)
    doc[0] = 0
    return {
        "window": lambda b, h, qi, ki: (ki <= qi) & (qi - ki < 256),
        "sinks_window": lambda b, h, qi, ki: (ki <= qi) & ((ki < 4) | (qi - ki < 256)),
        "dilated": lambda b, h, qi, ki: (ki <= qi) & (qi - ki < 512) & ((qi - ki) % 2 == 0),
        "document": lambda b, h, qi, ki: (doc[qi] == doc[ki]) & (ki <= qi),
    }


def row(label, shape, ms, tflops, gbs):
    print(f"{label:<34} {shape:<14} {ms:10.3f} {tflops:10.3f} {gbs:10.1f}")


print(f"{'kernel':<34} {'shape':<14} {'ms':>10} {'TFLOP/s':>10} {'GB/s':>10}")
flex = flex_causal()
for dtype, name in ((torch.bfloat16, "bf16"), (torch.float16, "fp16")):
    for d in (64, 128):
        for causal in (True, False):
            for n in PREFILL_LENS:
                q = torch.randn(1, Q_HEADS, n, d, device="cuda", dtype=dtype)
                k = torch.randn(1, KV_HEADS, n, d, device="cuda", dtype=dtype)
                v = torch.randn(1, KV_HEADS, n, d, device="cuda", dtype=dtype)
                flops = 4 * n * n * Q_HEADS * d * (0.5 if causal else 1)
                gbytes = 2 * (2 * n * Q_HEADS + 2 * n * KV_HEADS) * d / 1e9
                sdpa = lambda: torch.nn.functional.scaled_dot_product_attention(
                    q, k, v, is_causal=causal, enable_gqa=True)
                ms = median_ms(sdpa)
                row(f"torch sdpa {name} d{d} causal={'yes' if causal else 'no'}", f"1x{n}",
                    ms, flops / (ms * 1e9), gbytes / (ms * 1e-3))
                if causal and flex is not None:
                    try:
                        ms = median_ms(flex(q, k, v, n))
                        row(f"torch flex {name} d{d} causal=yes", f"1x{n}",
                            ms, flops / (ms * 1e9), gbytes / (ms * 1e-3))
                    except Exception as error:  # a PyTorch without a working compiler
                        print(f"torch flex {name} d{d} 1x{n}: not run ({type(error).__name__})")
# Custom masks: FlexAttention with a BlockMask built once per shape (not
# timed, as attnc's block mask build is not), bf16, d = 128.
try:
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    compiled_flex = torch.compile(flex_attention)
except ImportError:
    compiled_flex = None
if compiled_flex is not None:
    for n in PREFILL_LENS:
        q = torch.randn(1, Q_HEADS, n, 128, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(1, KV_HEADS, n, 128, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(1, KV_HEADS, n, 128, device="cuda", dtype=torch.bfloat16)
        flops = 4 * n * n * Q_HEADS * 128 * 0.5
        gbytes = 2 * (2 * n * Q_HEADS + 2 * n * KV_HEADS) * 128 / 1e9
        for name, mask_mod in flex_masks(n).items():
            try:
                block_mask = create_block_mask(mask_mod, None, None, n, n, device="cuda")
                ms = median_ms(lambda: compiled_flex(q, k, v, block_mask=block_mask,
                                                     enable_gqa=True))
                row(f"torch flex mask {name} bf16 d128", f"1x{n}",
                    ms, flops / (ms * 1e9), gbytes / (ms * 1e-3))
            except Exception as error:  # a PyTorch without a working compiler
                print(f"torch flex mask {name} 1x{n}: not run ({type(error).__name__})")
for b in DECODE_BATCHES:
    for n in DECODE_CTX:
        q = torch.randn(b, Q_HEADS, 1, 128, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(b, KV_HEADS, n, 128, device="cuda", dtype=torch.bfloat16)
        v = torch.randn(b, KV_HEADS, n, 128, device="cuda", dtype=torch.bfloat16)
        flops = 4 * b * n * Q_HEADS * 128
        gbytes = 2 * b * (2 * Q_HEADS + 2 * n * KV_HEADS) * 128 / 1e9
        sdpa = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        ms = median_ms(sdpa)
        row("torch sdpa decode dense bf16 d128", f"{b}x1x{n}", ms, flops / (ms * 1e9), gbytes / (ms * 1e-3))
