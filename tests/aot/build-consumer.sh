#!/usr/bin/env bash
# Installs attnc from BUILD_DIR into a scratch prefix, builds a copy of the
# separate examples/aot_consumer project against the installed package and
# runs it; then changes one of its specs and checks that the rebuild
# recompiles that spec's kernels only.
set -euo pipefail
build=$1
source=$2
work=$build/aot-consumer-test
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/install" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }
cp -r "$source/examples/aot_consumer" "$work/src"
cmake -S "$work/src" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -Dattnc_DIR="$work/install/lib/cmake/attnc"
cmake --build "$work/build"
"$work/build/aot_consumer"

# Nothing changed: nothing to do. One spec changed: its kernels only.
ninja -C "$work/build" -n | tee "$work/noop.txt"
grep -q "no work to do" "$work/noop.txt" ||
  { echo "FAIL: an unchanged build has work to do"; exit 1; }
touch "$work/src/paged_decode.attn"
ninja -C "$work/build" -n | tee "$work/plan.txt"
grep -q "attnc: compiling paged_decode" "$work/plan.txt" ||
  { echo "FAIL: the changed spec is not recompiled"; exit 1; }
if grep -q -e "compiling causal_gqa" -e "main.cpp" "$work/plan.txt"; then
  echo "FAIL: a change to paged_decode.attn rebuilds more than its kernels"
  exit 1
fi
cmake --build "$work/build"
"$work/build/aot_consumer"
echo "aot-consumer: built, run, and rebuilt incrementally"
