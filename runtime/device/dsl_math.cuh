//===- dsl_math.cuh - The DSL's division and tanh, without libm ---------===//
//
// A softcap (`50 * tanh(score / 50)`) runs on every score of every tile, so
// its division and tanh dominate the main loop of a softcapped kernel when
// they are IEEE division and libm's tanhf (a slow-path branch each, and
// about 25 instructions for tanhf). These forms are within a few 1e-7 of
// the exact values with no branch; docs/dsl.md states the accuracy.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_DSL_MATH_CUH
#define ATTNC_DEVICE_DSL_MATH_CUH

#include "numeric.cuh"

namespace attnc::dev {

/// x / c for a compile-time constant c, with r = 1 / c rounded to f32:
/// q = x r, then one FMA correction with the exact remainder x - q c
/// (Markstein). Quotients that overflow, and infinite or NaN x, are x r as
/// IEEE gives them (the correction would turn inf into NaN).
ATTNC_DEVICE float divByConst(float x, float c, float r) {
  const float q = x * r;
  const float remainder = fmaf(-q, c, x);
  return fabsf(q) < posInf() ? fmaf(remainder, r, q) : q;
}

/// tanh(x) = 1 - 2 / (e^(2|x|) + 1) with the sign of x; below |x| = 2^-4,
/// where that difference cancels (and the GPU's approximate exp2 and
/// reciprocal would dominate a small result), the series
/// x - x^3 / 3 + 2 x^5 / 15 (truncation error < 3e-10 there).
/// Absolute error about 3e-7; tanh(±inf) = ±1; NaN gives NaN.
ATTNC_DEVICE float tanhApprox(float x) {
  const float a = fabsf(x);
  const float e = fastExp2(a * (2.0f * kLog2e));
  float t = 1.0f - 2.0f * fastRcp(e + 1.0f);
  if (a < 0.0625f) {
    const float a2 = a * a;
    t = a * fmaf(a2, fmaf(a2, 2.0f / 15.0f, -1.0f / 3.0f), 1.0f);
  }
  return copysignf(t, x);
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_DSL_MATH_CUH
