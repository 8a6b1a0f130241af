//===- fp8.cuh - Widening fp8 (e4m3fn, e5m2) to f16 / bf16 pairs ----------===//
//
// An fp8 KV cache stores K and V as OCP fp8 bytes and widens them to the mma
// operand type on the load path. Every e4m3fn and e5m2 value, subnormals
// included, is exactly representable in f16 and in bf16, so widening is
// exact: NaN stays NaN, e5m2's +-inf stays +-inf, +-0 keep their sign.
//
// Packing follows convert.cuh: element 0 (byte 0, the lower address) lands
// in the low 16 bits of the 32-bit register.
//
// Paths:
//   - e4m3 -> f16 on sm_89+: the hardware cvt.rn.f16x2.e4m3x2, whose low
//     source byte becomes the low half (as cuda_fp8.hpp's own fallback for
//     __nv_cvt_fp8x2_to_halfraw2 spells out); e4m3 -> bf16 on sm_89+: that
//     cvt, then f16 -> f32 -> bf16x2 (four instructions a pair, exact);
//   - e5m2 -> f16 everywhere: e5m2 is the high byte of an f16, so a byte
//     permute (one PRMT) is the conversion;
//   - everything else (sm_80, e5m2 -> bf16, and the host sim): integer
//     bit placement plus one exact packed multiply, see widenByScaling.
//     PTX has no e4m3x2/e5m2x2 -> bf16x2 cvt for sm_80-sm_90; going
//     through the f16 cvt would add three conversion-pipe instructions (two
//     f16 -> f32, one f32x2 -> bf16x2) where this path uses ALU ops: about
//     eight SASS instructions per pair (2 PRMT, 3 LOP3, LEA, IADD3, HFMA2).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DEVICE_FP8_CUH
#define ATTNC_DEVICE_FP8_CUH

#include "convert.cuh"
#include "types.cuh"

namespace attnc::dev {

enum class Fp8Kind { E4M3, E5M2 };

namespace fp8detail {

/// Which 16-bit type a widening targets (NVRTC has no <type_traits>).
template <typename T> constexpr bool kIsBf16 = false;
template <> constexpr bool kIsBf16<bf16> = true;
template <typename T> constexpr bool kIsF16 = false;
template <> constexpr bool kIsF16<f16> = true;

/// prmt.b32 d, x, 0, selector: result byte i is chosen by selector nibble
/// i: bits 0-2 pick a byte of {x, 0} (0-3: x's bytes, low first; 4-7:
/// zero), bit 3 set replaces it with copies of that byte's sign bit.
ATTNC_DEVICE unsigned permute(unsigned x, unsigned selector) {
#ifdef ATTNC_SIM
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned nibble = selector >> 4 * i & 0xfu;
    unsigned byte = (nibble & 4u) ? 0u : x >> 8 * (nibble & 3u) & 0xffu;
    if (nibble & 8u)
      byte = (byte & 0x80u) ? 0xffu : 0u;
    r |= byte << 8 * i;
  }
  return r;
#else
  unsigned r;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(x), "r"(0u), "r"(selector));
  return r;
#endif
}

/// Bytes 0, 1 of `x` to the high byte of each 16-bit half (bits 8-15 and
/// 24-31), the rest zero.
constexpr unsigned kSpreadLo = 0x1404u;
/// Bytes 2, 3 of `x` likewise.
constexpr unsigned kSpreadHi = 0x3424u;
/// Each 16-bit half all ones if its bit 15 is set, else zero.
constexpr unsigned kHalfSignMask = 0xbb99u;

/// x * s on both 16-bit halves, correctly rounded (here always exact).
template <typename T> ATTNC_DEVICE unsigned mul2(unsigned x, unsigned s) {
#ifdef ATTNC_SIM
  // The f32 product of two 16-bit values is exact; pack2 rounds it once.
  float x0, x1, s0, s1;
  unpack2<T>(x0, x1, x);
  unpack2<T>(s0, s1, s);
  return pack2<T>(x0 * s0, x1 * s1);
#else
  unsigned r;
  if constexpr (kIsF16<T>)
    // No .ftz: the f16 subnormals this multiplies are kept.
    asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(r) : "r"(x), "r"(s));
  else
    // mul.bf16x2 needs sm_90; fma with a -0 addend is the same product on
    // sm_80 (x * s + -0 keeps the sign of a zero product, + +0 would not).
    asm("fma.rn.bf16x2 %0, %1, %2, %3;"
        : "=r"(r)
        : "r"(x), "r"(s), "r"(0x80008000u));
  return r;
#endif
}

/// Widens the fp8 bytes sitting in the high byte of each half of `w` (as
/// permute with kSpreadLo/Hi leaves them) to two T.
///
/// Why it is exact: an fp8 magnitude (exponent E, mantissa M) is placed so
/// that E fills the low bits of T's exponent field and M the top bits of
/// T's mantissa. Read as T, that is the fp8 value times 2^(fp8 bias - T
/// bias), for normals (E >= 1) and, because both formats scale their
/// subnormals by the same 2^(1 - bias), for subnormals too (E = 0 gives a
/// T subnormal or zero). One multiply by 2^(T bias - fp8 bias) restores the
/// value; the product is representable, so the rounding multiply is exact
/// and keeps the sign of zero.
///
/// The codes the multiply cannot produce (e4m3 S.1111.111 = NaN; e5m2
/// S.11111.xx = inf/NaN) are found from the 7-bit magnitude: adding 1
/// (e4m3) or 4 (e5m2) carries into bit 7 only for them. That flag, spread
/// over its half and masked to 0x7f80, is ORed into the product: T's
/// exponent becomes all ones and the mantissa stays the scaled code's
/// (e4m3 NaN: nonzero, so NaN; e5m2: the code's own, so inf or NaN).
template <Fp8Kind K, typename T>
ATTNC_DEVICE unsigned widenByScaling(unsigned w) {
  constexpr bool isE4m3 = K == Fp8Kind::E4M3;
  constexpr bool isF16 = kIsF16<T>;
  static_assert(kIsF16<T> || kIsBf16<T>, "fp8 widens to f16 or bf16");
  // Right shift from bits 8-14 to the target place; T's exponent field
  // starts at bit 10 (f16) or 7 (bf16), fp8's at bit 3 (e4m3) or 2 (e5m2).
  constexpr int shift = (isE4m3 ? 3 : 2) + 8 - (isF16 ? 10 : 7);
  // 2^(T bias - fp8 bias) as T, in both halves: f16 2^8, bf16 2^120 or
  // 2^112.
  constexpr unsigned scale = isF16    ? 0x5c005c00u
                             : isE4m3 ? 0x7b807b80u
                                      : 0x77807780u;
  constexpr unsigned specialAdd = isE4m3 ? 0x01000100u : 0x04000400u;
  unsigned mag = w & 0x7f007f00u;
  unsigned placed = (w & 0x80008000u) | mag >> shift;
  unsigned special = permute(mag + specialAdd, kHalfSignMask);
  return mul2<T>(placed, scale) | (special & 0x7f807f80u);
}

template <Fp8Kind K, typename T> ATTNC_DEVICE unsigned widenSpread(unsigned w) {
  if constexpr (K == Fp8Kind::E5M2 && kIsF16<T>)
    return w; // the e5m2 byte is already the f16's high byte
  else
    return widenByScaling<K, T>(w);
}

#if !defined(ATTNC_SIM) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
/// cvt.rn.f16x2.e4m3x2: the low byte of the source goes to the low half.
ATTNC_DEVICE unsigned cvtE4m3x2ToF16x2(unsigned short two) {
  unsigned r;
  asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(r) : "h"(two));
  return r;
}

/// e4m3 pair -> bf16 pair through the hardware f16 cvt: f16 -> f32 (two
/// HADD2.F32) and one f32x2 -> bf16x2 pack, four instructions where the
/// bit placement takes about eight. Exact at every step (every e4m3 value
/// is an f16, f32 and bf16 value); NaN stays NaN.
ATTNC_DEVICE unsigned cvtE4m3x2ToBf16x2(unsigned short two) {
  float lo, hi;
  unpack2<f16>(lo, hi, cvtE4m3x2ToF16x2(two));
  return pack2<bf16>(lo, hi);
}
#define ATTNC_FP8_HW_E4M3_F16 1
#else
#define ATTNC_FP8_HW_E4M3_F16 0
#endif

} // namespace fp8detail

/// Widens two packed fp8 bytes (element 0 in bits 0-7) to two T (f16 or
/// bf16) packed in one register, element 0 in the low half.
template <Fp8Kind K, typename T>
ATTNC_DEVICE unsigned fp8x2ToPair(unsigned short two) {
#if ATTNC_FP8_HW_E4M3_F16
  if constexpr (K == Fp8Kind::E4M3 && fp8detail::kIsF16<T>)
    return fp8detail::cvtE4m3x2ToF16x2(two);
  if constexpr (K == Fp8Kind::E4M3 && fp8detail::kIsBf16<T>)
    return fp8detail::cvtE4m3x2ToBf16x2(two);
#endif
  return fp8detail::widenSpread<K, T>(
      fp8detail::permute(two, fp8detail::kSpreadLo));
}

/// Widens four packed fp8 bytes (element i in bits 8i..8i+7) to two
/// registers: .x holds elements 0, 1 and .y elements 2, 3, each as
/// fp8x2ToPair packs them.
template <Fp8Kind K, typename T>
ATTNC_DEVICE uint2 fp8x4ToPairs(unsigned four) {
#if ATTNC_FP8_HW_E4M3_F16
  if constexpr (K == Fp8Kind::E4M3 && fp8detail::kIsF16<T>)
    return make_uint2(
        fp8detail::cvtE4m3x2ToF16x2(static_cast<unsigned short>(four)),
        fp8detail::cvtE4m3x2ToF16x2(static_cast<unsigned short>(four >> 16)));
  if constexpr (K == Fp8Kind::E4M3 && fp8detail::kIsBf16<T>)
    return make_uint2(
        fp8detail::cvtE4m3x2ToBf16x2(static_cast<unsigned short>(four)),
        fp8detail::cvtE4m3x2ToBf16x2(static_cast<unsigned short>(four >> 16)));
#endif
  return make_uint2(fp8detail::widenSpread<K, T>(
                        fp8detail::permute(four, fp8detail::kSpreadLo)),
                    fp8detail::widenSpread<K, T>(
                        fp8detail::permute(four, fp8detail::kSpreadHi)));
}

/// One fp8 byte as a float (exact), for tails and checks.
template <Fp8Kind K> ATTNC_DEVICE float fp8ToFloat(unsigned char b) {
  unsigned pair = fp8x2ToPair<K, f16>(b);
#ifdef ATTNC_SIM
  return ::attnc::sim::halfBitsToFloat(static_cast<unsigned short>(pair));
#else
  return __half2float(__ushort_as_half(static_cast<unsigned short>(pair)));
#endif
}

} // namespace attnc::dev

#undef ATTNC_FP8_HW_E4M3_F16

#endif // ATTNC_DEVICE_FP8_CUH
