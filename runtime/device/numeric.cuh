//===- numeric.cuh - Infinities and the fast exp2 -------------------------===//
//
// NVRTC has no INFINITY macro (no <cmath>), so infinities are spelled as bit
// patterns. Online softmax runs on exp2 with log2(e) folded into the scale,
// which the GPU evaluates with one MUFU.EX2 instruction.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_NUMERIC_CUH
#define ATTNC_DEVICE_NUMERIC_CUH

#include "types.cuh"

namespace attnc::dev {

constexpr float kLog2e = 1.4426950408889634f;

ATTNC_DEVICE float posInf() { return __int_as_float(0x7f800000); }
ATTNC_DEVICE float negInf() { return -__int_as_float(0x7f800000); }

/// 2^x. On the GPU ex2.approx.ftz: about 2 ulp, subnormal results flushed to
/// zero, exp2(-inf) = 0 exactly (what a fully masked score needs).
ATTNC_DEVICE float fastExp2(float x) {
#ifdef ATTNC_SIM
  return exp2f(x);
#else
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#endif
}

/// 1/x, approximately (rcp.approx.ftz), for normalising by the row sum.
ATTNC_DEVICE float fastRcp(float x) {
#ifdef ATTNC_SIM
  return 1.0f / x;
#else
  float y;
  asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
#endif
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_NUMERIC_CUH
