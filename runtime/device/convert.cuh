//===- convert.cuh - float <-> f16/bf16, packing, accumulator repacking ---===//
//
// The P.V trick of FlashAttention-2: the fp32 accumulator of S = Q.K^T, once
// turned into probabilities P, is already laid out like an A operand. The C
// layout of two adjacent 16x8 n-tiles (columns 16c..16c+7 and 16c+8..16c+15)
// holds, lane for lane, the elements the A layout of the k-step c wants:
//
//   A reg 0 = (row g,   cols 2t, 2t+1)    = C tile 2c,   elems 0, 1
//   A reg 1 = (row g+8, cols 2t, 2t+1)    = C tile 2c,   elems 2, 3
//   A reg 2 = (row g,   cols 2t+8, 2t+9)  = C tile 2c+1, elems 0, 1
//   A reg 3 = (row g+8, cols 2t+8, 2t+9)  = C tile 2c+1, elems 2, 3
//
// so P needs only a convert-and-pack per register, no shared memory.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_CONVERT_CUH
#define ATTNC_DEVICE_CONVERT_CUH

#include "types.cuh"

namespace attnc::dev {

ATTNC_DEVICE float toFloat(f16 v) { return __half2float(v); }
ATTNC_DEVICE float toFloat(bf16 v) { return __bfloat162float(v); }
ATTNC_DEVICE float toFloat(float v) { return v; }

/// float -> T, round to nearest even.
template <typename T> ATTNC_DEVICE T fromFloat(float v);
template <> ATTNC_DEVICE f16 fromFloat<f16>(float v) {
  return __float2half_rn(v);
}
template <> ATTNC_DEVICE bf16 fromFloat<bf16>(float v) {
  return __float2bfloat16_rn(v);
}
template <> ATTNC_DEVICE float fromFloat<float>(float v) { return v; }

/// Two floats rounded to T and packed into one 32-bit register, `lo` in the
/// low half (the element with the smaller column index in every fragment).
template <typename T> ATTNC_DEVICE unsigned pack2(float lo, float hi);

template <> ATTNC_DEVICE unsigned pack2<f16>(float lo, float hi) {
#ifdef ATTNC_SIM
  return ::attnc::sim::floatToHalfBits(lo) |
         static_cast<unsigned>(::attnc::sim::floatToHalfBits(hi)) << 16;
#else
  unsigned r;
  // cvt.rn.f16x2.f32 d, a, b puts a in the upper half and b in the lower.
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#endif
}

template <> ATTNC_DEVICE unsigned pack2<bf16>(float lo, float hi) {
#ifdef ATTNC_SIM
  return ::attnc::sim::floatToBf16Bits(lo) |
         static_cast<unsigned>(::attnc::sim::floatToBf16Bits(hi)) << 16;
#else
  unsigned r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
#endif
}

/// The two T halves of a register, as floats.
template <typename T>
ATTNC_DEVICE void unpack2(float &lo, float &hi, unsigned bits);

template <>
ATTNC_DEVICE void unpack2<f16>(float &lo, float &hi, unsigned bits) {
#ifdef ATTNC_SIM
  lo = ::attnc::sim::halfBitsToFloat(static_cast<unsigned short>(bits));
  hi = ::attnc::sim::halfBitsToFloat(static_cast<unsigned short>(bits >> 16));
#else
  lo = __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
  hi = __half2float(__ushort_as_half(static_cast<unsigned short>(bits >> 16)));
#endif
}

template <>
ATTNC_DEVICE void unpack2<bf16>(float &lo, float &hi, unsigned bits) {
  lo = __uint_as_float(bits << 16);
  hi = __uint_as_float(bits & 0xffff0000u);
}

/// Repacks the fp32 accumulators of n-tiles 2c (`lo`) and 2c+1 (`hi`) into
/// the A fragment of k-step c, rounding to T.
template <typename T>
ATTNC_DEVICE void accToA(FragA<T> &dst, const FragC &lo, const FragC &hi) {
  dst.x[0] = pack2<T>(lo.x[0], lo.x[1]);
  dst.x[1] = pack2<T>(lo.x[2], lo.x[3]);
  dst.x[2] = pack2<T>(hi.x[0], hi.x[1]);
  dst.x[3] = pack2<T>(hi.x[2], hi.x[3]);
}

} // namespace attnc::dev

#endif // ATTNC_DEVICE_CONVERT_CUH
