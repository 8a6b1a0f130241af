#!/usr/bin/env bash
# Everything that needs a GPU, in one run (after scripts/setup.sh, on a
# machine with an NVIDIA GPU and its driver):
#   1. the driver probe (device, architecture, L2, shared memory);
#   2. the [gpu] unit tests: driver calls, page storage, event timing, and
#      the whole generated-kernel matrix against float64 on the device;
#   3. every example kernel through `attnc run --backend cuda --check`, on a
#      prefill shape and a decode shape (the runtime picks the path);
#   4. `attnc tune` on prefill and decode shapes of the Llama-3 spec;
#   5. bench/run.sh --record (attnc next to PyTorch where it is installed;
#      the table is appended to bench/RESULTS.md with device and driver).
# Logs and results go to $OUT (default build/gpu-check); the summary says
# which steps passed. Exits 2 when there is no usable GPU, 1 when a step
# failed.
#
#   bash scripts/gpu-check.sh
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
out=${OUT:-$build/gpu-check}
attnc=$build/bin/attnc
mkdir -p "$out"
failed=()

step() { # name command...
  local name=$1; shift
  local start=$SECONDS
  echo "== $name"
  if "$@" > "$out/$name.log" 2>&1; then
    echo "   ok ($((SECONDS - start)) s, log: $out/$name.log)"
  else
    echo "   FAILED ($((SECONDS - start)) s); the end of $out/$name.log:"
    tail -n 25 "$out/$name.log" | sed 's/^/   | /'
    failed+=("$name")
  fi
}

echo "== probe"
if ! "$build/bin/attnc-cuda-probe" | tee "$out/probe.log"; then
  echo "no usable GPU (see above): nothing to check here"
  exit 2
fi

step gpu-unit-tests "$build/tests/unit/attnc-cuda-tests" "[gpu]"
step gpu-kernel-matrix "$build/tests/unit/attnc-codegen-tests" "[gpu]"

examples() {
  local status=0
  for spec in "$root"/examples/*.attn; do
    for kernel in $(sed -nE 's/^attention ([A-Za-z0-9_]+).*/\1/p' "$spec"); do
      for shape in "--batch 3 --q-len 300 --kv-len 700" "--batch 8 --q-len 1 --kv-len 3000"; do
        echo "-- $kernel $shape"
        # shellcheck disable=SC2086
        "$attnc" run "$spec" --kernel "$kernel" --random $shape --backend cuda \
          --check --time 10 || status=1
      done
    done
  done
  return $status
}
step examples examples

step tune "$attnc" tune "$root/examples/llama3_gqa_causal.attn" \
  --shapes 1:1:8192,16:1:8192,64:1:2048,1:4096:4096 --backend cuda \
  --repeat 10 --db "$out/tuning.json"

step bench env BACKEND=cuda bash "$root/bench/run.sh" --record

echo
echo "== summary"
grep -E "^  \[0\]" "$out/probe.log"
grep -h -E "PASS|FAIL" "$out/examples.log" | sed 's/^/   /'
grep -E "^[0-9]+:[0-9]+:[0-9]+ " "$out/tune.log" | sed 's/^/   tune: /'
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED steps: ${failed[*]}"
  exit 1
fi
echo "all GPU checks passed; benchmark table: $out/bench.log"
