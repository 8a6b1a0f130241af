#!/usr/bin/env bash
# Installs attnc from BUILD_DIR into a scratch prefix, builds the separate
# examples/aot_consumer project against the installed package, and runs it.
set -euo pipefail
build=$1
source=$2
work=$build/aot-consumer-test
rm -rf "$work"
cmake --install "$build" --prefix "$work/install" > "$work.install.log" 2>&1 ||
  { cat "$work.install.log"; exit 1; }
cmake -S "$source/examples/aot_consumer" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -Dattnc_DIR="$work/install/lib/cmake/attnc"
cmake --build "$work/build"
"$work/build/aot_consumer"
