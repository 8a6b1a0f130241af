//===- KernelEntryPoints.cpp - The sim functions kernel code calls --------===//
//
// Definitions of ThreadContext.h's interface that forward to the calling
// host thread's BlockRunner, and of the counters kernels bump (Counters.h).
// They live in one object so that linking the launcher links all of them.
//
//===----------------------------------------------------------------------===//

#include "BlockRunner.h"
#include "Counters.h"

#include <atomic>

namespace attnc::sim {

bool debugIs(unsigned bx, unsigned by, unsigned bz, unsigned tx, unsigned ty,
             unsigned tz) {
  // Called from gdb while a fiber runs; outside a block there is none.
  if (!inFiber())
    return false;
  const uint3 &b = runner().blockIdx;
  const uint3 &t = runner().current().id.threadIdx;
  return b.x == bx && b.y == by && b.z == bz && t.x == tx && t.y == ty &&
         t.z == tz;
}

namespace detail {

__thread const ThreadIdentity *currentThread = nullptr;

void syncThreads() { runner().syncThreads(); }
int syncThreadsReduce(int pred, int op) {
  return runner().syncThreadsReduce(pred, op);
}

namespace {
void syncWarpFn(WarpExchange &, unsigned, const void *) {}
} // namespace

void syncWarp(unsigned mask) {
  runner().warpCollective("__syncwarp", mask, &syncWarpFn, nullptr, nullptr, 0,
                          nullptr, 0);
}

unsigned activeMask() { return runner().activeMask(); }

void warpCollective(const char *op, unsigned mask, CollectiveFn fn,
                    const void *arg, const uint32_t *in, unsigned numIn,
                    uint32_t *out, unsigned numOut) {
  runner().warpCollective(op, mask, fn, arg, in, numIn, out, numOut);
}

void *dynamicSmem() { return runner().smem; }
size_t dynamicSmemBytes() { return runner().smemBytes; }

void trap(const char *why) { runner().fail(LaunchError::Trap, why); }

void failThread(LaunchError kind, const std::string &what) {
  runner().fail(kind, what);
}

} // namespace detail

namespace {
// Blocks of one launch run on several host threads.
std::atomic<int64_t> kvTileCount{0};
std::atomic<int64_t> maskedTileCount{0};
std::atomic<int64_t> kvBytesReadCount{0};
} // namespace

void countKVBytesRead(int64_t bytes) {
  kvBytesReadCount.fetch_add(bytes, std::memory_order_relaxed);
}

void countEvent(Event event) {
  switch (event) {
  case Event::KVTile:
    kvTileCount.fetch_add(1, std::memory_order_relaxed);
    break;
  case Event::MaskedTile:
    maskedTileCount.fetch_add(1, std::memory_order_relaxed);
    break;
  }
}

Counters readCounters() {
  return {kvTileCount.load(), maskedTileCount.load(), kvBytesReadCount.load()};
}

void resetCounters() {
  kvTileCount.store(0);
  maskedTileCount.store(0);
  kvBytesReadCount.store(0);
}

} // namespace attnc::sim
