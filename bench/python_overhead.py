#!/usr/bin/env python3
"""What a call of an attnc.Attention from Python costs over the C++ launch.

    .venv/bin/python bench/python_overhead.py [--iterations N] [--repeats R]

Per call, the best of R repeats of N calls (the machine's other work only
ever adds time, so the minimum is the figure least disturbed by it; many
short repeats, 100 x 200 by default, find the quiet moments of a loaded
machine), CPU tensors (sim backend), a kernel already compiled and chosen:

  C++ Runtime::run      Attention._core.time_runtime_runs: the runtime's
                        validated launch in a C++ loop (what a C++ program
                        pays per call, kernel chosen once)
  native binding        Attention._core.run_dense from Python on the
                        tensors, as the implementation calls it: their
                        DLPack views, validation, the memoized kernel
                        choice and Runtime::run
  Python implementation Attention._dense: output allocation, then the above
  attn(q, k, v, ...)    the public call: torch.ops.attnc.attention dispatch,
                        then the above

Two shapes: "empty" (no query rows: the runtime validates and plans but
launches nothing, so the differences are the Python overhead exactly) and
a decode step (batch 4, one query over 64 keys), where the emulated kernel
takes milliseconds and its run-to-run noise hides the overhead: it shows
the scale, not the overhead.
"""

import argparse
import time

import torch

import attnc

SPEC = """
attention overhead {
  dtype = fp16; head_dim = 64; q_heads = 8; kv_heads = 2
  mask = kv <= q
}
"""


def per_call(fn, iterations, repeats):
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        samples.append((time.perf_counter() - start) / iterations)
    return min(samples)


def measure(attn, q_lens, kv_lens, iterations, repeats):
    q = torch.randn(sum(q_lens), 8, 64).half()
    k = torch.randn(sum(kv_lens), 2, 64).half()
    v = torch.randn(sum(kv_lens), 2, 64).half()
    qo = torch.tensor([0] + torch.tensor(q_lens).cumsum(0).tolist(), dtype=torch.int32)
    kv = torch.tensor([0] + torch.tensor(kv_lens).cumsum(0).tolist(), dtype=torch.int32)
    o, lse = torch.empty_like(q), torch.empty(q.shape[:2])
    core = attn._core
    native = min(core.time_runtime_runs(o, lse, q, k, v, qo, kv, iterations)
                 for _ in range(repeats))
    return {
        "C++ Runtime::run": native,
        "native binding": per_call(
            lambda: core.run_dense(o, lse, q, k, v, qo, kv, 0, {}, 0, {}),
            iterations, repeats),
        "Python implementation": per_call(
            lambda: attn._dense(q, k, v, qo, kv, 0, {}), iterations, repeats),
        "attn(q, k, v, ...)": per_call(
            lambda: attn(q, k, v, qo_indptr=qo, kv_indptr=kv), iterations, repeats),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()
    attn = attnc.compile(SPEC, backend="sim")
    torch.set_num_threads(1)
    print(f"attnc {attnc.__version__}, torch {torch.__version__}, backend {attn.backend}; "
          f"best of {args.repeats} x {args.iterations} calls, microseconds per call")
    for label, q_lens, kv_lens, iterations in (
            ("empty (0 query rows)", [0], [64], args.iterations),
            ("decode, batch 4, kv 64", [1] * 4, [64] * 4, max(args.iterations // 10, 1))):
        figures = measure(attn, q_lens, kv_lens, iterations, args.repeats)
        base = figures["C++ Runtime::run"]
        print(f"\n{label}:")
        for name, seconds in figures.items():
            extra = ""
            if q_lens == [0] and not name.startswith("C++"):
                extra = f"   (+{(seconds - base) * 1e6:.1f} over C++)"
            print(f"  {name:24s} {seconds * 1e6:9.1f}{extra}")


if __name__ == "__main__":
    main()
