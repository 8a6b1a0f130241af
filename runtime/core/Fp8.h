//===- Fp8.h - OCP fp8 (e4m3fn, e5m2) encode and decode on the host -------===//
//
// The host side of an fp8 KV cache: quantising K/V into fp8 bytes and the
// float64 reference decoding the same bytes the kernels widen
// (runtime/device/fp8.cuh). Formats as in the OCP 8-bit floating point
// specification (torch.float8_e4m3fn, torch.float8_e5m2):
//
//   e4m3: 1 sign, 4 exponent (bias 7), 3 mantissa. No infinities;
//         S.1111.111 is NaN. Largest finite 448, smallest subnormal 2^-9.
//   e5m2: 1 sign, 5 exponent (bias 15), 2 mantissa, IEEE-like: S.11111.00
//         is inf, S.11111.{01,10,11} NaN. Largest finite 57344, smallest
//         subnormal 2^-16. The high byte of an IEEE binary16.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CORE_FP8_H
#define ATTNC_RUNTIME_CORE_FP8_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace attnc {

enum class Fp8Format { E4M3, E5M2 };

/// The value of an fp8 code, exactly. NaN codes give a NaN with the code's
/// sign.
double fp8Decode(Fp8Format format, uint8_t bits);

/// `x` rounded to nearest, ties to even, as an fp8 code. NaN gives 0x7f
/// (a NaN in both formats). Out of range:
///   e4m3: magnitudes that round past 448, infinities included, saturate
///         to +-448 (0x7e / 0xfe), as cvt.rn.satfinite does and as serving
///         engines quantise a KV cache: there is no inf to overflow to, and
///         a NaN would poison every score that reads the entry.
///   e5m2: IEEE overflow: magnitudes from 61440 (the tie between 57344 and
///         2^16, which goes to the even 2^16) up become +-inf.
/// Below the smallest subnormal, half of it or less rounds to a zero of
/// x's sign.
uint8_t fp8Encode(Fp8Format format, double x);

/// The largest finite magnitude: 448 (e4m3), 57344 (e5m2).
double fp8MaxFinite(Fp8Format format);

/// "e4m3" or "e5m2".
const char *fp8FormatName(Fp8Format format);

/// The inverse of fp8FormatName; also accepts torch's "e4m3fn".
std::optional<Fp8Format> parseFp8Format(std::string_view name);

} // namespace attnc

#endif // ATTNC_RUNTIME_CORE_FP8_H
