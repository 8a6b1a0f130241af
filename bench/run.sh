#!/usr/bin/env bash
# Prefill and decode benchmarks. For each configuration `attnc run` checks
# the kernel against the float64 reference and times it (median of --time
# runs bracketed by CUDA events, inputs rotated past the L2; see
# docs/tuning.md), and the results are printed as one table with the
# fraction of the device's roofline reached. On a GPU (cuda backend) the
# shapes are the full ones; under the sim backend (no GPU) they are scaled
# down, since the emulator runs on the CPU, and the table says so. Where
# PyTorch with CUDA is installed, its scaled_dot_product_attention and
# FlexAttention run on the same shapes in the same run, timed the same way.
#
#   bash bench/run.sh            # after scripts/setup.sh (it rebuilds attnc)
#   bash bench/run.sh --record   # also append the table to bench/RESULTS.md
#   BACKEND=sim bash bench/run.sh
#   PEAK_TFLOPS=989 PEAK_GBS=3350 bash bench/run.sh   # a device not listed
#
# FLOPs: 4 · q · kv · heads · d for the full rectangle, half that for a
# causal mask (the FlashAttention convention). Bytes (decode): Q, K, V and
# O read or written once (K/V once per KV head).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
attnc=$build/bin/attnc
backend=${BACKEND:-auto}
record=0
for arg in "$@"; do
  case "$arg" in
    --record) record=1 ;;
    *) echo "usage: bash bench/run.sh [--record]" >&2; exit 2 ;;
  esac
done
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "no build in $build: run scripts/setup.sh first" >&2
  exit 1
fi
cmake --build "$build" --target attnc attnc-cuda-probe > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

probe=$("$attnc" run "$root/examples/alibi.attn" --random --backend "$backend" 2>&1 >/dev/null | grep -o 'backend [a-z]*' | head -1)
on_gpu=0
[ "$probe" = "backend cuda" ] && on_gpu=1

# The roofline: dense bf16/fp16 tensor-core peak and memory bandwidth of the
# device (vendor data sheets), unless given.
device="sim (the SIMT emulator on the host CPU)"
peak_tflops=${PEAK_TFLOPS:-}
peak_gbs=${PEAK_GBS:-}
if [ $on_gpu = 1 ]; then
  device=$("$build/bin/attnc-cuda-probe" 2>/dev/null | sed -nE 's/^  \[0\] ([^,]*),.*/\1/p' | head -1)
  case "$device" in
    *H200*) : "${peak_tflops:=989}" "${peak_gbs:=4800}" ;;
    *H100*PCIe*) : "${peak_tflops:=756}" "${peak_gbs:=2000}" ;;
    *H100*) : "${peak_tflops:=989}" "${peak_gbs:=3350}" ;;
    *A100*) : "${peak_tflops:=312}" "${peak_gbs:=2039}" ;;
    *L40S*) : "${peak_tflops:=362}" "${peak_gbs:=864}" ;;
  esac
fi
echo "device: $device; roofline: ${peak_tflops:--} TFLOP/s, ${peak_gbs:--} GB/s"

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
fi

# The float64 reference runs on the CPU: shapes with more (query, key) pairs
# than this (batch · q · kv) are timed but not checked (about 10 s of
# reference on one core at the limit; 16k × 16k would take ten minutes).
check_max_pairs=${CHECK_MAX_PAIRS:-4194304}

# row label shape flop_factor kind pairs args...: kind is "compute"
# (prefill: roofline by TFLOP/s) or "memory" (decode: by GB/s).
row() {
  local label=$1 shape=$2 factor=$3 kind=$4 pairs=$5; shift 5
  local check=(--check)
  [ "$pairs" -gt "$check_max_pairs" ] && check=()
  local out
  out=$("$attnc" run "$@" --backend "$backend" "${check[@]}" --time "$runs" 2>/dev/null) || true
  local ms tf gbs
  read -r ms tf gbs < <(echo "$out" | grep '^time:' | sed -E 's/time: ([0-9.]+) ms.*, ([0-9.]+) TFLOP\/s, ([0-9.]+) GB\/s/\1 \2 \3/') || true
  local verdict=$(echo "$out" | grep -Eo '(PASS|FAIL)$' | head -1)
  [ ${#check[@]} = 0 ] && [ -n "${ms:-}" ] && verdict=unchecked
  if [ -z "${ms:-}" ]; then
    printf '%-34s %-14s %10s %10s %10s %9s  %s\n' "$label" "$shape" - - - - "${verdict:-ERROR}"
    return
  fi
  tf=$(awk -v t="$tf" -v f="$factor" 'BEGIN { printf "%.3f", t * f }')
  local roof=-
  if [ "$kind" = compute ] && [ -n "$peak_tflops" ]; then
    roof=$(awk -v t="$tf" -v p="$peak_tflops" 'BEGIN { printf "%.1f%%", 100 * t / p }')
  elif [ "$kind" = memory ] && [ -n "$peak_gbs" ]; then
    roof=$(awk -v g="$gbs" -v p="$peak_gbs" 'BEGIN { printf "%.1f%%", 100 * g / p }')
  fi
  printf '%-34s %-14s %10s %10s %10s %9s  %s\n' "$label" "$shape" "$ms" "$tf" "$gbs" "$roof" "${verdict:-ERROR}"
}

table() {
  [ $on_gpu = 1 ] ||
    echo "(sim backend: CPU time of the emulator on scaled-down shapes, not GPU performance)"
  printf '%-34s %-14s %10s %10s %10s %9s  %s\n' "kernel" "shape" "ms" "TFLOP/s" "GB/s" "roofline" "check"
  for dtype in bf16 fp16; do
    for d in 64 128; do
      for causal in yes no; do
        mask=""; factor=1
        [ $causal = yes ] && mask="kv <= q" && factor=0.5
        f=$(spec "prefill_${dtype}_d${d}_${causal}" $dtype $d "$mask" dense)
        for n in $prefill_lens; do
          row "prefill $dtype d$d causal=$causal" "1x$n" $factor compute $((n * n)) "$f" --path prefill --random --batch 1 --q-len $n --kv-len $n
        done
      done
    done
  done
  # Custom masks (bf16, d = 128, causal-sized FLOPs): sliding window,
  # StreamingLLM sinks + window, a dilated window (a runtime block mask) and
  # document masks (--random ids: runs of equal ids, a new document about
  # every 8 keys), the same masks FlexAttention gets below.
  for m in "window|kv <= q && q - kv < 256" \
           "sinks_window|kv <= q && (kv < 4 || q - kv < 256)" \
           "dilated|kv <= q && q - kv < 512 && (q - kv) % 2 == 0" \
           "document|doc[b, q] == doc[b, kv] && kv <= q"; do
    name=${m%%|*}
    f=$(spec "mask_$name" bf16 128 "${m#*|}" dense)
    [ "$name" = document ] && sed -i 's/^  mask = /  param doc : i32[batch, ?]\n  mask = /' "$f"
    for n in $prefill_lens; do
      row "mask $name bf16 d128" "1x$n" 0.5 compute $((n * n)) "$f" --path prefill --random --batch 1 --q-len $n --kv-len $n
    done
  done
  f=$(spec decode_paged bf16 128 "kv <= q" "paged(page_size = 16)")
  for b in $decode_batches; do
    for n in $decode_ctx; do
      row "decode paged16 bf16 d128 32:8" "${b}x1x$n" 1 memory $((b * n)) "$f" --path decode --random --batch $b --q-len 1 --kv-len $n
    done
  done
}
table | tee "$work/table.txt"

if [ $on_gpu = 1 ] && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  {
    echo
    echo "PyTorch on the same shapes (same FLOP convention; median of $runs runs, CUDA events, L2 flushed before each):"
    RUNS=$runs PREFILL_LENS="$prefill_lens" DECODE_BATCHES="$decode_batches" DECODE_CTX="$decode_ctx" \
      python3 "$root/bench/torch_reference.py"
  } 2>&1 | tee -a "$work/table.txt" || echo "(the PyTorch comparison failed; see above)"
fi

if [ $record = 1 ]; then
  # The probe exits non-zero without a GPU; its lines are still there.
  probe_out=$("$build/bin/attnc-cuda-probe" 2>/dev/null || true)
  driver=$(echo "$probe_out" | sed -nE 's/^driver version: //p' | head -1)
  nvrtc=$(echo "$probe_out" | sed -nE 's/^NVRTC: //p' | head -1)
  revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  {
    echo
    echo "## bench/run.sh on $device ($(date -u +%Y-%m-%d))"
    echo
    echo "Driver ${driver:-none}, NVRTC ${nvrtc:-?}, attnc $revision, host $(uname -m) with $(nproc) cores."
    echo "Command: \`BACKEND=$backend bash bench/run.sh --record\`."
    echo
    echo '```'
    cat "$work/table.txt"
    echo '```'
  } >> "$root/bench/RESULTS.md"
  echo "appended to $root/bench/RESULTS.md"
fi
