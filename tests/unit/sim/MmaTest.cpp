//===- MmaTest.cpp - mma.sync m16n8k16 under sim against a scalar GEMM ----===//
//
// Random A, B, C are scattered into per-lane registers with the PTX ISA's
// layout (SimTestSupport.h), the kernel runs mma.sync twice (D1 = A.B + C,
// D2 = A.B + D1), and all 16x8 outputs of both are checked against a
// float64 reference.
//
//===----------------------------------------------------------------------===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"
#include "attnc_device.cuh"

using namespace attnc;
using namespace attnc::simtest;

namespace {

using MmaKernel = void (*)(const unsigned *, const unsigned *, const float *,
                           float *);

struct Bits16 {
  uint16_t (*encode)(float);
  float (*decode)(uint16_t);
};

void checkMma(MmaKernel kernel, Bits16 type, uint32_t seed) {
  std::vector<float> a = randomFloats(16 * 16, seed, -2, 2);
  std::vector<float> b = randomFloats(16 * 8, seed + 1, -2, 2);
  std::vector<float> c = randomFloats(16 * 8, seed + 2, -4, 4);
  // Inputs as the 16-bit type will hold them.
  for (float &x : a)
    x = type.decode(type.encode(x));
  for (float &x : b)
    x = type.decode(type.encode(x));

  std::vector<unsigned> aRegs(32 * 4), bRegs(32 * 2);
  std::vector<float> cRegs(32 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < 4; ++r) {
      RowCol lo = ptxA(lane, 2 * r), hi = ptxA(lane, 2 * r + 1);
      aRegs[lane * 4 + r] = type.encode(a[lo.row * 16 + lo.col]) |
                            unsigned(type.encode(a[hi.row * 16 + hi.col]))
                                << 16;
    }
    for (int r = 0; r < 2; ++r) {
      RowCol lo = ptxB(lane, 2 * r), hi = ptxB(lane, 2 * r + 1);
      bRegs[lane * 2 + r] = type.encode(b[lo.row * 8 + lo.col]) |
                            unsigned(type.encode(b[hi.row * 8 + hi.col])) << 16;
    }
    for (int i = 0; i < 4; ++i) {
      RowCol rc = ptxC(lane, i);
      cRegs[lane * 4 + i] = c[rc.row * 8 + rc.col];
    }
  }

  std::vector<float> d(256, std::nanf(""));
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer ba(aRegs.data(), aRegs.size() * 4, "a");
  sim::ScopedBuffer bb(bRegs.data(), bRegs.size() * 4, "b");
  sim::ScopedBuffer bc(cRegs.data(), cRegs.size() * 4, "c");
  sim::ScopedBuffer bd(d.data(), d.size() * 4, "d");
  requireOk(sim::launch("mma", dim3(1), dim3(32), 0, kernel, aRegs.data(),
                        bRegs.data(), cRegs.data(), d.data()));

  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      RowCol rc = ptxC(lane, i);
      double ab = 0;
      for (int k = 0; k < 16; ++k)
        ab += double(a[rc.row * 16 + k]) * b[k * 8 + rc.col];
      double d1 = ab + c[rc.row * 8 + rc.col];
      double d2 = ab + static_cast<float>(d1);
      INFO("lane " << lane << " c" << i << " = D[" << rc.row << "][" << rc.col
                   << "]");
      CHECK(near(d[lane * 4 + i], d1, 1e-6, 1e-6));
      CHECK(near(d[128 + lane * 4 + i], d2, 1e-6, 1e-6));
    }
}

uint16_t encodeHalf(float f) { return refHalfBits(f); }
uint16_t encodeBf16(float f) { return refBf16Bits(f); }

} // namespace

TEST_CASE("mma.m16n8k16 fp16 matches a float64 GEMM for every output",
          "[sim][mma]") {
  for (uint32_t seed : {1u, 2u, 3u})
    checkMma(&attnc_test_mma_f16, {&encodeHalf, &refHalfToFloat}, seed * 10);
}

TEST_CASE("mma.m16n8k16 bf16 matches a float64 GEMM for every output",
          "[sim][mma]") {
  for (uint32_t seed : {1u, 2u, 3u})
    checkMma(&attnc_test_mma_bf16, {&encodeBf16, &refBf16ToFloat}, seed * 20);
}

TEST_CASE("mma with lanes of a warp out of step is reported", "[sim][mma]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("mixed", dim3(1), dim3(32), 0, [] {
    dev::FragA<dev::f16> a{};
    dev::FragB<dev::f16> b{};
    dev::FragC c{};
    if (dev::laneId() == 7)
      (void)__shfl_xor_sync(0xffffffffu, 1.0f, 1);
    else
      dev::mmaM16N8K16(c, a, b, c);
  });
  REQUIRE(s.error == sim::LaunchError::WarpDivergence);
  CHECK_THAT(s.message, Catch::Contains("kernel 'mixed' block (0,0,0)"));
  CHECK_THAT(s.message, Catch::Contains("lanes of warp 0 disagree"));
  CHECK_THAT(s.message, Catch::Contains("__shfl_xor_sync"));
  CHECK_THAT(s.message, Catch::Contains("mma.sync.m16n8k16"));
}
