//===- FragmentTest.cpp - Fragment coordinates and the P.V repack ---------===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"
#include "attnc_device.cuh"

#include <algorithm>

using namespace attnc;
using namespace attnc::simtest;

TEST_CASE("fragment coordinates follow the PTX ISA layouts",
          "[sim][fragment]") {
  const int threads = 64;
  std::vector<int> out(threads * 34, -1);
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bo(out.data(), out.size() * sizeof(int), "out");
  requireOk(sim::launch("coords", dim3(1), dim3(threads), 0,
                        &attnc_test_fragment_coords, out.data()));
  for (int t = 0; t < threads; ++t) {
    const int *o = &out[t * 34];
    int lane = t % 32;
    INFO("thread " << t);
    for (int i = 0; i < 4; ++i) {
      CHECK(o[2 * i] == ptxC(lane, i).row);
      CHECK(o[2 * i + 1] == ptxC(lane, i).col);
    }
    for (int e = 0; e < 8; ++e) {
      CHECK(o[8 + 2 * e] == ptxA(lane, e).row);
      CHECK(o[9 + 2 * e] == ptxA(lane, e).col);
    }
    for (int e = 0; e < 4; ++e) {
      CHECK(o[24 + 2 * e] == ptxB(lane, e).row);
      CHECK(o[25 + 2 * e] == ptxB(lane, e).col);
    }
    CHECK(o[32] == t / 32);
    CHECK(o[33] == lane);
  }
}

namespace {

using TileKernel = void (*)(const unsigned short *, const unsigned short *,
                            const unsigned short *, float, float *);

/// Runs the one-tile S -> softmax -> P.V kernel and compares O, the row
/// maxima and the row sums with a float64 reference that rounds P to the
/// 16-bit type, as the repack does.
void checkTile(TileKernel kernel, uint16_t (*encode)(float),
               float (*decode)(uint16_t), double tolerance, uint32_t seed) {
  std::vector<float> qf = randomFloats(256, seed, -2, 2);
  std::vector<float> kf = randomFloats(256, seed + 1, -2, 2);
  std::vector<float> vf = randomFloats(256, seed + 2, -1, 1);
  alignas(16) static unsigned short q[256], k[256], v[256];
  for (int i = 0; i < 256; ++i) {
    q[i] = encode(qf[i]);
    k[i] = encode(kf[i]);
    v[i] = encode(vf[i]);
  }
  const float scaleLog2 = 0.25f * 1.4426950408889634f;
  std::vector<float> out(256 + 32, std::nanf(""));

  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bq(q, sizeof(q), "q"), bk(k, sizeof(k), "k"),
      bv(v, sizeof(v), "v"), bo(out.data(), out.size() * 4, "out");
  requireOk(sim::launch("tile", dim3(1), dim3(32), 3 * 512, kernel, q, k, v,
                        scaleLog2, out.data()));

  for (int row = 0; row < 16; ++row) {
    // The kernel's float steps, in float: S from the fp32 accumulator,
    // scaled, masked; p = exp2(s - m) before it is rounded to 16 bits.
    float s[16], m = -INFINITY;
    for (int col = 0; col < 16; ++col) {
      double dot = 0;
      for (int d = 0; d < 16; ++d)
        dot += double(decode(q[row * 16 + d])) * decode(k[col * 16 + d]);
      s[col] = col > row + 3 ? -INFINITY : static_cast<float>(dot) * scaleLog2;
      m = std::max(m, s[col]);
    }
    float p[16];
    double l = 0;
    for (int col = 0; col < 16; ++col) {
      p[col] = exp2f(s[col] - m);
      l += p[col];
    }
    INFO("row " << row);
    CHECK(out[256 + row] == m);
    CHECK(near(out[272 + row], l, 1e-5));
    for (int d = 0; d < 16; ++d) {
      double o = 0;
      for (int col = 0; col < 16; ++col)
        o += double(decode(encode(p[col]))) * decode(v[col * 16 + d]);
      o /= l;
      INFO("col " << d);
      CHECK(near(out[row * 16 + d], o, tolerance, tolerance));
    }
  }
}

uint16_t encodeHalf(float f) { return refHalfBits(f); }
uint16_t encodeBf16(float f) { return refBf16Bits(f); }

} // namespace

TEST_CASE("P.V through the accumulator-to-A repack equals the reference "
          "(fp16)",
          "[sim][fragment][convert]") {
  for (uint32_t seed : {5u, 6u})
    checkTile(&attnc_test_tile_f16, &encodeHalf, &refHalfToFloat, 1e-5,
              seed * 7);
}

TEST_CASE("P.V through the accumulator-to-A repack equals the reference "
          "(bf16)",
          "[sim][fragment][convert]") {
  for (uint32_t seed : {5u, 6u})
    checkTile(&attnc_test_tile_bf16, &encodeBf16, &refBf16ToFloat, 1e-5,
              seed * 11);
}
