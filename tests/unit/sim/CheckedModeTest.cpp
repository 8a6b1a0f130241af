//===- CheckedModeTest.cpp - Bound checks and barrier diagnostics ---------===//

#include "SimTestSupport.h"
#include "attnc_device.cuh"

using namespace attnc;
using namespace attnc::simtest;

namespace {

/// Thread 5 of block 1 reads one element past the end of `in`.
__global__ void oobReadKernel(const float *in, int n, float *out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int idx = blockIdx.x == 1 && threadIdx.x == 5 ? n : i % n;
  dev::storeGlobal(out + i, dev::loadGlobal(in + idx));
}

} // namespace

TEST_CASE("checked mode reports an out-of-bounds global read",
          "[sim][checked]") {
  const int n = 64;
  std::vector<float> in = randomFloats(n + 4, 1), out(2 * 32);
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bi(in.data(), n * sizeof(float), "input");
  sim::ScopedBuffer bo(out.data(), out.size() * sizeof(float), "output");
  sim::LaunchStatus s = sim::launch("oob_read", dim3(2), dim3(32), 0,
                                    &oobReadKernel, in.data(), n, out.data());
  REQUIRE(s.error == sim::LaunchError::MemoryViolation);
  INFO(s.message);
  CHECK_THAT(s.message,
             Catch::StartsWith("kernel 'oob_read' block (1,0,0) thread "
                               "(5,0,0): out-of-bounds global read of 4 "
                               "bytes at 0x"));
  CHECK_THAT(s.message, Catch::EndsWith("= 'input' + 256 (buffer 'input' is "
                                        "256 bytes)"));
}

TEST_CASE("without checked mode the same kernel runs", "[sim][checked]") {
  const int n = 64;
  std::vector<float> in = randomFloats(n + 4, 1), out(2 * 32);
  sim::SimOptions o = checkedOptions(1);
  o.checked = false;
  sim::ScopedOptions opts(o);
  requireOk(sim::launch("oob_read", dim3(2), dim3(32), 0, &oobReadKernel,
                        in.data(), n, out.data()));
  CHECK(out[37] == in[n]);
}

TEST_CASE("checked mode names the nearest buffer for a stray pointer",
          "[sim][checked]") {
  std::vector<float> a(100), b(100);
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer ba(a.data(), 40 * sizeof(float), "a");
  sim::ScopedBuffer bb(b.data(), b.size() * sizeof(float), "b");
  float *before = b.data() + 0; // one element before b: outside both
  sim::LaunchStatus s = sim::launch("stray", dim3(1), dim3(1), 0, [&] {
    dev::storeGlobal(before - 1, 1.0f);
  });
  REQUIRE(s.error == sim::LaunchError::MemoryViolation);
  CHECK_THAT(s.message, Catch::Contains("out-of-bounds global write of 4 "
                                        "bytes"));
  CHECK_THAT(s.message, Catch::Contains("'b' - 4 (buffer 'b' is 400 bytes)"));
}

TEST_CASE("checked mode reports an out-of-bounds shared write",
          "[sim][checked]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("oob_shared", dim3(3), dim3(64), 1024, [] {
    ATTNC_DYNAMIC_SMEM(float, smem);
    int t = threadIdx.x;
    // 256 floats of shared memory; block 2's thread 63 writes element 256.
    int idx = blockIdx.x == 2 && t == 63 ? 256 : t;
    dev::storeShared(smem + idx, 1.0f);
  });
  REQUIRE(s.error == sim::LaunchError::MemoryViolation);
  CHECK(s.message ==
        "kernel 'oob_shared' block (2,0,0) thread (63,0,0): out-of-bounds "
        "shared write of 4 bytes at shared offset 1024 (the block has 1024 "
        "bytes of dynamic shared memory)");
}

TEST_CASE("checked mode catches cp.async reading past a buffer",
          "[sim][checked][cp_async]") {
  alignas(16) static char src[64];
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(src, 40, "src");
  sim::LaunchStatus s = sim::launch("cp_async_oob", dim3(1), dim3(4), 64, [] {
    ATTNC_DYNAMIC_SMEM(char, smem);
    int t = threadIdx.x;
    dev::cpAsync16(smem + 16 * t, src + 16 * t); // thread 2 reads 32..47
    dev::cpAsyncWaitAll();
  });
  REQUIRE(s.error == sim::LaunchError::MemoryViolation);
  CHECK_THAT(s.message, Catch::Contains("thread (2,0,0): out-of-bounds global "
                                        "read of 16 bytes"));
  CHECK_THAT(s.message, Catch::Contains("'src' + 32 (buffer 'src' is 40 "
                                        "bytes)"));
}

namespace {

/// Threads 48..63 return before a barrier the others wait at.
__global__ void missingThreadsKernel(int *out) {
  if (threadIdx.x >= 48)
    return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

} // namespace

TEST_CASE("a barrier some threads never reach is reported",
          "[sim][checked][scheduler]") {
  std::vector<int> out(64, 0);
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("missing", dim3(2), dim3(64), 0,
                                    &missingThreadsKernel, out.data());
  REQUIRE(s.error == sim::LaunchError::Deadlock);
  CHECK_THAT(s.message,
             Catch::StartsWith("kernel 'missing' block (0,0,0): deadlock: "
                               "__syncthreads() reached by 48 of 64 threads; "
                               "16 exited ((48,0,0)-(63,0,0))"));
  CHECK_THAT(s.message,
             Catch::Contains("threads at the barrier: (0,0,0)-(47,0,0)"));
}

TEST_CASE("a shuffle waiting for exited lanes is reported",
          "[sim][checked][scheduler]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("missing_lanes", dim3(1), dim3(64), 0, [] {
    if (threadIdx.x >= 32 && threadIdx.x % 32 >= 24)
      return;
    (void)__shfl_xor_sync(0xffffffffu, 1, 1);
  });
  REQUIRE(s.error == sim::LaunchError::Deadlock);
  CHECK_THAT(s.message,
             Catch::Contains("warp 1 waits in __shfl_xor_sync (mask "
                             "0xffffffff) for lanes 24-31 (exited: 24-31)"));
}

TEST_CASE("a collective naming lanes a short warp lacks is reported",
          "[sim][checked][scheduler]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("short_warp", dim3(1), dim3(40), 0, [] {
    (void)__shfl_xor_sync(0xffffffffu, 1, 1);
  });
  REQUIRE(s.error == sim::LaunchError::WarpDivergence);
  CHECK_THAT(s.message, Catch::Contains("names lanes that do not exist in "
                                        "this warp (lanes 0-7)"));
}

TEST_CASE("checked mode catches a misaligned vector load", "[sim][checked]") {
  alignas(16) static unsigned char bytes[64];
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bb(bytes, sizeof(bytes), "bytes");
  sim::LaunchStatus s = sim::launch("misaligned", dim3(1), dim3(2), 0, [] {
    const uint4 *p = reinterpret_cast<const uint4 *>(bytes + 8 * threadIdx.x);
    (void)dev::loadGlobal(p);
  });
  REQUIRE(s.error == sim::LaunchError::Misaligned);
  CHECK_THAT(s.message, Catch::Contains("thread (1,0,0): misaligned global "
                                        "read of 16 bytes at 0x"));
  CHECK_THAT(s.message, Catch::EndsWith("(needs 16-byte alignment)"));
}
