#!/usr/bin/env bash
# Installs what attnc needs (Debian/Ubuntu), checks the CUDA toolkit, then
# configures and builds attnc into ./build. Safe to run again: apt skips what
# is installed and the build is incremental.
#
#   bash scripts/setup.sh            # as root, or a user with sudo
#   BUILD_DIR=out bash scripts/setup.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
cuda_home=${CUDA_HOME:-/usr/local/cuda}

packages=(build-essential cmake ninja-build python3 python3-dev python3-venv
          llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
          catch2 libfmt-dev libssl-dev)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup: need root (or sudo) to run: $*" >&2; exit 1
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  echo "setup: system packages already installed"
fi

# NVRTC compiles kernels at run time and in the tests; the CUDA driver is
# never needed to build or test (it is loaded with dlopen when a GPU exists).
cuda_missing=()
[ -f "$cuda_home/include/nvrtc.h" ] || cuda_missing+=("$cuda_home/include/nvrtc.h")
[ -f "$cuda_home/include/cuda_fp16.h" ] || cuda_missing+=("$cuda_home/include/cuda_fp16.h")
ls "$cuda_home"/lib64/libnvrtc.so* >/dev/null 2>&1 || cuda_missing+=("$cuda_home/lib64/libnvrtc.so")
if [ ${#cuda_missing[@]} -gt 0 ]; then
  echo "setup: error: the CUDA toolkit (with NVRTC) was not found at $cuda_home." >&2
  echo "setup: missing: ${cuda_missing[*]}" >&2
  echo "setup: install CUDA Toolkit 12 or 13 there, or set CUDA_HOME to its root." >&2
  exit 1
fi
echo "setup: CUDA toolkit at $cuda_home ($("$cuda_home/bin/nvcc" --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'nvcc not found'))"

# nvdisasm, for the static SASS report (bench/sass_report.py) and its lit test.
# When the report cannot find one (PATH, the toolkit, .cache/attnc-tools,
# Python's site-packages), NVIDIA's PyPI wheels are unpacked with
# `pip install --target` into .cache/attnc-tools (git-ignored): no virtualenv,
# nothing written into a system Python (which, on Debian 12, refuses pip
# installs: PEP 668), and the report looks there. Newer nvdisasm reads older cubins.
attnc_tools=$root/.cache/attnc-tools
nvdisasm_wheels=(nvidia-cuda-nvdisasm==13.2.86 nvidia-cuda-cuobjdump==13.2.86)
if python3 "$root/bench/sass_report.py" --which-nvdisasm >/dev/null 2>&1; then
  :
else
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "setup: installing python3-pip"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip
  fi
  echo "setup: installing nvdisasm (${nvdisasm_wheels[*]}) into $attnc_tools"
  if ! PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install -q \
         --no-deps --upgrade --target "$attnc_tools" "${nvdisasm_wheels[@]}"; then
    echo "setup: warning: could not install nvdisasm; tests/lit/attnc/sass-report.test will fail" >&2
  fi
fi

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCUDAToolkit_ROOT="$cuda_home"
cmake --build "$build_dir" -j "$(nproc)"
echo "setup: built attnc in $build_dir"

# The Python package (docs/python.md): a virtualenv at .venv with torch and
# the build tools from PyPI, then attnc itself, whose extension is built in
# $build_dir (pyproject.toml: only the target _C, so this step is
# incremental after the build above).
venv=$root/.venv
python_packages=(torch==2.15.0 transformers nanobind scikit-build-core pytest numpy)
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating the virtualenv $venv"
  if ! python3 -m venv "$venv"; then
    echo "setup: error: python3 -m venv failed; install python3-venv" >&2
    exit 1
  fi
fi
if "$venv/bin/python" - "${python_packages[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, _, pinned = spec.partition("==")
    if pinned and version(name) != pinned or not version(name):
        sys.exit(1)
PY
then
  echo "setup: Python packages already installed in $venv"
else
  echo "setup: installing ${python_packages[*]} into $venv (PyPI)"
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "${python_packages[@]}"; then
    echo "setup: error: pip could not install ${python_packages[*]}" >&2
    exit 1
  fi
fi
echo "setup: installing the attnc package into $venv"
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
       --config-settings=build-dir="$build_dir" "$root"; then
  echo "setup: error: building or installing the attnc package failed (see above)" >&2
  exit 1
fi
echo "setup: attnc installed in $venv (python -c 'import attnc')"
