//===- warp_reduce.cuh - Quad and warp reductions -------------------------===//
//
// A row of an mma accumulator is spread over the 4 lanes of a quad (lanes
// 4g..4g+3 hold row g and g+8), so a row max or sum is a local reduction
// over the lane's registers followed by two xor-shuffles (1 and 2).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_WARP_REDUCE_CUH
#define ATTNC_DEVICE_WARP_REDUCE_CUH

#include "types.cuh"

namespace attnc::dev {

constexpr unsigned kFullMask = 0xffffffffu;

/// Max over the 4 lanes of the calling lane's quad; all 4 get the result.
ATTNC_DEVICE float quadMax(float v) {
  v = fmaxf(v, __shfl_xor_sync(kFullMask, v, 1));
  v = fmaxf(v, __shfl_xor_sync(kFullMask, v, 2));
  return v;
}

ATTNC_DEVICE float quadSum(float v) {
  v += __shfl_xor_sync(kFullMask, v, 1);
  v += __shfl_xor_sync(kFullMask, v, 2);
  return v;
}

/// Max over all 32 lanes; every lane gets the result.
ATTNC_DEVICE float warpMax(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

ATTNC_DEVICE float warpSum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

/// Row maxima of a 16 x 8N accumulator tile: dst[0] for row g, dst[1] for
/// row g + 8 (g = lane / 4), reduced across the quad.
template <int N>
ATTNC_DEVICE void rowMax(float (&dst)[2], const FragC (&src)[N]) {
  float m0 = fmaxf(src[0].x[0], src[0].x[1]);
  float m1 = fmaxf(src[0].x[2], src[0].x[3]);
  for (int j = 1; j < N; ++j) {
    m0 = fmaxf(m0, fmaxf(src[j].x[0], src[j].x[1]));
    m1 = fmaxf(m1, fmaxf(src[j].x[2], src[j].x[3]));
  }
  dst[0] = quadMax(m0);
  dst[1] = quadMax(m1);
}

/// Row sums of a 16 x 8N accumulator tile, laid out as rowMax's.
template <int N>
ATTNC_DEVICE void rowSum(float (&dst)[2], const FragC (&src)[N]) {
  float s0 = src[0].x[0] + src[0].x[1];
  float s1 = src[0].x[2] + src[0].x[3];
  for (int j = 1; j < N; ++j) {
    s0 += src[j].x[0] + src[j].x[1];
    s1 += src[j].x[2] + src[j].x[3];
  }
  dst[0] = quadSum(s0);
  dst[1] = quadSum(s1);
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_WARP_REDUCE_CUH
