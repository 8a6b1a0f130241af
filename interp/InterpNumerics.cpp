//===- InterpNumerics.cpp - Rounding to f16/bf16 and output comparison ----===//
#include "interp/Interpreter.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace attnc;

/// Rounds `x` to a binary float format with `precision` significand bits
/// (the implicit bit included), smallest normal exponent `minExp` and
/// largest finite value `maxFinite`, ties to even.
static double roundToFormat(double x, int precision, int minExp,
                            double maxFinite) {
  if (!std::isfinite(x) || x == 0)
    return x;
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int biasedExp = static_cast<int>((bits >> 52) & 0x7ff);
  if (biasedExp - 1023 >= minExp) {
    // A normal result: round the 52-bit fraction to precision - 1 bits in
    // place. A carry out of the fraction bumps the exponent, which is the
    // right result (the next binade, or infinity past maxFinite).
    int shift = 53 - precision;
    uint64_t lsb = (bits >> shift) & 1;
    bits += (uint64_t(1) << (shift - 1)) - 1 + lsb;
    bits &= ~((uint64_t(1) << shift) - 1);
    double r;
    std::memcpy(&r, &bits, sizeof r);
    if (std::fabs(r) > maxFinite)
      return std::copysign(std::numeric_limits<double>::infinity(), x);
    return r;
  }
  // A subnormal result: its spacing is that of the smallest normal. Scaling
  // by a power of two is exact, so rint() on the scaled value rounds once.
  int exp;
  std::frexp(x, &exp); // x = m * 2^exp with 0.5 <= |m| < 1
  int lead = std::max(exp - 1, minExp);
  int quantumExp = lead - precision + 1;
  double r = std::ldexp(std::nearbyint(std::ldexp(x, -quantumExp)), quantumExp);
  if (std::fabs(r) > maxFinite)
    return std::copysign(std::numeric_limits<double>::infinity(), x);
  return r;
}

double attnc::roundToF16(double value) {
  return roundToFormat(value, 11, -14, 65504.0);
}

double attnc::roundToBF16(double value) {
  return roundToFormat(value, 8, -126, 0x1.fep127);
}

double attnc::roundToType(double value, mlir::Type type) {
  if (type.isF16())
    return roundToF16(value);
  if (type.isBF16())
    return roundToBF16(value);
  if (type.isF32())
    return static_cast<float>(value);
  // fp8 (an fp8 K/V cache) through APFloat: independent of the runtime's
  // own codec, which the kernels' inputs go through.
  if (mlir::isa<mlir::Float8E4M3FNType, mlir::Float8E5M2Type>(type)) {
    llvm::APFloat x(value);
    bool lost = false;
    x.convert(mlir::cast<mlir::FloatType>(type).getFloatSemantics(),
              llvm::APFloat::rmNearestTiesToEven, &lost);
    return x.convertToDouble();
  }
  return value;
}

namespace {
/// Accumulates one of the two outputs into an OutputDiff.
struct Comparer {
  OutputDiff &diff;
  const char *what;

  /// Returns true when both values are finite (the caller measures them).
  bool classify(double a, double e, size_t index) {
    if (std::isfinite(a) && std::isfinite(e))
      return true;
    // Both the same infinity, or both NaN: a NaN input propagates to the
    // same outputs in the kernel and the references (docs/runtime.md).
    if (a == e || (std::isnan(a) && std::isnan(e)))
      return false;
    if (diff.nonFiniteMismatches++ == 0)
      diff.firstMismatch = std::string(what) + "[" + std::to_string(index) +
                           "] is " + std::to_string(a) + ", expected " +
                           std::to_string(e);
    return false;
  }

  bool sameSize(size_t a, size_t e) {
    if (a == e)
      return true;
    if (diff.nonFiniteMismatches++ == 0)
      diff.firstMismatch = std::string(what) + " has " + std::to_string(a) +
                           " entries, expected " + std::to_string(e);
    return false;
  }
};
} // namespace

OutputDiff attnc::compareOutputs(const AttentionOutputs &actual,
                                 const AttentionOutputs &expected) {
  OutputDiff diff;
  Comparer o{diff, "o"};
  if (o.sameSize(actual.o.size(), expected.o.size())) {
    double num = 0, den = 0;
    for (size_t i = 0; i < actual.o.size(); ++i) {
      if (!o.classify(actual.o[i], expected.o[i], i))
        continue;
      double d = actual.o[i] - expected.o[i];
      num += d * d;
      den += expected.o[i] * expected.o[i];
    }
    diff.oRelErr = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  }
  Comparer lse{diff, "lse"};
  if (lse.sameSize(actual.lse.size(), expected.lse.size()))
    for (size_t i = 0; i < actual.lse.size(); ++i)
      if (lse.classify(actual.lse[i], expected.lse[i], i)) {
        // An f32 LSE cannot come closer than its own rounding of the
        // reference (a logit of 1e9 has ulps of 64): two ulps are allowed.
        double slack = std::ldexp(std::fabs(expected.lse[i]), -22);
        diff.lseMaxAbsDiff = std::max(
            diff.lseMaxAbsDiff,
            std::max(0.0, std::fabs(actual.lse[i] - expected.lse[i]) - slack));
      }
  return diff;
}
