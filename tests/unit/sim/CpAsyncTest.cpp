//===- CpAsyncTest.cpp - cp.async with zero fill, groups and waits --------===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"
#include "attnc_device.cuh"

using namespace attnc;
using namespace attnc::simtest;

namespace {

void checkCopy(int validBytes) {
  const int n = 64; // threads: 3 groups of n 16-byte chunks
  std::mt19937 rng(validBytes);
  // Registered with exactly validBytes, so checked mode proves no byte past
  // it is read by the zero-fill forms.
  std::vector<unsigned char> src(validBytes + 16);
  for (auto &b : src)
    b = static_cast<unsigned char>(rng() % 255 + 1);
  alignas(16) static unsigned char full[16 * n];
  for (auto &b : full)
    b = static_cast<unsigned char>(rng() % 255 + 1);
  alignas(16) static unsigned char out[3 * 16 * n];
  std::memset(out, 0xcd, sizeof(out));
  // std::vector's storage is 16-byte aligned for this size on glibc.
  REQUIRE(reinterpret_cast<uintptr_t>(src.data()) % 16 == 0);

  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bs(src.data(), validBytes, "src");
  sim::ScopedBuffer bf(full, sizeof(full), "full");
  sim::ScopedBuffer bo(out, sizeof(out), "out");
  requireOk(sim::launch("cp_async", dim3(1), dim3(n), sizeof(out),
                        &attnc_test_cp_async, src.data(), validBytes,
                        static_cast<const unsigned char *>(full), out));

  for (int c = 0; c < 3 * n; ++c)
    for (int i = 0; i < 16; ++i) {
      int byte = 16 * c + i;
      unsigned char want;
      if (c < n) // zero fill past validBytes, byte by byte
        want = byte < validBytes ? src[byte] : 0;
      else if (c < 2 * n) // whole chunk or nothing
        want = 16 * c + 16 <= validBytes ? src[byte] : 0;
      else
        want = full[byte - 32 * n];
      INFO("chunk " << c << " byte " << i);
      REQUIRE(int(out[byte]) == int(want));
    }
}

} // namespace

TEST_CASE("cp.async copies 16 bytes and zero-fills past src-size",
          "[sim][cp_async]") {
  checkCopy(16 * 40 + 7); // a partial chunk in group 0, group 1 all zeros
  checkCopy(1500);        // group 0 full, group 1 cut mid-way
}

TEST_CASE("cp.async data appears at the wait that covers its group",
          "[sim][cp_async]") {
  alignas(16) static float src[64];
  for (int i = 0; i < 64; ++i)
    src[i] = 1.0f + i;
  static float seen[4][4];
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(src, sizeof(src), "src");
  requireOk(sim::launch("cp_async_groups", dim3(1), dim3(1), 64, [] {
    ATTNC_DYNAMIC_SMEM(float, smem);
    dev::cpAsync16(smem, src);
    dev::cpAsyncCommit();
    dev::cpAsync16(smem + 4, src + 4);
    dev::cpAsyncCommit();
    dev::cpAsync16(smem + 8, src + 8); // never committed before wait<0>
    seen[0][0] = smem[0];              // nothing waited for yet
    dev::cpAsyncWait<1>();
    seen[1][0] = smem[0];
    seen[1][1] = smem[4];
    dev::cpAsyncWait<0>();
    seen[2][1] = smem[4];
    seen[2][2] = smem[8];
    dev::cpAsyncWaitAll();
    seen[3][2] = smem[8];
  }));
  // Shared memory starts as 0xff bytes: NaN.
  CHECK(std::isnan(seen[0][0]));
  CHECK(seen[1][0] == 1.0f);
  CHECK(std::isnan(seen[1][1]));
  CHECK(seen[2][1] == 5.0f);
  CHECK(std::isnan(seen[2][2]));
  CHECK(seen[3][2] == 9.0f);
}

TEST_CASE("a misaligned cp.async fails the launch", "[sim][cp_async]") {
  alignas(16) static char src[64];
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s =
      sim::launch("cp_async_misaligned", dim3(1), dim3(1), 64, [] {
        ATTNC_DYNAMIC_SMEM(char, smem);
        dev::cpAsync16(smem, src + 4);
      });
  REQUIRE(s.error == sim::LaunchError::Misaligned);
  CHECK_THAT(s.message, Catch::Contains("must be 16-byte aligned"));
}
