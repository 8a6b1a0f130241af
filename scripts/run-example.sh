#!/usr/bin/env bash
# The main job on an example spec: check it, print the attn dialect IR built
# from it and the IR after the lowering pipeline, and check that both parse
# back and verify. Run scripts/setup.sh first.
#
#   bash scripts/run-example.sh [SPEC.attn]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
spec=${1:-$root/examples/gemma2_softcap_local.attn}
attnc=$build_dir/bin/attnc
opt=$build_dir/bin/attnc-opt

echo "== spec: $spec"
cat "$spec"
echo
echo "== attn dialect IR (attnc --emit=attn)"
"$attnc" "$spec" --emit=attn
echo
echo "== lowered IR: online softmax, 64x64 tiles, explicit KV addressing, mask analysis (attnc --emit=mlir)"
"$attnc" "$spec" --emit=mlir
echo
echo "== both parse back and verify (attnc-opt)"
"$attnc" "$spec" --emit=attn | "$opt" > /dev/null
"$attnc" "$spec" --emit=mlir | "$opt" > /dev/null
echo "OK"
