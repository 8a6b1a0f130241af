//===- HalfTypes.h - __half and __nv_bfloat16 for host C++ ----------------===//
//
// The 16-bit float types of cuda_fp16.h / cuda_bf16.h, bit-compatible with
// them, and the conversions a kernel and the device library use. Every
// float -> 16-bit conversion rounds to nearest even, handles subnormals and
// overflow, and turns NaN into the canonical NaN 0x7fff, as `cvt.rn.f16.f32`
// and `cvt.rn.bf16.f32` do on the GPU: a kernel's numerics under sim are
// then the GPU's numerics, not an approximation of them.
//
// Arithmetic operators mirror cuda_fp16.hpp: `__half * __half` is a __half
// (computed in float, rounded once), so a kernel that compiles here means the
// same thing under nvcc.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_HALFTYPES_H
#define ATTNC_RUNTIME_SIM_HALFTYPES_H

#include "VectorTypes.h"

#include <cstdint>
#include <cstring>

namespace attnc::sim {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// float -> IEEE binary16 bits, round to nearest even.
inline uint16_t floatToHalfBits(float f) {
  uint32_t x = floatBits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u)
    return 0x7fffu; // NaN: canonical, sign dropped, like cvt.rn.f16.f32
  if (abs >= 0x477ff000u)
    return static_cast<uint16_t>(sign | 0x7c00u); // >= 65520 rounds to inf
  if (abs < 0x38800000u) {
    // Below 2^-14: a half subnormal m * 2^-24. Exactly 2^-25 ties to 0.
    if (abs <= 0x33000000u)
      return static_cast<uint16_t>(sign);
    uint32_t exp = abs >> 23;
    uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exp; // 14..24
    uint32_t m = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (m & 1)))
      ++m; // may carry into the smallest normal, which encodes correctly
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t h = (((abs >> 23) - 112) << 10) | ((abs >> 13) & 0x3ffu);
  uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
    ++h; // a mantissa carry bumps the exponent, still the right encoding
  return static_cast<uint16_t>(sign | h);
}

/// float -> binary16 bits, round toward zero.
inline uint16_t floatToHalfBitsRz(float f) {
  uint32_t x = floatBits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u)
    return 0x7fffu;
  if (abs == 0x7f800000u)
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (abs >= 0x47800000u)
    return static_cast<uint16_t>(sign | 0x7bffu); // largest finite
  if (abs < 0x38800000u) {
    if (abs < 0x33800000u)
      return static_cast<uint16_t>(sign);
    uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    return static_cast<uint16_t>(sign | (mant >> (126 - (abs >> 23))));
  }
  return static_cast<uint16_t>(sign | (((abs >> 23) - 112) << 10) |
                               ((abs >> 13) & 0x3ffu));
}

/// binary16 bits -> float (exact).
inline float halfBitsToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f)
    return bitsToFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0)
      return bitsToFloat(sign);
    // Subnormal: renormalise into a float normal.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while (!(mant & 0x400u));
    return bitsToFloat(sign | ((112u - e) << 23) | ((mant & 0x3ffu) << 13));
  }
  return bitsToFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

/// float -> bfloat16 bits, round to nearest even.
inline uint16_t floatToBf16Bits(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return 0x7fffu; // canonical NaN, like cvt.rn.bf16.f32
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

/// float -> bfloat16 bits, round toward zero.
inline uint16_t floatToBf16BitsRz(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return 0x7fffu;
  return static_cast<uint16_t>(x >> 16);
}

inline float bf16BitsToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

} // namespace attnc::sim

struct __half_raw {
  unsigned short x;
};
struct __nv_bfloat16_raw {
  unsigned short x;
};

struct alignas(2) __half {
  unsigned short __x;
  __half() = default;
  __half(const __half_raw &r) : __x(r.x) {}
  __half(float f) : __x(attnc::sim::floatToHalfBits(f)) {}
  __half(double d) : __half(static_cast<float>(d)) {}
  __half &operator=(const __half_raw &r) {
    __x = r.x;
    return *this;
  }
  operator __half_raw() const { return {__x}; }
  operator float() const { return attnc::sim::halfBitsToFloat(__x); }
};

struct alignas(2) __nv_bfloat16 {
  unsigned short __x;
  __nv_bfloat16() = default;
  __nv_bfloat16(const __nv_bfloat16_raw &r) : __x(r.x) {}
  __nv_bfloat16(float f) : __x(attnc::sim::floatToBf16Bits(f)) {}
  __nv_bfloat16(double d) : __nv_bfloat16(static_cast<float>(d)) {}
  __nv_bfloat16 &operator=(const __nv_bfloat16_raw &r) {
    __x = r.x;
    return *this;
  }
  operator __nv_bfloat16_raw() const { return {__x}; }
  operator float() const { return attnc::sim::bf16BitsToFloat(__x); }
};

/// Two halves in one 32-bit word; `x` is the low 16 bits, as on the GPU.
struct alignas(4) __half2 {
  __half x, y;
  __half2() = default;
  __half2(__half a, __half b) : x(a), y(b) {}
};

struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
  __nv_bfloat162() = default;
  __nv_bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) : x(a), y(b) {}
};

static_assert(sizeof(__half) == 2 && sizeof(__half2) == 4, "layout");
static_assert(sizeof(__nv_bfloat16) == 2 && sizeof(__nv_bfloat162) == 4,
              "layout");

using half = __half;
using half2 = __half2;

//===--- __half conversions -----------------------------------------------===//

inline __half __ushort_as_half(unsigned short u) { return __half_raw{u}; }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline __half __float2half_rz(float f) {
  return __half_raw{attnc::sim::floatToHalfBitsRz(f)};
}
inline float __half2float(__half h) {
  return attnc::sim::halfBitsToFloat(h.__x);
}
inline __half2 __floats2half2_rn(float lo, float hi) {
  return {__half(lo), __half(hi)};
}
inline __half2 __float2half2_rn(float f) { return {__half(f), __half(f)}; }
inline __half2 __float22half2_rn(float2 f) {
  return {__half(f.x), __half(f.y)};
}
inline float2 __half22float2(__half2 h) {
  return {__half2float(h.x), __half2float(h.y)};
}
inline float __low2float(__half2 h) { return __half2float(h.x); }
inline float __high2float(__half2 h) { return __half2float(h.y); }
inline __half __low2half(__half2 h) { return h.x; }
inline __half __high2half(__half2 h) { return h.y; }
inline __half2 __halves2half2(__half lo, __half hi) { return {lo, hi}; }
inline __half2 __half2half2(__half h) { return {h, h}; }
inline bool __hisnan(__half h) { return (h.__x & 0x7fffu) > 0x7c00u; }
inline int __hisinf(__half h) {
  return h.__x == 0x7c00u ? 1 : (h.__x == 0xfc00u ? -1 : 0);
}

//===--- __nv_bfloat16 conversions ----------------------------------------===//

inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) {
  return __nv_bfloat16_raw{u};
}
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rz(float f) {
  return __nv_bfloat16_raw{attnc::sim::floatToBf16BitsRz(f)};
}
inline float __bfloat162float(__nv_bfloat16 b) {
  return attnc::sim::bf16BitsToFloat(b.__x);
}
inline __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi) {
  return {__nv_bfloat16(lo), __nv_bfloat16(hi)};
}
inline __nv_bfloat162 __float2bfloat162_rn(float f) {
  return {__nv_bfloat16(f), __nv_bfloat16(f)};
}
inline __nv_bfloat162 __float22bfloat162_rn(float2 f) {
  return {__nv_bfloat16(f.x), __nv_bfloat16(f.y)};
}
inline float2 __bfloat1622float2(__nv_bfloat162 b) {
  return {__bfloat162float(b.x), __bfloat162float(b.y)};
}
inline float __low2float(__nv_bfloat162 b) { return __bfloat162float(b.x); }
inline float __high2float(__nv_bfloat162 b) { return __bfloat162float(b.y); }
inline __nv_bfloat16 __low2bfloat16(__nv_bfloat162 b) { return b.x; }
inline __nv_bfloat16 __high2bfloat16(__nv_bfloat162 b) { return b.y; }
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 lo, __nv_bfloat16 hi) {
  return {lo, hi};
}
inline __nv_bfloat162 __bfloat162bfloat162(__nv_bfloat16 b) { return {b, b}; }
inline bool __hisnan(__nv_bfloat16 b) { return (b.__x & 0x7fffu) > 0x7f80u; }
inline int __hisinf(__nv_bfloat16 b) {
  return b.__x == 0x7f80u ? 1 : (b.__x == 0xff80u ? -1 : 0);
}

//===--- Arithmetic, as cuda_fp16.hpp / cuda_bf16.hpp define it -----------===//
// Sums and differences go through double, where two 16-bit values add
// exactly, so the one rounding to 16 bits is the only rounding.

#define ATTNC_SIM_HALF_OPS(T, Cvt)                                             \
  inline T operator+(T a, T b) {                                               \
    return T(static_cast<float>(static_cast<double>(Cvt(a)) + Cvt(b)));        \
  }                                                                            \
  inline T operator-(T a, T b) {                                               \
    return T(static_cast<float>(static_cast<double>(Cvt(a)) - Cvt(b)));        \
  }                                                                            \
  inline T operator*(T a, T b) { return T(Cvt(a) * Cvt(b)); }                  \
  inline T operator/(T a, T b) {                                               \
    return T(static_cast<float>(static_cast<double>(Cvt(a)) / Cvt(b)));        \
  }                                                                            \
  inline T operator-(T a) {                                                    \
    T r = a;                                                                   \
    r.__x ^= 0x8000u;                                                          \
    return r;                                                                  \
  }                                                                            \
  inline T &operator+=(T &a, T b) { return a = a + b; }                        \
  inline T &operator-=(T &a, T b) { return a = a - b; }                        \
  inline T &operator*=(T &a, T b) { return a = a * b; }                        \
  inline T &operator/=(T &a, T b) { return a = a / b; }                        \
  inline bool operator==(T a, T b) { return Cvt(a) == Cvt(b); }                \
  inline bool operator!=(T a, T b) { return Cvt(a) != Cvt(b); }                \
  inline bool operator<(T a, T b) { return Cvt(a) < Cvt(b); }                  \
  inline bool operator<=(T a, T b) { return Cvt(a) <= Cvt(b); }                \
  inline bool operator>(T a, T b) { return Cvt(a) > Cvt(b); }                  \
  inline bool operator>=(T a, T b) { return Cvt(a) >= Cvt(b); }

ATTNC_SIM_HALF_OPS(__half, __half2float)
ATTNC_SIM_HALF_OPS(__nv_bfloat16, __bfloat162float)
#undef ATTNC_SIM_HALF_OPS

inline __half __hadd(__half a, __half b) { return a + b; }
inline __half __hmul(__half a, __half b) { return a * b; }
inline __half __hfma(__half a, __half b, __half c) {
  return __half(static_cast<float>(static_cast<double>(__half2float(a)) *
                                       __half2float(b) +
                                   __half2float(c)));
}
inline __half __hmax(__half a, __half b) { return a < b ? b : a; }
inline __half __hmin(__half a, __half b) { return b < a ? b : a; }
inline __half2 __hadd2(__half2 a, __half2 b) { return {a.x + b.x, a.y + b.y}; }
inline __half2 __hmul2(__half2 a, __half2 b) { return {a.x * b.x, a.y * b.y}; }
inline __nv_bfloat16 __hadd(__nv_bfloat16 a, __nv_bfloat16 b) { return a + b; }
inline __nv_bfloat16 __hmul(__nv_bfloat16 a, __nv_bfloat16 b) { return a * b; }
inline __nv_bfloat162 __hadd2(__nv_bfloat162 a, __nv_bfloat162 b) {
  return {a.x + b.x, a.y + b.y};
}
inline __nv_bfloat162 __hmul2(__nv_bfloat162 a, __nv_bfloat162 b) {
  return {a.x * b.x, a.y * b.y};
}

#endif // ATTNC_RUNTIME_SIM_HALFTYPES_H
