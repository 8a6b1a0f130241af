#!/usr/bin/env bash
# Prefill and decode benchmarks. For each configuration `attnc run` checks
# the kernel against the float64 reference and times it (median of --time
# launches), and the results are printed as one table. On a GPU (cuda
# backend) the shapes are the full ones; under the sim backend (no GPU) they
# are scaled down, since the emulator runs on the CPU, and the table says so.
# Where PyTorch with CUDA is installed, its scaled_dot_product_attention runs
# on the same shapes for comparison.
#
#   bash bench/run.sh            # after scripts/setup.sh
#   BACKEND=sim bash bench/run.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
attnc=$build/bin/attnc
backend=${BACKEND:-auto}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

probe=$("$attnc" run "$root/examples/alibi.attn" --random --backend "$backend" 2>&1 >/dev/null | grep -o 'backend [a-z]*' | head -1)
on_gpu=0
[ "$probe" = "backend cuda" ] && on_gpu=1

spec() { # name dtype head_dim mask kv_cache
  cat > "$work/$1.attn" <<SPEC
attention $1 {
  dtype = $2; head_dim = $3; q_heads = 32; kv_heads = 8
  kv_cache = $5
  ${4:+mask = $4}
}
SPEC
  echo "$work/$1.attn"
}

if [ $on_gpu = 1 ]; then
  prefill_lens="512 2048 8192 16384"; decode_batches="1 16 64"; decode_ctx="1024 8192 32768"; runs=20
else
  prefill_lens="128 256"; decode_batches="1 4"; decode_ctx="256 1024"; runs=1
  echo "(sim backend: CPU time of the emulator on scaled-down shapes, not GPU performance)"
fi

printf '%-34s %-14s %12s %12s %10s  %s\n' "kernel" "shape" "ms" "TFLOP/s" "GB/s" "check"
row() { # label shape args...
  local label=$1 shape=$2; shift 2
  local out
  out=$("$attnc" run "$@" --backend "$backend" --check --time "$runs" 2>/dev/null) || true
  local t=$(echo "$out" | grep '^time:' | sed -E 's/time: ([0-9.]+) ms.*, ([0-9.]+) TFLOP\/s, ([0-9.]+) GB\/s/\1 \2 \3/')
  local verdict=$(echo "$out" | grep -Eo '(PASS|FAIL)$' | head -1)
  printf '%-34s %-14s %12s %12s %10s  %s\n' "$label" "$shape" $t "${verdict:-ERROR}"
}

for dtype in bf16 fp16; do
  for d in 64 128; do
    for causal in yes no; do
      mask=""; [ $causal = yes ] && mask="kv <= q"
      f=$(spec "prefill_${dtype}_d${d}_${causal}" $dtype $d "$mask" dense)
      for n in $prefill_lens; do
        row "prefill $dtype d$d causal=$causal" "1x$n" "$f" --path prefill --random --batch 1 --q-len $n --kv-len $n
      done
    done
  done
done
f=$(spec decode_paged bf16 128 "kv <= q" "paged(page_size = 16)")
for b in $decode_batches; do
  for n in $decode_ctx; do
    row "decode paged16 bf16 d128 32:8" "${b}x1x$n" "$f" --path decode --random --batch $b --q-len 1 --kv-len $n
  done
done

if [ $on_gpu = 1 ] && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  echo; echo "PyTorch scaled_dot_product_attention on the same prefill shapes:"
  python3 - <<'PY'
import torch, time
for dtype in (torch.bfloat16, torch.float16):
    for d in (64, 128):
        for causal in (True, False):
            for n in (512, 2048, 8192, 16384):
                q = torch.randn(1, 32, n, d, device="cuda", dtype=dtype)
                k = torch.randn(1, 32, n, d, device="cuda", dtype=dtype)
                v = torch.randn(1, 32, n, d, device="cuda", dtype=dtype)
                f = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
                f(); torch.cuda.synchronize()
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record(); [f() for _ in range(20)]; e.record(); torch.cuda.synchronize()
                ms = s.elapsed_time(e) / 20
                print(f"torch sdpa {dtype} d{d} causal={causal} 1x{n}: {ms:.3f} ms, {4*n*n*32*d/(ms*1e9):.1f} TFLOP/s")
PY
fi
