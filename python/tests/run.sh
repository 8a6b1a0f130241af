#!/usr/bin/env bash
# ctest's python-tests: pytest over python/tests with the package installed
# in the repository's virtualenv. Fails (never skips) when either is missing.
set -euo pipefail
root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
python=$root/.venv/bin/python
if [ ! -x "$python" ]; then
  echo "python-tests: no virtualenv at $root/.venv; run scripts/setup.sh" >&2
  exit 1
fi
if ! "$python" -c "import attnc._C" 2>/dev/null; then
  echo "python-tests: the attnc package is not installed in $root/.venv:" >&2
  "$python" -c "import attnc._C" 2>&1 | tail -1 >&2 || true
  echo "python-tests: run scripts/setup.sh (or: $python -m pip install --no-build-isolation $root)" >&2
  exit 1
fi
cd "$root"
exec "$python" -m pytest -q -p no:cacheprovider python/tests
