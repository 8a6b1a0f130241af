//===- LdmatrixTest.cpp - ldmatrix x1/x2/x4 (.trans) from a random tile ---===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"
#include "attnc_device.cuh"

using namespace attnc;
using namespace attnc::simtest;

TEST_CASE("ldmatrix x1/x2/x4 with and without .trans match the PTX layout",
          "[sim][ldmatrix]") {
  alignas(16) static unsigned short tile[32 * 32];
  std::mt19937 rng(42);
  for (unsigned short &e : tile)
    e = static_cast<unsigned short>(rng() % 0xfffe + 1); // never zero
  std::vector<unsigned> out(6 * 128, 0);

  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bt(tile, sizeof(tile), "tile");
  sim::ScopedBuffer bo(out.data(), out.size() * 4, "out");
  requireOk(sim::launch("ldmatrix", dim3(1), dim3(32), sizeof(tile),
                        &attnc_test_ldmatrix, tile, out.data()));

  // The kernel puts matrix m at these (row, col) origins of the tile.
  const int rowOrigin[4] = {0, 8, 16, 3}, colOrigin[4] = {0, 8, 0, 16};
  auto at = [&](int m, int r, int c) {
    return tile[(rowOrigin[m] + r) * 32 + colOrigin[m] + c];
  };
  const int counts[3] = {1, 2, 4};
  for (int trans = 0; trans < 2; ++trans)
    for (int v = 0; v < 3; ++v) {
      const unsigned *o = &out[(trans * 3 + v) * 128];
      for (int lane = 0; lane < 32; ++lane)
        for (int m = 0; m < counts[v]; ++m) {
          // "each thread receives row lane/4, elements 2*(lane%4) and +1 of
          // each matrix", transposed for .trans.
          int g = lane / 4, t = lane % 4;
          unsigned lo = trans ? at(m, 2 * t, g) : at(m, g, 2 * t);
          unsigned hi = trans ? at(m, 2 * t + 1, g) : at(m, g, 2 * t + 1);
          INFO("x" << counts[v] << (trans ? ".trans" : "") << " lane " << lane
                   << " reg " << m);
          CHECK(o[lane * 4 + m] == (lo | hi << 16));
        }
    }
}

TEST_CASE("a misaligned ldmatrix row address fails the launch",
          "[sim][ldmatrix]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s =
      sim::launch("ldm_misaligned", dim3(1), dim3(32), 1024, [] {
        ATTNC_DYNAMIC_SMEM(unsigned char, smem);
        unsigned r[4];
        int lane = dev::laneId();
        dev::ldmatrixX4(r, smem + 16 * lane + (lane == 9 ? 8 : 0));
      });
  REQUIRE(s.error == sim::LaunchError::Misaligned);
  CHECK_THAT(s.message, Catch::Contains("of lane 9 is not 16-byte aligned"));
}

TEST_CASE("checked mode catches an ldmatrix row outside shared memory",
          "[sim][ldmatrix][checked]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("ldm_oob", dim3(1), dim3(32), 256, [] {
    ATTNC_DYNAMIC_SMEM(unsigned char, smem);
    unsigned r[4];
    // Rows of 16 bytes for lanes 0..31: lanes 16.. are past the 256 bytes.
    dev::ldmatrixX4(r, smem + 16 * dev::laneId());
  });
  REQUIRE(s.error == sim::LaunchError::MemoryViolation);
  CHECK_THAT(s.message,
             Catch::EndsWith("out-of-bounds shared read of 16 bytes by "
                             "ldmatrix (row 0 of matrix 2, address of lane "
                             "16) at shared offset 256 (the block has 256 "
                             "bytes of dynamic shared memory)"));
}
