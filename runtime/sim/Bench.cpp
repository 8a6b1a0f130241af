//===- Bench.cpp - attnc-sim-bench: what the sim's primitives cost --------===//
//
// Prints the cost of a raw fiber switch, a block barrier, a warp shuffle and
// an mma.sync collective, on one host thread. Not a test: numbers for
// deciding whether a kernel's sim run time is reasonable. Each figure is the
// best of several runs in thread CPU time, so other processes sharing the
// machine disturb it little.
//
//===----------------------------------------------------------------------===//

#include "Fiber.h"
#include "Launch.h"
#include "attnc_device.cuh"

#include <algorithm>
#include <cstdio>
#include <ctime>

using namespace attnc;

namespace {

double cpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

constexpr int kRepeats = 5;

// Two fibers handing control back and forth.
sim::FiberContext mainCtx, ping, pong;
long switchesLeft;

void pingEntry(void *) {
  while (switchesLeft > 0) {
    --switchesLeft;
    sim::switchFiber(ping, pong);
  }
  sim::switchFiber(ping, mainCtx);
}

void pongEntry(void *) {
  for (;;) {
    --switchesLeft;
    sim::switchFiber(pong, ping);
  }
}

double switchNs() {
  sim::FiberStack a, b;
  a.allocate(64 * 1024);
  b.allocate(64 * 1024);
  const long n = 5'000'000;
  double best = 1e30;
  for (int r = 0; r < kRepeats; ++r) {
    sim::makeFiber(ping, a, &pingEntry, nullptr);
    sim::makeFiber(pong, b, &pongEntry, nullptr);
    switchesLeft = n;
    double t0 = cpuNow();
    sim::switchFiber(mainCtx, ping);
    best = std::min(best, cpuNow() - t0);
  }
  return best * 1e9 / n;
}

constexpr int kIters = 2000;

__global__ void barrierKernel(int *sink) {
  int x = 0;
  for (int i = 0; i < kIters; ++i) {
    x += i;
    __syncthreads();
  }
  sink[threadIdx.x] = x;
}

__global__ void shuffleKernel(float *sink) {
  float v = threadIdx.x;
  for (int i = 0; i < kIters; ++i)
    v += __shfl_xor_sync(0xffffffffu, v, 1);
  sink[threadIdx.x] = v;
}

__global__ void mmaKernel(float *sink) {
  dev::FragA<dev::f16> a;
  dev::FragB<dev::f16> b;
  dev::FragC c;
  for (int i = 0; i < 4; ++i) {
    a.x[i] = dev::pack2<dev::f16>(0.001f * threadIdx.x, 0.5f);
    c.x[i] = 0.0f;
  }
  b.x[0] = b.x[1] = dev::pack2<dev::f16>(0.25f, -0.125f);
  for (int i = 0; i < kIters; ++i)
    dev::mmaM16N8K16(c, a, b, c);
  sink[threadIdx.x] = c.x[0] + c.x[1] + c.x[2] + c.x[3];
}

__global__ void ldmatrixKernel(unsigned *sink) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  unsigned r[4], acc = 0;
  for (int i = 0; i < kIters; ++i) {
    dev::ldmatrixX4(r, smem + 16 * (dev::laneId() + 32 * dev::warpId()));
    acc += r[0] ^ r[3];
  }
  sink[threadIdx.x] = acc;
}

template <typename Kernel, typename Sink>
double perIteration(const char *name, Kernel kernel, Sink *sink,
                    unsigned threads, size_t smem = 0) {
  double best = 1e30;
  for (int r = 0; r < kRepeats; ++r) {
    double t0 = cpuNow();
    sim::LaunchStatus s =
        sim::launch(name, dim3(1), dim3(threads), smem, kernel, sink);
    best = std::min(best, cpuNow() - t0);
    if (!s.ok())
      std::fprintf(stderr, "%s failed: %s\n", name, s.message.c_str());
  }
  return best / kIters;
}

} // namespace

int main() {
  sim::SimOptions opts;
  opts.hostThreads = 1;
  sim::setOptions(opts);
  static int intSink[1024];
  static float floatSink[1024];
  static unsigned unsignedSink[1024];

  std::printf("fiber switch (raw):                    %6.1f ns\n", switchNs());
  for (unsigned threads : {128u, 1024u}) {
    double barrier = perIteration("barrier", barrierKernel, intSink, threads);
    std::printf("__syncthreads, %4u threads:            %6.2f us "
                "(%5.1f ns per thread)\n",
                threads, barrier * 1e6, barrier * 1e9 / threads);
  }
  double shfl = perIteration("shuffle", shuffleKernel, floatSink, 128);
  std::printf("__shfl_xor_sync, per warp (4 warps):   %6.2f us "
              "(%5.1f ns per lane)\n",
              shfl * 1e6 / 4, shfl * 1e9 / 128);
  double mma = perIteration("mma", mmaKernel, floatSink, 128);
  std::printf("mma.m16n8k16, per warp (4 warps):      %6.2f us "
              "(%5.1f ns per lane)\n",
              mma * 1e6 / 4, mma * 1e9 / 128);
  double ldm =
      perIteration("ldmatrix", ldmatrixKernel, unsignedSink, 128, 128 * 16);
  std::printf("ldmatrix.x4, per warp (4 warps):       %6.2f us "
              "(%5.1f ns per lane)\n",
              ldm * 1e6 / 4, ldm * 1e9 / 128);
  return 0;
}
