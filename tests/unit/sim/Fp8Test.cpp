//===- Fp8Test.cpp - fp8 widening (device) and encode/decode (host) -------===//
//
// Every one of the 256 codes of each format through every widening form,
// against the host decoder; the host decoder against the specification's
// anchor values and (e5m2) against binary16; the encoder's rounding at
// every midpoint between neighbouring codes. The device header's CUDA path
// is compiled with NVRTC, and sm_90's PTX must use the hardware cvt.
//
//===----------------------------------------------------------------------===//

#include "runtime/core/Fp8.h"
#include "SimTestSupport.h"

#include <nvrtc.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

// Last: under ATTNC_SIM it pulls in cuda_sim.h, whose keyword macros
// (__noinline__) must not reach the standard headers.
#include "fp8.cuh"

using namespace attnc;
using namespace attnc::simtest;
using dev::Fp8Kind;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// NaN matches any NaN; otherwise equal values with equal signs (so +0 and
/// -0 differ).
bool sameValue(double got, double want) {
  if (std::isnan(want))
    return std::isnan(got);
  return got == want && std::signbit(got) == std::signbit(want);
}

Fp8Format formatOf(Fp8Kind kind) {
  return kind == Fp8Kind::E4M3 ? Fp8Format::E4M3 : Fp8Format::E5M2;
}

/// A 16-bit half of a widened register as a double, through references
/// independent of the device header (_Float16 and a shift).
template <typename T> double halfValue(unsigned reg, int half) {
  uint16_t bits = static_cast<uint16_t>(reg >> (16 * half));
  if constexpr (std::is_same_v<T, __half>)
    return refHalfToFloat(bits);
  else
    return refBf16ToFloat(bits);
}

template <Fp8Kind K, typename T> void checkPairsAndQuads() {
  Fp8Format f = formatOf(K);
  // Every ordered pair of codes: both element positions see all 256.
  for (unsigned b1 = 0; b1 < 256; ++b1) {
    for (unsigned b0 = 0; b0 < 256; ++b0) {
      unsigned reg =
          dev::fp8x2ToPair<K, T>(static_cast<unsigned short>(b0 | b1 << 8));
      INFO("bytes 0x" << std::hex << b0 << ", 0x" << b1 << " -> 0x" << reg);
      REQUIRE(sameValue(halfValue<T>(reg, 0), fp8Decode(f, b0)));
      REQUIRE(sameValue(halfValue<T>(reg, 1), fp8Decode(f, b1)));
    }
  }
  // Quads: every code in every byte position, next to different codes.
  std::mt19937 rng(8);
  for (unsigned i = 0; i < 256 + 4096; ++i) {
    unsigned four = i < 256 ? (i | (i + 1) % 256 << 8 | (i + 2) % 256 << 16 |
                               (i + 3) % 256 << 24)
                            : static_cast<unsigned>(rng());
    uint2 pairs = dev::fp8x4ToPairs<K, T>(four);
    INFO("word 0x" << std::hex << four);
    for (int e = 0; e < 4; ++e) {
      unsigned reg = e < 2 ? pairs.x : pairs.y;
      REQUIRE(sameValue(halfValue<T>(reg, e % 2),
                        fp8Decode(f, static_cast<uint8_t>(four >> 8 * e))));
    }
  }
}

/// `x` rounded to the nearest code by brute force: the code whose decoded
/// value is nearest, ties to the even code.
uint8_t nearestCode(Fp8Format f, double x) {
  int best = -1;
  double bestDistance = kInf;
  for (int c = 0; c < 256; ++c) {
    double v = fp8Decode(f, static_cast<uint8_t>(c));
    if (!std::isfinite(v) || std::signbit(v) != std::signbit(x))
      continue;
    double d = std::fabs(v - x);
    if (d < bestDistance || (d == bestDistance && (c & 1) == 0)) {
      best = c;
      bestDistance = d;
    }
  }
  return static_cast<uint8_t>(best);
}

} // namespace

TEST_CASE("fp8Decode gives the specification's values", "[sim][fp8]") {
  const Fp8Format e4 = Fp8Format::E4M3, e5 = Fp8Format::E5M2;
  CHECK(fp8Decode(e4, 0x00) == 0.0);
  CHECK(std::signbit(fp8Decode(e4, 0x80)));
  CHECK(fp8Decode(e4, 0x01) == std::ldexp(1.0, -9)); // smallest subnormal
  CHECK(fp8Decode(e4, 0x07) == 7 * std::ldexp(1.0, -9));
  CHECK(fp8Decode(e4, 0x08) == std::ldexp(1.0, -6)); // smallest normal
  CHECK(fp8Decode(e4, 0x38) == 1.0);
  CHECK(fp8Decode(e4, 0x39) == 1.125);
  CHECK(fp8Decode(e4, 0xc4) == -3.0);
  CHECK(fp8Decode(e4, 0x78) == 256.0);
  CHECK(fp8Decode(e4, 0x7e) == 448.0); // largest finite
  CHECK(fp8Decode(e4, 0xfe) == -448.0);
  CHECK(std::isnan(fp8Decode(e4, 0x7f)));
  CHECK(std::isnan(fp8Decode(e4, 0xff)));
  CHECK(fp8Decode(e5, 0x01) == std::ldexp(1.0, -16));
  CHECK(fp8Decode(e5, 0x04) == std::ldexp(1.0, -14));
  CHECK(fp8Decode(e5, 0x3c) == 1.0);
  CHECK(fp8Decode(e5, 0x7b) == 57344.0);
  CHECK(fp8Decode(e5, 0x7c) == kInf);
  CHECK(fp8Decode(e5, 0xfc) == -kInf);
  for (uint8_t c : {0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff})
    CHECK(std::isnan(fp8Decode(e5, c)));

  // e4m3: the 127 finite magnitudes strictly increase with the
  // code, the sign bit only negating; e5m2: the high byte of a binary16.
  for (int c = 0; c < 256; ++c) {
    uint8_t code = static_cast<uint8_t>(c);
    INFO("code 0x" << std::hex << c);
    if ((c & 0x7f) < 0x7e) {
      bool increasing = fp8Decode(e4, code) < fp8Decode(e4, code + 1);
      CHECK(increasing == ((c & 0x80) == 0));
    }
    if ((c & 0x7f) != 0x7f)
      CHECK(sameValue(fp8Decode(e4, code ^ 0x80), -fp8Decode(e4, code)));
    CHECK(sameValue(fp8Decode(e5, code),
                    refHalfToFloat(static_cast<uint16_t>(c << 8))));
  }
}

TEST_CASE("fp8 -> f16 / bf16 widening is exact for all codes", "[sim][fp8]") {
  checkPairsAndQuads<Fp8Kind::E4M3, __half>();
  checkPairsAndQuads<Fp8Kind::E4M3, __nv_bfloat16>();
  checkPairsAndQuads<Fp8Kind::E5M2, __half>();
  checkPairsAndQuads<Fp8Kind::E5M2, __nv_bfloat16>();
}

TEST_CASE("fp8ToFloat is exact for all codes", "[sim][fp8]") {
  for (int c = 0; c < 256; ++c) {
    uint8_t code = static_cast<uint8_t>(c);
    INFO("code 0x" << std::hex << c);
    CHECK(sameValue(dev::fp8ToFloat<Fp8Kind::E4M3>(code),
                    fp8Decode(Fp8Format::E4M3, code)));
    CHECK(sameValue(dev::fp8ToFloat<Fp8Kind::E5M2>(code),
                    fp8Decode(Fp8Format::E5M2, code)));
  }
}

TEST_CASE("fp8Encode inverts fp8Decode", "[sim][fp8]") {
  for (Fp8Format f : {Fp8Format::E4M3, Fp8Format::E5M2}) {
    for (int c = 0; c < 256; ++c) {
      uint8_t code = static_cast<uint8_t>(c);
      double v = fp8Decode(f, code);
      INFO(fp8FormatName(f) << " code 0x" << std::hex << c);
      CHECK(fp8Encode(f, v) == (std::isnan(v) ? 0x7f : code));
    }
  }
}

TEST_CASE("fp8Encode rounds to nearest, ties to even", "[sim][fp8]") {
  for (Fp8Format f : {Fp8Format::E4M3, Fp8Format::E5M2}) {
    uint8_t top = f == Fp8Format::E4M3 ? 0x7e : 0x7b;
    // Between every two neighbouring finite codes (the subnormal/normal
    // boundary included): the midpoint goes to the even code, a hair
    // either side to the nearer one.
    for (uint8_t sign : {0x00, 0x80}) {
      for (int c = 0; c < top; ++c) {
        uint8_t lo = static_cast<uint8_t>(sign | c), hi = lo + 1;
        double a = fp8Decode(f, lo), b = fp8Decode(f, hi);
        double mid = (a + b) / 2;
        INFO(fp8FormatName(f)
             << " between 0x" << std::hex << int(lo) << " and 0x" << int(hi));
        CHECK(fp8Encode(f, mid) == (c % 2 == 0 ? lo : hi));
        CHECK(fp8Encode(f, std::nextafter(mid, a)) == lo);
        CHECK(fp8Encode(f, std::nextafter(mid, b)) == hi);
      }
    }
    // Random values against a brute-force nearest code.
    std::mt19937 rng(f == Fp8Format::E4M3 ? 5 : 6);
    std::uniform_real_distribution<double> log2Mag(-20, 17);
    for (int i = 0; i < 20000; ++i) {
      double x = std::exp2(log2Mag(rng)) * (rng() % 2 ? -1 : 1);
      double max = fp8Decode(f, top);
      if (std::fabs(x) > max)
        continue; // overflow rules: below
      INFO(fp8FormatName(f) << " x = " << x);
      CHECK(fp8Encode(f, x) == nearestCode(f, x));
    }
  }
  // Hand-picked e4m3 ties: 1.0625 between 1 (0x38) and 1.125 (0x39) goes
  // down to even, 1.1875 up to 1.25 (0x3a).
  CHECK(fp8Encode(Fp8Format::E4M3, 1.0625) == 0x38);
  CHECK(fp8Encode(Fp8Format::E4M3, 1.1875) == 0x3a);
  CHECK(fp8Encode(Fp8Format::E4M3, -1.1875) == 0xba);
  CHECK(fp8Encode(Fp8Format::E4M3, 1.5 * std::ldexp(1.0, -9)) == 0x02);
  // e5m2: 1.125 between 1 (0x3c) and 1.25 (0x3d); 1.375 to 1.5 (0x3e).
  CHECK(fp8Encode(Fp8Format::E5M2, 1.125) == 0x3c);
  CHECK(fp8Encode(Fp8Format::E5M2, 1.375) == 0x3e);
}

TEST_CASE("fp8Encode underflows to signed zero at half the smallest "
          "subnormal",
          "[sim][fp8]") {
  for (auto [f, smallest] :
       {std::pair{Fp8Format::E4M3, std::ldexp(1.0, -9)},
        std::pair{Fp8Format::E5M2, std::ldexp(1.0, -16)}}) {
    INFO(fp8FormatName(f));
    double half = smallest / 2;
    CHECK(fp8Encode(f, half) == 0x00); // tie, to the even zero
    CHECK(fp8Encode(f, -half) == 0x80);
    CHECK(fp8Encode(f, std::nextafter(half, 0.0)) == 0x00);
    CHECK(fp8Encode(f, std::nextafter(half, 1.0)) == 0x01);
    CHECK(fp8Encode(f, -std::nextafter(half, 1.0)) == 0x81);
    CHECK(fp8Encode(f, 1e-300) == 0x00);
    CHECK(fp8Encode(f, -1e-300) == 0x80);
    CHECK(fp8Encode(f, std::numeric_limits<double>::denorm_min()) == 0x00);
    CHECK(fp8Encode(f, 0.0) == 0x00);
    CHECK(fp8Encode(f, -0.0) == 0x80);
  }
}

TEST_CASE("fp8Encode: e4m3 saturates, e5m2 overflows to inf, NaN is 0x7f",
          "[sim][fp8]") {
  const Fp8Format e4 = Fp8Format::E4M3, e5 = Fp8Format::E5M2;
  CHECK(fp8Encode(e4, 448.0) == 0x7e);
  CHECK(fp8Encode(e4, 464.0) == 0x7e); // tie 448 / (480): even 448 anyway
  CHECK(fp8Encode(e4, 465.0) == 0x7e); // would round to 480: saturates
  CHECK(fp8Encode(e4, 1e6) == 0x7e);
  CHECK(fp8Encode(e4, -1e300) == 0xfe);
  CHECK(fp8Encode(e4, kInf) == 0x7e);
  CHECK(fp8Encode(e4, -kInf) == 0xfe);
  CHECK(fp8Encode(e5, 57344.0) == 0x7b);
  CHECK(fp8Encode(e5, std::nextafter(61440.0, 0.0)) == 0x7b);
  CHECK(fp8Encode(e5, 61440.0) == 0x7c); // tie, to the even 2^16 = inf
  CHECK(fp8Encode(e5, -61440.0) == 0xfc);
  CHECK(fp8Encode(e5, 1e300) == 0x7c);
  CHECK(fp8Encode(e5, kInf) == 0x7c);
  CHECK(fp8Encode(e5, -kInf) == 0xfc);
  for (Fp8Format f : {e4, e5}) {
    CHECK(fp8Encode(f, kNaN) == 0x7f);
    CHECK(fp8Encode(f, -kNaN) == 0x7f);
    CHECK(std::isnan(fp8Decode(f, fp8Encode(f, kNaN))));
  }
}

TEST_CASE("fp8 format names round-trip", "[sim][fp8]") {
  for (Fp8Format f : {Fp8Format::E4M3, Fp8Format::E5M2})
    CHECK(parseFp8Format(fp8FormatName(f)) == f);
  CHECK(std::string(fp8FormatName(Fp8Format::E4M3)) == "e4m3");
  CHECK(std::string(fp8FormatName(Fp8Format::E5M2)) == "e5m2");
  CHECK(parseFp8Format("e4m3fn") == Fp8Format::E4M3);
  CHECK(!parseFp8Format("e5m3"));
  CHECK(!parseFp8Format(""));
}

namespace {

std::string sourceDir() {
  if (const char *dir = std::getenv("ATTNC_SOURCE_DIR"))
    return dir;
  return ATTNC_SOURCE_DIR_DEFAULT;
}

/// Every widening form, so each instantiation reaches the PTX.
const char *kFp8Kernels = R"(
#include "fp8.cuh"
using namespace attnc::dev;

template <Fp8Kind K, typename T>
__device__ void widen(const unsigned *in, unsigned *out) {
  int i = threadIdx.x;
  uint2 q = fp8x4ToPairs<K, T>(in[i]);
  out[3 * i] = fp8x2ToPair<K, T>(static_cast<unsigned short>(in[i] >> 8));
  out[3 * i + 1] = q.x;
  out[3 * i + 2] = q.y;
}

extern "C" __global__ void e4m3_f16(const unsigned *in, unsigned *out) {
  widen<Fp8Kind::E4M3, __half>(in, out);
}
extern "C" __global__ void e4m3_bf16(const unsigned *in, unsigned *out) {
  widen<Fp8Kind::E4M3, __nv_bfloat16>(in, out);
}
extern "C" __global__ void e5m2_f16(const unsigned *in, unsigned *out) {
  widen<Fp8Kind::E5M2, __half>(in, out);
}
extern "C" __global__ void e5m2_bf16(const unsigned *in, unsigned *out) {
  widen<Fp8Kind::E5M2, __nv_bfloat16>(in, out);
}
extern "C" __global__ void to_float(const unsigned char *in, float *out) {
  out[threadIdx.x] = fp8ToFloat<Fp8Kind::E4M3>(in[threadIdx.x]) +
                     fp8ToFloat<Fp8Kind::E5M2>(in[threadIdx.x]);
}
)";

struct Ptx {
  nvrtcResult result = NVRTC_ERROR_INTERNAL_ERROR;
  std::string log, ptx;
  size_t cubinBytes = 0;
};

/// Compiles kFp8Kernels to a cubin (so ptxas checks the inline PTX) and
/// returns the PTX as well.
Ptx compileFp8Kernels(const std::string &arch) {
  std::string archFlag = "--gpu-architecture=" + arch;
  std::string deviceInclude =
      "--include-path=" + sourceDir() + "/runtime/device";
  std::string cudaInclude = "--include-path=" CUDA_INCLUDE_DIR;
  std::vector<const char *> options = {archFlag.c_str(), "--std=c++17",
                                       deviceInclude.c_str(),
                                       cudaInclude.c_str()};
  nvrtcProgram prog;
  REQUIRE(nvrtcCreateProgram(&prog, kFp8Kernels, "fp8_kernels.cu", 0, nullptr,
                             nullptr) == NVRTC_SUCCESS);
  Ptx out;
  out.result = nvrtcCompileProgram(prog, static_cast<int>(options.size()),
                                   options.data());
  size_t size = 0;
  nvrtcGetProgramLogSize(prog, &size);
  out.log.assign(size, '\0');
  nvrtcGetProgramLog(prog, out.log.data());
  if (out.result == NVRTC_SUCCESS) {
    nvrtcGetCUBINSize(prog, &out.cubinBytes);
    size = 0;
    if (nvrtcGetPTXSize(prog, &size) == NVRTC_SUCCESS && size > 0) {
      out.ptx.assign(size, '\0');
      nvrtcGetPTX(prog, out.ptx.data());
    }
  }
  nvrtcDestroyProgram(&prog);
  return out;
}

} // namespace

TEST_CASE("fp8.cuh compiles with NVRTC and sm_89+ uses the e4m3 cvt",
          "[sim][fp8][nvrtc]") {
  for (const char *arch : {"sm_80", "sm_89", "sm_90"}) {
    Ptx c = compileFp8Kernels(arch);
    INFO(arch << " program log:\n" << c.log);
    REQUIRE(c.result == NVRTC_SUCCESS);
    CHECK(c.cubinBytes > 0);
    REQUIRE(!c.ptx.empty());
    bool hardware = std::string(arch) != "sm_80";
    auto has = [&](const char *text) {
      return c.ptx.find(text) != std::string::npos;
    };
    CHECK(has("cvt.rn.f16x2.e4m3x2") == hardware);
    CHECK(has("mul.rn.f16x2") == !hardware); // e4m3 -> f16 by scaling
    CHECK(has("fma.rn.bf16x2"));             // bf16 by scaling everywhere
    CHECK(has("prmt.b32"));                  // e5m2 -> f16, byte spreading
    CHECK(!has("cvt.rn.f16x2.e5m2x2"));
  }
}
