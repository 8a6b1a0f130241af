//===- fragment.cuh - Which (row, col) each lane's fragment element holds -===//
//
// The PTX ISA's layouts for mma.m16n8k16 with 16-bit inputs, as functions of
// the lane, with g = lane / 4 (groupID) and t = lane % 4 (threadID_in_group):
//
//   A element e (0..7; reg e/2, low half if e is even):
//     row = g + 8 * ((e / 2) % 2),  col = 2t + e % 2 + 8 * (e / 4)
//   B element e (0..3; reg e/2):  k = 2t + e % 2 + 8 * (e / 2),  n = g
//   C/D element i (0..3):  row = g + 8 * (i / 2),  col = 2t + i % 2
//
// Generated code uses these to apply masks and score modifiers to the S
// accumulator and to write O, without shared memory.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_FRAGMENT_CUH
#define ATTNC_DEVICE_FRAGMENT_CUH

#include "types.cuh"

namespace attnc::dev {

/// Lane of the calling thread in its warp (from the linear thread index).
ATTNC_DEVICE int laneId() {
#ifdef ATTNC_SIM
  return static_cast<int>(::attnc::sim::detail::laneId());
#else
  unsigned lane;
  asm("mov.u32 %0, %%laneid;" : "=r"(lane));
  return static_cast<int>(lane);
#endif
}

/// Warp of the calling thread within its block.
ATTNC_DEVICE int warpId() {
#ifdef ATTNC_SIM
  return static_cast<int>(::attnc::sim::detail::warpId());
#else
  return static_cast<int>((threadIdx.z * blockDim.y + threadIdx.y) *
                              blockDim.x +
                          threadIdx.x) /
         32;
#endif
}

ATTNC_DEVICE int accRow(int lane, int i) {
  return (lane >> 2) + ((i >> 1) << 3);
}
ATTNC_DEVICE int accCol(int lane, int i) { return ((lane & 3) << 1) + (i & 1); }

ATTNC_DEVICE int aRow(int lane, int e) {
  return (lane >> 2) + (((e >> 1) & 1) << 3);
}
ATTNC_DEVICE int aCol(int lane, int e) {
  return ((lane & 3) << 1) + (e & 1) + ((e >> 2) << 3);
}

/// K index (row of the 16x8 B tile) of B element e.
ATTNC_DEVICE int bRow(int lane, int e) {
  return ((lane & 3) << 1) + (e & 1) + ((e >> 1) << 3);
}
/// N index (column of the 16x8 B tile) of B element e.
ATTNC_DEVICE int bCol(int lane, int /*e*/) { return lane >> 2; }

} // namespace attnc::dev

#endif // ATTNC_DEVICE_FRAGMENT_CUH
