#!/usr/bin/env bash
# package-consumer.sh KIND BUILD_DIR SOURCE_DIR
#
# Installs attnc from BUILD_DIR into a scratch prefix, builds a separate
# project against the installed package and runs its programs (under sim on
# a machine without a GPU):
#   moved     the prefix is moved before use (nothing installed may depend
#             on where it was installed, nor on this build or source tree);
#             a copy of examples/aot_consumer is built against it and run,
#             reading the moved prefix's device library; then one changed
#             spec must rebuild only that spec's kernels
#   variants  tests/aot/variants: one spec in prefill and decode variants,
#             chosen by shape and checked in float64 (split-KV)
#   static    tests/aot/static: kernels in a static library, linked directly
#             and through a second static library; the archive file linked
#             by itself must fail with the registry's explanation
#   jit       tests/aot/jit: examples/jit_autotune built with
#             find_package(attnc COMPONENTS jit); tunes on first use, then
#             reuses the tuning database
set -euo pipefail
kind=$1
build=$2
source=$3
work=$build/package-consumer-$kind
rm -rf "$work"
mkdir -p "$work"
unset ATTNC_DEVICE_DIR
# A fresh kernel cache: the sim backend compiles kernels here, against the
# device library it finds.
export ATTNC_CACHE_DIR=$work/cache
prefix=$work/install
cmake --install "$build" --prefix "$prefix" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }

project=$source/tests/aot/$kind
if [ "$kind" = moved ]; then
  mv "$prefix" "$work/moved"
  prefix=$work/moved
  # No installed configuration file or header names the build or source
  # tree.
  if grep -rlF -e "$build" -e "$source" "$prefix/lib/cmake" "$prefix/include"
  then
    echo "FAIL: the installed package names the build or source tree"
    exit 1
  fi
  cp -r "$source/examples/aot_consumer" "$work/src"
  project=$work/src
fi
options=()
if [ "$kind" = jit ]; then
  options=(-DATTNC_EXAMPLE="$source/examples/jit_autotune/main.cpp")
fi
cmake -S "$project" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -Dattnc_DIR="$prefix/lib/cmake/attnc" "${options[@]}"
cmake --build "$work/build"

case $kind in
moved)
  "$work/build/aot_consumer" | tee "$work/run.txt"
  grep -qF "device library: $prefix/include/attnc/runtime/device" \
    "$work/run.txt" ||
    { echo "FAIL: the program does not read the moved prefix's device library"
      exit 1; }
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
  ;;
variants)
  "$work/build/aot_variants"
  ;;
static)
  "$work/build/static_consumer"
  "$work/build/static_consumer_nested"
  if "$work/build/static_archive_only" > "$work/wrong.txt" 2>&1; then
    cat "$work/wrong.txt"
    echo "FAIL: a program linking the archive alone found its kernels"
    exit 1
  fi
  cat "$work/wrong.txt"
  grep -q "static library" "$work/wrong.txt" ||
    { echo "FAIL: the registry does not say why no kernel is there"; exit 1; }
  ;;
jit)
  spec=$source/examples/paged_decode.attn
  "$work/build/jit_consumer" "$spec" "$work/tuning.json" 2 1 300 |
    tee "$work/first.txt"
  grep -q "tuned now" "$work/first.txt" ||
    { echo "FAIL: the first run did not tune"; exit 1; }
  "$work/build/jit_consumer" "$spec" "$work/tuning.json" 2 1 400 |
    tee "$work/second.txt"
  grep -q "tuned configuration from" "$work/second.txt" ||
    { echo "FAIL: the second run did not use the database"; exit 1; }
  ;;
*)
  echo "package-consumer.sh: unknown kind '$kind'"
  exit 2
  ;;
esac
echo "package-consumer $kind: PASS"
