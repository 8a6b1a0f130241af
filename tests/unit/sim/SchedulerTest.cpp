//===- SchedulerTest.cpp - Blocks, barriers and host threads of the sim ---===//

#include "SimTestSupport.h"
#include "attnc_device.cuh"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

using namespace attnc;
using namespace attnc::simtest;

namespace {

/// Each iteration: write shared[t], barrier, read the neighbour's value,
/// barrier. The result is wrong if any barrier lets a thread run ahead.
__global__ void barrierLoopKernel(int iterations, long long *out) {
  ATTNC_DYNAMIC_SMEM(int, shared);
  int t = threadIdx.x, n = blockDim.x;
  long long acc = 0;
  for (int i = 0; i < iterations; ++i) {
    dev::storeShared(shared + t, i * 1000 + t + static_cast<int>(blockIdx.x));
    __syncthreads();
    acc = acc * 3 + dev::loadShared(shared + (t + 1 + i) % n);
    __syncthreads();
  }
  dev::storeGlobal(out + blockIdx.x * n + t, acc);
}

} // namespace

TEST_CASE("barriers inside loops order every iteration", "[sim][scheduler]") {
  const int blocks = 8, threads = 96, iterations = 25;
  std::vector<long long> out(blocks * threads, -1);
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bo(out.data(), out.size() * sizeof(long long), "out");
  requireOk(sim::launch("barrier_loop", dim3(blocks), dim3(threads),
                        threads * sizeof(int), &barrierLoopKernel, iterations,
                        out.data()));
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) {
      long long acc = 0;
      for (int i = 0; i < iterations; ++i)
        acc = acc * 3 + i * 1000 + (t + 1 + i) % threads + b;
      INFO("block " << b << " thread " << t);
      CHECK(out[b * threads + t] == acc);
    }
}

namespace {

/// Divergent but legal: branches of different lengths between barriers,
/// a loop whose trip count differs per thread, shuffles in each half of
/// divergent warps, and threads that exit after the last barrier.
__global__ void divergentKernel(int *out) {
  ATTNC_DYNAMIC_SMEM(int, shared);
  int t = threadIdx.x;
  int v = 0;
  if (t % 3 == 0) {
    for (int i = 0; i < t % 7; ++i)
      v += i;
  } else if (t % 3 == 1) {
    v = -t;
  } else {
    v = t * 2;
  }
  dev::storeShared(shared + t, v);
  __syncthreads();
  int lane = dev::laneId();
  int sum = 0;
  if (lane < 16) {
    sum = __shfl_xor_sync(0x0000ffffu, dev::loadShared(shared + t), 4);
  } else {
    for (int round = 0; round < 2; ++round)
      sum += __shfl_down_sync(0xffff0000u, dev::loadShared(shared + t), 1, 16);
  }
  __syncthreads();
  if (t % 2)
    return; // legal: no barrier follows
  dev::storeGlobal(out + t, sum);
}

} // namespace

TEST_CASE("divergent but legal code runs", "[sim][scheduler]") {
  const int threads = 64;
  std::vector<int> out(threads, -1);
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bo(out.data(), out.size() * sizeof(int), "out");
  requireOk(sim::launch("divergent", dim3(1), dim3(threads),
                        threads * sizeof(int), &divergentKernel, out.data()));

  auto value = [](int t) {
    if (t % 3 == 0) {
      int v = 0;
      for (int i = 0; i < t % 7; ++i)
        v += i;
      return v;
    }
    return t % 3 == 1 ? -t : t * 2;
  };
  for (int t = 0; t < threads; ++t) {
    int lane = t % 32, base = t - lane;
    int want = lane < 16 ? value(base + (lane ^ 4))
                         : 2 * value(base + (lane + 1 < 32 ? lane + 1 : lane));
    INFO("thread " << t);
    CHECK(out[t] == (t % 2 ? -1 : want));
  }
}

namespace {

__global__ void legalExitKernel(int *out) {
  int t = threadIdx.x;
  int c = __syncthreads_count(t % 4 == 0);
  int any = __syncthreads_or(t == 5);
  int all = __syncthreads_and(t < 1000);
  if (t >= 40)
    return; // after the last barrier: legal
  dev::storeGlobal(out + t, c * 100 + any * 10 + all);
}

} // namespace

TEST_CASE("barrier reductions, then early exits after the last barrier",
          "[sim][scheduler]") {
  std::vector<int> out(64, -1);
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bo(out.data(), out.size() * sizeof(int), "out");
  requireOk(sim::launch("legal_exit", dim3(3), dim3(64), 0, &legalExitKernel,
                        out.data()));
  for (int t = 0; t < 40; ++t)
    CHECK(out[t] == 16 * 100 + 10 + 1);
  CHECK(out[40] == -1);
}

namespace {

std::mutex hostThreadsMutex;
std::set<std::thread::id> hostThreadsSeen;

/// Every thread writes its full identity; thread 0 of each block records
/// which host thread runs it and naps so other host threads get work.
__global__ void identityKernel(unsigned *out) {
  unsigned block =
      (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  unsigned thread =
      (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  unsigned *o =
      out + (block * blockDim.x * blockDim.y * blockDim.z + thread) * 4;
  dev::storeGlobal(o, blockIdx.x | blockIdx.y << 8 | blockIdx.z << 16);
  dev::storeGlobal(o + 1, threadIdx.x | threadIdx.y << 8 | threadIdx.z << 16);
  dev::storeGlobal(o + 2, blockDim.x | blockDim.y << 8 | blockDim.z << 16);
  dev::storeGlobal(o + 3, gridDim.x | gridDim.y << 8 | gridDim.z << 16);
  if (thread == 0) {
    std::lock_guard<std::mutex> lock(hostThreadsMutex);
    hostThreadsSeen.insert(std::this_thread::get_id());
  }
  if (thread == 0 && block % 8 == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  __syncthreads();
}

} // namespace

TEST_CASE("many 3-D blocks spread over host threads", "[sim][scheduler]") {
  const dim3 grid(17, 5, 3), block(8, 4, 2);
  const unsigned blocks = 17 * 5 * 3, threads = 64;
  std::vector<unsigned> out(blocks * threads * 4, 0xdeadbeef);
  hostThreadsSeen.clear();
  sim::ScopedOptions opts(checkedOptions(4));
  sim::ScopedBuffer bo(out.data(), out.size() * 4, "out");
  requireOk(
      sim::launch("identity", grid, block, 0, &identityKernel, out.data()));
  for (unsigned b = 0; b < blocks; ++b)
    for (unsigned t = 0; t < threads; ++t) {
      const unsigned *o = &out[(b * threads + t) * 4];
      unsigned bx = b % 17, by = b / 17 % 5, bz = b / 85;
      unsigned tx = t % 8, ty = t / 8 % 4, tz = t / 32;
      INFO("block " << b << " thread " << t);
      REQUIRE(o[0] == (bx | by << 8 | bz << 16));
      REQUIRE(o[1] == (tx | ty << 8 | tz << 16));
      REQUIRE(o[2] == (8u | 4u << 8 | 2u << 16));
      REQUIRE(o[3] == (17u | 5u << 8 | 3u << 16));
    }
  CHECK(hostThreadsSeen.size() > 1);
}

namespace {

/// Reads its shared memory before writing it (must be the poison, never an
/// earlier block's data), fills it with its block id, and checks it.
__global__ void isolationKernel(int words, int *out) {
  ATTNC_DYNAMIC_SMEM(unsigned, shared);
  int t = threadIdx.x, bad = 0;
  for (int i = t; i < words; i += blockDim.x)
    bad += dev::loadShared(shared + i) != 0xffffffffu;
  __syncthreads();
  for (int i = t; i < words; i += blockDim.x)
    dev::storeShared(shared + i, blockIdx.x * 7919u + i);
  __syncthreads();
  for (int i = t; i < words; i += blockDim.x)
    bad += dev::loadShared(shared + i) != blockIdx.x * 7919u + i;
  atomicAdd(out + blockIdx.x, bad);
}

} // namespace

TEST_CASE("dynamic shared memory is private to a block and starts poisoned",
          "[sim][scheduler]") {
  const int blocks = 40, words = 3000;
  std::vector<int> out(blocks, 0);
  sim::ScopedOptions opts(checkedOptions(3));
  requireOk(sim::launch("isolation", dim3(blocks), dim3(128),
                        words * sizeof(unsigned), &isolationKernel, words,
                        out.data()));
  for (int b = 0; b < blocks; ++b)
    CHECK(out[b] == 0);
}

TEST_CASE("static __shared__ arrays are one per block", "[sim][scheduler]") {
  static std::atomic<int> wrong{0};
  wrong = 0;
  sim::ScopedOptions opts(checkedOptions(2));
  requireOk(sim::launch("static_shared", dim3(16), dim3(64), 0, [] {
    __shared__ int tile[64];
    tile[threadIdx.x] = static_cast<int>(blockIdx.x * 100 + threadIdx.x);
    __syncthreads();
    int other = tile[63 - threadIdx.x];
    if (other != static_cast<int>(blockIdx.x * 100 + 63 - threadIdx.x))
      ++wrong;
    __syncthreads();
  }));
  CHECK(wrong == 0);
}

TEST_CASE("impossible launch configurations are refused", "[sim][scheduler]") {
  auto noop = [] {};
  CHECK(sim::launch("k", dim3(1), dim3(1025), 0, noop).error ==
        sim::LaunchError::InvalidLaunch);
  CHECK(sim::launch("k", dim3(0), dim3(32), 0, noop).error ==
        sim::LaunchError::InvalidLaunch);
  CHECK(sim::launch("k", dim3(1, 70000), dim3(32), 0, noop).error ==
        sim::LaunchError::InvalidLaunch);
  sim::LaunchStatus s =
      sim::launch("big_smem", dim3(1), dim3(32), 300 * 1024, noop);
  CHECK(s.error == sim::LaunchError::InvalidLaunch);
  CHECK_THAT(s.message, Catch::Contains("kernel 'big_smem'"));
  CHECK(sim::launch("k", dim3(1), dim3(32), 227 * 1024, noop).ok());
}

TEST_CASE("__trap fails the launch and names the thread", "[sim][scheduler]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::LaunchStatus s = sim::launch("trapper", dim3(2), dim3(32), 0, [] {
    if (blockIdx.x == 1 && threadIdx.x == 17)
      __trap();
  });
  REQUIRE(s.error == sim::LaunchError::Trap);
  CHECK_THAT(s.message,
             Catch::Contains("kernel 'trapper' block (1,0,0) thread (17,0,0)"));
  // The sim is reusable after a failed launch.
  requireOk(
      sim::launch("after", dim3(4), dim3(64), 128, [] { __syncthreads(); }));
}

TEST_CASE("a kernel with a large stack frame runs on a configured stack",
          "[sim][scheduler]") {
  sim::SimOptions o = checkedOptions(1);
  o.fiberStackBytes = 512 * 1024;
  sim::ScopedOptions opts(o);
  static std::atomic<long> total{0};
  total = 0;
  requireOk(sim::launch("big_frame", dim3(2), dim3(64), 0, [] {
    volatile char frame[300 * 1024];
    for (size_t i = 0; i < sizeof(frame); i += 4096)
      frame[i] = static_cast<char>(i / 4096);
    __syncthreads();
    long s = 0;
    for (size_t i = 0; i < sizeof(frame); i += 4096)
      s += frame[i];
    total += s;
  }));
  long perThread = 0;
  for (size_t i = 0; i < 300 * 1024; i += 4096)
    perThread += static_cast<char>(i / 4096);
  CHECK(total == perThread * 128);
}

TEST_CASE("back-to-back launches reuse the host threads", "[sim][scheduler]") {
  static std::atomic<long> blocksRun{0};
  blocksRun = 0;
  const int launches = 400;
  for (unsigned threads : {1u, 3u, 4u}) {
    sim::ScopedOptions opts(checkedOptions(threads));
    for (int i = 0; i < launches; ++i)
      requireOk(sim::launch("tiny", dim3(1 + i % 7), dim3(32), 64, [] {
        __syncthreads();
        if (threadIdx.x == 0)
          ++blocksRun;
      }));
  }
  long perRound = 0;
  for (int i = 0; i < launches; ++i)
    perRound += 1 + i % 7;
  CHECK(blocksRun == 3 * perRound);
}
