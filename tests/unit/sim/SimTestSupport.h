//===- SimTestSupport.h - Shared helpers of the sim unit tests ------------===//
//
// Random data, independent references for 16-bit rounding, and the PTX
// ISA's fragment layouts written out the way the ISA states them, so the
// tests check the sim and the device library against the specification
// rather than against themselves.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_SIM_SIMTESTSUPPORT_H
#define ATTNC_TESTS_UNIT_SIM_SIMTESTSUPPORT_H

#include "Launch.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace attnc::simtest {

/// Requires a successful launch, printing its message otherwise.
inline void requireOk(const sim::LaunchStatus &status) {
  INFO(status.message);
  REQUIRE(status.ok());
}

/// Options every test starts from: checked, two host threads.
inline sim::SimOptions checkedOptions(unsigned hostThreads = 2) {
  sim::SimOptions o = sim::getOptions();
  o.checked = true;
  o.hostThreads = hostThreads;
  return o;
}

/// Uniform floats in [lo, hi), never exactly zero.
inline std::vector<float> randomFloats(size_t n, uint32_t seed, float lo = -1,
                                       float hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v) {
    do
      x = dist(rng);
    while (x == 0.0f);
  }
  return v;
}

/// float -> binary16 bits via the compiler's _Float16 (round to nearest
/// even, done by libgcc), a reference independent of HalfTypes.h.
inline uint16_t refHalfBits(float f) {
  _Float16 h = static_cast<_Float16>(f);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

inline float refHalfToFloat(uint16_t bits) {
  _Float16 h;
  std::memcpy(&h, &bits, 2);
  return static_cast<float>(h);
}

inline float refBf16ToFloat(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// float -> bfloat16 bits by picking the nearer of the two neighbouring
/// bfloat16 values in double arithmetic, ties to the even one.
inline uint16_t refBf16Bits(float f) {
  if (std::isnan(f))
    return 0x7fff;
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint16_t down = static_cast<uint16_t>(u >> 16); // toward zero
  if ((u & 0xffffu) == 0)
    return down;
  uint16_t up = static_cast<uint16_t>(down + 1); // away from zero
  double x = f;
  double dd = std::fabs(x - refBf16ToFloat(down));
  double du = std::fabs(static_cast<double>(refBf16ToFloat(up)) - x);
  if (std::isinf(refBf16ToFloat(up)))
    du = std::fabs(std::ldexp(1.0, 128) * (x < 0 ? -1 : 1) - x);
  if (dd < du)
    return down;
  if (du < dd)
    return up;
  return (down & 1) ? up : down;
}

struct RowCol {
  int row, col;
};

// The PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type",
// with groupID = %laneid >> 2 and threadID_in_group = %laneid % 4.

/// A (16x16): a0..a7, two per .b32 register, lower half first.
inline RowCol ptxA(int lane, int i) {
  int groupID = lane >> 2, threadIDInGroup = lane % 4;
  bool upperRows = !(i == 0 || i == 1 || i == 4 || i == 5);
  int row = upperRows ? groupID + 8 : groupID;
  int col = i < 4 ? threadIDInGroup * 2 + (i & 0x1)
                  : threadIDInGroup * 2 + (i & 0x1) + 8;
  return {row, col};
}

/// B (16x8, K x N): b0..b3.
inline RowCol ptxB(int lane, int i) {
  int groupID = lane >> 2, threadIDInGroup = lane % 4;
  int row = i < 2 ? threadIDInGroup * 2 + (i & 0x1)
                  : threadIDInGroup * 2 + (i & 0x1) + 8;
  return {row, groupID};
}

/// C/D (16x8): c0..c3.
inline RowCol ptxC(int lane, int i) {
  int groupID = lane >> 2, threadIDInGroup = lane % 4;
  int row = i < 2 ? groupID : groupID + 8;
  return {row, threadIDInGroup * 2 + (i & 0x1)};
}

/// Relative-plus-absolute closeness.
inline bool near(double got, double want, double rel, double abs = 0) {
  return std::fabs(got - want) <= rel * std::fabs(want) + abs;
}

} // namespace attnc::simtest

#endif // ATTNC_TESTS_UNIT_SIM_SIMTESTSUPPORT_H
