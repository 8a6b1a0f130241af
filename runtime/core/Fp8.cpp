//===- Fp8.cpp - OCP fp8 (e4m3fn, e5m2) encode and decode on the host -----===//
//
// Both formats are described by their field widths; rounding works on
// doubles, where every step (scaling by a power of two, taking the floor of
// a value below 2^53) is exact, so the one rounding decision is explicit.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Fp8.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace attnc;

namespace {

struct Layout {
  int mantissaBits;
  int bias;
  double maxFinite;
  /// e5m2 overflows to inf; e4m3 has none and saturates.
  bool hasInf;
};

Layout layoutOf(Fp8Format format) {
  if (format == Fp8Format::E4M3)
    return {3, 7, 448.0, false};
  return {2, 15, 57344.0, true};
}

bool isNanCode(Fp8Format format, uint8_t bits) {
  uint8_t mag = bits & 0x7f;
  return format == Fp8Format::E4M3 ? mag == 0x7f : mag > 0x7c;
}

/// `n` (non-negative, below 2^53) rounded to an integer, ties to even.
double roundHalfEven(double n) {
  double floor = std::floor(n);
  double rest = n - floor;
  if (rest > 0.5 || (rest == 0.5 && std::fmod(floor, 2.0) != 0.0))
    return floor + 1.0;
  return floor;
}

/// The code of a non-negative value that the format holds exactly.
uint8_t encodeExact(const Layout &l, double v) {
  int minExp = 1 - l.bias; // exponent of the smallest normal
  int exp;
  std::frexp(v, &exp);          // v = f * 2^exp, f in [0.5, 1)
  --exp;                        // now v = 1.m * 2^exp
  if (v == 0.0 || exp < minExp) // subnormal: 0.m * 2^minExp
    return static_cast<uint8_t>(std::ldexp(v, l.mantissaBits - minExp));
  int mantissa = static_cast<int>(std::ldexp(v, l.mantissaBits - exp)) -
                 (1 << l.mantissaBits);
  return static_cast<uint8_t>((exp + l.bias) << l.mantissaBits | mantissa);
}

} // namespace

double attnc::fp8Decode(Fp8Format format, uint8_t bits) {
  Layout l = layoutOf(format);
  double sign = bits & 0x80 ? -1.0 : 1.0;
  if (isNanCode(format, bits))
    return std::copysign(std::numeric_limits<double>::quiet_NaN(), sign);
  int mag = bits & 0x7f;
  if (l.hasInf && mag == 0x7c)
    return sign * std::numeric_limits<double>::infinity();
  int exp = mag >> l.mantissaBits;
  int mantissa = mag & ((1 << l.mantissaBits) - 1);
  if (exp == 0) // subnormal: 0.m * 2^(1 - bias)
    return sign * std::ldexp(mantissa, 1 - l.bias - l.mantissaBits);
  return sign * std::ldexp((1 << l.mantissaBits) + mantissa,
                           exp - l.bias - l.mantissaBits);
}

uint8_t attnc::fp8Encode(Fp8Format format, double x) {
  if (std::isnan(x))
    return 0x7f;
  Layout l = layoutOf(format);
  uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  double a = std::fabs(x);
  uint8_t infOrMax = l.hasInf ? 0x7c : encodeExact(l, l.maxFinite);
  if (std::isinf(a))
    return sign | infOrMax;
  // The spacing of representable values around a: 2^(exp - mantissaBits)
  // in a's binade, and the subnormal spacing below the smallest normal.
  int exp;
  std::frexp(a, &exp);
  exp = std::max(exp - 1, 1 - l.bias);
  double ulp = std::ldexp(1.0, exp - l.mantissaBits);
  double rounded = roundHalfEven(a / ulp) * ulp; // may step up a binade
  if (rounded > l.maxFinite)
    return sign | infOrMax;
  return sign | encodeExact(l, rounded);
}

double attnc::fp8MaxFinite(Fp8Format format) {
  return layoutOf(format).maxFinite;
}

const char *attnc::fp8FormatName(Fp8Format format) {
  return format == Fp8Format::E4M3 ? "e4m3" : "e5m2";
}

std::optional<Fp8Format> attnc::parseFp8Format(std::string_view name) {
  if (name == "e4m3" || name == "e4m3fn")
    return Fp8Format::E4M3;
  if (name == "e5m2")
    return Fp8Format::E5M2;
  return std::nullopt;
}
