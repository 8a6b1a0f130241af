//===- ConvertTest.cpp - 16-bit rounding, packing and numeric helpers -----===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"
#include "attnc_device.cuh"

#include <cfloat>
#include <limits>

using namespace attnc;
using namespace attnc::simtest;

namespace {

float bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Values on and around every rounding boundary that matters.
std::vector<float> edgeValues() {
  std::vector<float> v = {
      1.0f + std::ldexp(1.0f, -11),     // half: tie, rounds to even (1)
      1.0f + 3 * std::ldexp(1.0f, -11), // half: tie, rounds up to even
      1.0f + std::ldexp(1.0f, -8),      // bf16: tie, rounds to even (1)
      1.0f + 3 * std::ldexp(1.0f, -8),  // bf16: tie, rounds up to even
      65504.0f,                         // largest half
      65519.99f,                        // just below the half overflow tie
      65520.0f,                         // half: tie at overflow -> inf
      -65520.0f,
      1e10f,
      -1e10f,
      FLT_MAX, // bf16: rounds to inf
      -FLT_MAX,
      std::ldexp(1.0f, -14),                         // smallest normal half
      std::ldexp(1.0f, -14) - std::ldexp(1.0f, -25), // subnormal/normal tie
      std::ldexp(1.0f, -24),                         // smallest subnormal half
      std::ldexp(1.0f, -25),  // tie between 0 and 2^-24 -> 0
      std::ldexp(1.5f, -25),  // rounds up to 2^-24
      std::ldexp(3.0f, -25),  // tie between 1 and 2 ulps -> 2
      -std::ldexp(1.0f, -26), // underflows to -0
      std::ldexp(1.0f, -130), // float subnormal
      bits(0x00000001u),      // smallest float subnormal
      bits(0x807fffffu),      // largest negative float subnormal
      bits(0x3f808000u),      // bf16 tie, even below
      bits(0x3f818000u),      // bf16 tie, odd below
      0.1f,
      -0.3f,
      3.14159f,
      std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity(),
      std::numeric_limits<float>::quiet_NaN(),
      -std::numeric_limits<float>::quiet_NaN(),
      bits(0x7f800001u), // signalling NaN
      0.0f,
      -0.0f,
  };
  return v;
}

} // namespace

TEST_CASE("float -> f16 rounds to nearest even on edge and random values",
          "[sim][convert]") {
  std::vector<float> values = edgeValues();
  std::mt19937 rng(3);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = rng();
    values.push_back(bits(u));
  }
  for (float f : values) {
    INFO("float bits 0x" << std::hex << [&] {
      uint32_t u;
      std::memcpy(&u, &f, 4);
      return u;
    }());
    uint16_t got = __half_as_ushort(__float2half_rn(f));
    if (std::isnan(f)) {
      CHECK(got == 0x7fff); // canonical NaN, as cvt.rn.f16.f32 gives
      continue;
    }
    REQUIRE(got == refHalfBits(f));
  }
  CHECK(__half_as_ushort(__float2half_rn(65520.0f)) == 0x7c00);
  CHECK(__half_as_ushort(__float2half_rn(std::ldexp(1.0f, -25))) == 0);
  CHECK(__half_as_ushort(__float2half_rn(-std::ldexp(1.0f, -26))) == 0x8000);
}

TEST_CASE("f16 -> float is exact for all 65536 encodings", "[sim][convert]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float got = __half2float(__ushort_as_half(static_cast<unsigned short>(h)));
    float want = refHalfToFloat(static_cast<uint16_t>(h));
    INFO("half 0x" << std::hex << h);
    if (std::isnan(want))
      REQUIRE(std::isnan(got));
    else
      REQUIRE(std::memcmp(&got, &want, 4) == 0);
  }
}

TEST_CASE("float -> bf16 rounds to nearest even on edge and random values",
          "[sim][convert]") {
  std::vector<float> values = edgeValues();
  std::mt19937 rng(4);
  for (int i = 0; i < 200000; ++i)
    values.push_back(bits(rng()));
  for (float f : values) {
    uint16_t got = __bfloat16_as_ushort(__float2bfloat16_rn(f));
    INFO("float " << f);
    if (std::isnan(f)) {
      CHECK(got == 0x7fff);
      continue;
    }
    REQUIRE(got == refBf16Bits(f));
  }
  CHECK(__bfloat16_as_ushort(__float2bfloat16_rn(FLT_MAX)) == 0x7f80);
  CHECK(__bfloat16_as_ushort(__float2bfloat16_rn(bits(0x3f808000u))) == 0x3f80);
  CHECK(__bfloat16_as_ushort(__float2bfloat16_rn(bits(0x3f818000u))) == 0x3f82);
}

TEST_CASE("round-toward-zero conversions truncate", "[sim][convert]") {
  CHECK(__half_as_ushort(__float2half_rz(1.0f + 3 * std::ldexp(1.0f, -11))) ==
        0x3c01);
  CHECK(__half_as_ushort(__float2half_rz(1e10f)) == 0x7bff);
  CHECK(__half_as_ushort(__float2half_rz(-std::ldexp(1.5f, -24))) == 0x8001);
  CHECK(__bfloat16_as_ushort(__float2bfloat16_rz(bits(0x3f81ffffu))) == 0x3f81);
}

TEST_CASE("half arithmetic mirrors cuda_fp16", "[sim][convert]") {
  __half a = 1.5f, b = -0.25f;
  CHECK(__half2float(a + b) == 1.25f);
  CHECK(__half2float(a * b) == -0.375f);
  CHECK(__half2float(a / b) == -6.0f);
  CHECK(__half2float(-a) == -1.5f);
  CHECK(a > b);
  __nv_bfloat162 p = __floats2bfloat162_rn(1.0f, -2.0f);
  CHECK(__low2float(p) == 1.0f);
  CHECK(__high2float(p) == -2.0f);
  __half2 h = __floats2half2_rn(0.5f, 3.0f);
  float2 f = __half22float2(h);
  CHECK(f.x == 0.5f);
  CHECK(f.y == 3.0f);
}

TEST_CASE("device conversions and packing agree with the references",
          "[sim][convert]") {
  std::vector<float> in = edgeValues();
  std::vector<float> more = randomFloats(256, 8, -70000, 70000);
  in.insert(in.end(), more.begin(), more.end());
  if (in.size() % 2)
    in.push_back(0.75f);
  int n = static_cast<int>(in.size());
  std::vector<unsigned short> h(n), b(n);
  std::vector<float> back(2 * n), unpacked(2 * n);
  std::vector<unsigned> packed(n);

  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer r1(in.data(), in.size() * 4, "in"),
      r2(h.data(), h.size() * 2, "h"), r3(b.data(), b.size() * 2, "b"),
      r4(back.data(), back.size() * 4, "back"),
      r5(packed.data(), packed.size() * 4, "packed"),
      r6(unpacked.data(), unpacked.size() * 4, "unpacked");
  requireOk(sim::launch("convert", dim3(1), dim3(64), 0, &attnc_test_convert,
                        in.data(), n, h.data(), b.data(), back.data(),
                        packed.data(), unpacked.data()));

  auto wantHalf = [](float f) -> uint16_t {
    return std::isnan(f) ? 0x7fff : refHalfBits(f);
  };
  auto wantBf16 = [](float f) -> uint16_t {
    return std::isnan(f) ? 0x7fff : refBf16Bits(f);
  };
  auto same = [](float got, float want) {
    return std::isnan(want) ? std::isnan(got) : got == want;
  };
  for (int i = 0; i < n; ++i) {
    INFO("value " << in[i]);
    CHECK(h[i] == wantHalf(in[i]));
    CHECK(b[i] == wantBf16(in[i]));
    CHECK(same(back[2 * i], refHalfToFloat(wantHalf(in[i]))));
    CHECK(same(back[2 * i + 1], refBf16ToFloat(wantBf16(in[i]))));
  }
  for (int i = 0; i < n / 2; ++i) {
    float lo = in[2 * i], hi = in[2 * i + 1];
    INFO("pair " << lo << ", " << hi);
    CHECK(packed[2 * i] == (wantHalf(lo) | unsigned(wantHalf(hi)) << 16));
    CHECK(packed[2 * i + 1] == (wantBf16(lo) | unsigned(wantBf16(hi)) << 16));
    CHECK(same(unpacked[4 * i], refHalfToFloat(wantHalf(lo))));
    CHECK(same(unpacked[4 * i + 1], refHalfToFloat(wantHalf(hi))));
    CHECK(same(unpacked[4 * i + 2], refBf16ToFloat(wantBf16(lo))));
    CHECK(same(unpacked[4 * i + 3], refBf16ToFloat(wantBf16(hi))));
  }
}

TEST_CASE("infinities without INFINITY, exp2 and reciprocal",
          "[sim][numeric]") {
  const int n = 32;
  std::vector<float> in = randomFloats(n, 12, -20, 20);
  std::vector<float> out(3 + 2 * n, std::nanf(""));
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bi(in.data(), in.size() * 4, "in");
  sim::ScopedBuffer bo(out.data(), out.size() * 4, "out");
  requireOk(sim::launch("numeric", dim3(1), dim3(n), 0, &attnc_test_numeric,
                        in.data(), out.data()));
  CHECK(out[0] == std::numeric_limits<float>::infinity());
  CHECK(out[1] == -std::numeric_limits<float>::infinity());
  CHECK(out[2] == 0.0f);
  for (int t = 0; t < n; ++t) {
    CHECK(near(out[3 + t], std::exp2(double(in[t])), 1e-6));
    CHECK(near(out[3 + n + t], 1.0 / in[t], 1e-6));
  }
}

TEST_CASE("the DSL's tanh and division by a constant stay close to libm",
          "[sim][numeric]") {
  // tanh: absolute error within 3e-7 over the whole range (relative within
  // 1e-5), odd, exact at the limits; below 2^-4 the series keeps relative
  // accuracy where the formula's difference would cancel.
  double worstAbs = 0, worstRel = 0, worstRelSmall = 0;
  for (int i = -200000; i <= 200000; ++i) {
    float x = static_cast<float>(i) * 1e-4f; // [-20, 20]
    double exact = std::tanh(static_cast<double>(x));
    float t = dev::tanhApprox(x);
    worstAbs = std::max(worstAbs, std::fabs(t - exact));
    if (x != 0)
      worstRel = std::max(worstRel, std::fabs(t - exact) / std::fabs(exact));
    if (x != 0 && std::fabs(x) < 0.0625f)
      worstRelSmall =
          std::max(worstRelSmall, std::fabs(t - exact) / std::fabs(exact));
    CHECK(dev::tanhApprox(-x) == -t);
  }
  CHECK(worstAbs < 3e-7);
  CHECK(worstRel < 1e-5);
  CHECK(worstRelSmall < 1e-6);
  CHECK(dev::tanhApprox(std::numeric_limits<float>::infinity()) == 1.0f);
  CHECK(dev::tanhApprox(-std::numeric_limits<float>::infinity()) == -1.0f);
  CHECK(std::isnan(dev::tanhApprox(std::nanf(""))));
  CHECK(dev::tanhApprox(1e-30f) == 1e-30f);

  // x / c: the correctly rounded quotient for finite results; inf and NaN
  // as IEEE division gives them.
  for (float c : {50.0f, 30.0f, 3.0f, 0.7f, -7.5f, 1e-20f}) {
    float r = static_cast<float>(1.0 / c);
    for (int i = -20000; i <= 20000; ++i) {
      float x =
          static_cast<float>(i) * 0.37f + 1e-3f * static_cast<float>(i % 7);
      INFO("x = " << x << ", c = " << c);
      CHECK(dev::divByConst(x, c, r) == x / c);
    }
    CHECK(dev::divByConst(std::numeric_limits<float>::infinity(), c, r) ==
          std::numeric_limits<float>::infinity() * (c > 0 ? 1 : -1));
    CHECK(std::isnan(dev::divByConst(std::nanf(""), c, r)));
  }
  CHECK(dev::divByConst(FLT_MAX, 1e-20f, 1e20f) ==
        std::numeric_limits<float>::infinity());
}
