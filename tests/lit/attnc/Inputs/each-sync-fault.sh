#!/usr/bin/env bash
# Removes each __syncthreads() and each cp.async wait of one generated kernel
# in turn (attnc run --sim-fault) and checks that the sim's checked mode, or
# the check against the float64 reference, catches every one; the intact
# kernel must pass in checked mode.
#   [EMIT="attnc options of the variant"] each-sync-fault.sh SPEC KERNEL \
#       attnc run options (shape, and what selects the same variant)...
set -u
spec=$1 kernel=$2
shift 2
run=(attnc run "$spec" --kernel "$kernel" --backend sim --random --check "$@")
if ! ATTNC_SIM_CHECKED=1 "${run[@]}" > /dev/null 2>&1; then
  echo "$kernel: the intact kernel fails"
  exit 1
fi
# Counted in the source of the variant attnc run picks for this shape.
# shellcheck disable=SC2086  # EMIT is a list of options
source=$(attnc "$spec" --kernel "$kernel" --emit=cuda ${EMIT:-} 2>/dev/null)
barriers=$(grep -c '__syncthreads();' <<< "$source")
waits=$(grep -c 'attnc::dev::cpAsyncWait<' <<< "$source")
missed=0
for kind in barrier wait; do
  count=$([ $kind = barrier ] && echo "$barriers" || echo "$waits")
  for ((n = 0; n < count; ++n)); do
    out=$("${run[@]}" --sim-fault=drop-$kind:$n 2>&1)
    if [ $? -eq 0 ]; then
      echo "$kernel: drop-$kind:$n NOT caught"
      missed=$((missed + 1))
    elif grep -q 'shared-memory race\|: FAIL' <<< "$out"; then
      echo "$kernel: drop-$kind:$n caught"
    else
      echo "$kernel: drop-$kind:$n failed otherwise: $out"
      missed=$((missed + 1))
    fi
  done
done
echo "$kernel: $barriers barriers, $waits waits, $missed missed"
