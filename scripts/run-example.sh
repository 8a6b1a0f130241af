#!/usr/bin/env bash
# The main job on an example spec: check it, lower it, print the CUDA kernel
# generated from it, compile that kernel with NVRTC for sm_80 and sm_90
# (ptxas' register/spill report), then run it on random inputs (on a GPU
# when one is present, else under the sim backend) and check O and LSE
# against the float64 reference. Run scripts/setup.sh first.
#
#   bash scripts/run-example.sh [SPEC.attn [KERNEL]]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
spec=${1:-$root/examples/gemma2_softcap_local.attn}
kernel=${2:-}
attnc=$build_dir/bin/attnc
opt=$build_dir/bin/attnc-opt
pick=()
[ -n "$kernel" ] && pick=(--kernel "$kernel")
[ -z "$kernel" ] && [ "$spec" = "$root/examples/gemma2_softcap_local.attn" ] &&
  pick=(--kernel gemma2_9b_local)

echo "== spec: $spec"
cat "$spec"
echo
echo "== attn dialect IR (attnc --emit=attn)"
"$attnc" "$spec" "${pick[@]}" --emit=attn
echo
echo "== lowered IR: online softmax, tiles, paged addressing, mask analysis, K prefetch"
"$attnc" "$spec" "${pick[@]}" --emit=mlir
"$attnc" "$spec" "${pick[@]}" --emit=mlir | "$opt" > /dev/null
echo
echo "== the CUDA kernel printed from it (attnc --emit=cuda)"
"$attnc" "$spec" "${pick[@]}" --emit=cuda
echo
echo "== NVRTC: cubins for sm_80 and sm_90"
for arch in sm_80 sm_90; do
  "$attnc" "$spec" "${pick[@]}" --emit=cubin --arch=$arch -o /dev/null
done
echo
echo "== run on random inputs and check against the float64 reference"
"$attnc" run "$spec" "${pick[@]}" --random --batch 3 --q-len 70 --kv-len 300 --seed 1 --check
