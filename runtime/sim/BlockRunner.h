//===- BlockRunner.h - Runs the threads of one block as fibers ------------===//
//
// Internal to attnc_sim. Each host thread owns one BlockRunner: the fiber
// stacks, per-thread and per-warp state and the shared-memory buffer, all
// reused from block to block and launch to launch. Ready fibers wait in a
// FIFO ring; a fiber that must wait switches straight to the next ready one
// (one context switch, not two through a scheduler loop), and the block ends
// when the last fiber exits.
//
// A warp collective costs one arrival per lane: each lane deposits its inputs
// in the warp's exchange and parks; the last lane to arrive computes the
// results for all lanes and wakes them, and each reads its results when it
// resumes. Results stay valid until the lane reads them, because the next
// collective of those lanes cannot complete before every one of them has
// resumed and arrived again.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_BLOCKRUNNER_H
#define ATTNC_RUNTIME_SIM_BLOCKRUNNER_H

#include "Fiber.h"
#include "RaceCheck.h"
#include "Scheduler.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc::sim {

enum class FiberState : uint8_t { Ready, Running, AtBarrier, AtWarp, Exited };

/// A cp.async issued but not yet waited for.
struct PendingCopy {
  void *dst;
  const void *src;
  unsigned srcBytes;
  unsigned group;
};

/// One CUDA thread.
struct SimThread {
  FiberContext ctx;
  detail::ThreadIdentity id{};
  unsigned linear = 0;
  FiberState state = FiberState::Exited;
  std::vector<PendingCopy> copies;
  size_t copyHead = 0;
  /// Group that cp.asyncs issued now join; groups below it are committed.
  unsigned openGroup = 0;
};

/// One warp's collective state.
struct WarpSlot {
  detail::WarpExchange exchange;
  unsigned present = 0; ///< lanes that exist (a block's last warp may be short)
  unsigned arrived = 0; ///< lanes parked in a collective
  unsigned exited = 0;  ///< lanes whose thread has returned
  const char *op[32] = {}; ///< each parked lane's collective
  unsigned mask[32] = {};
};

/// Runs, one at a time, the blocks its host thread takes from a launch.
class BlockRunner {
public:
  static BlockRunner &forThisThread();

  /// Sizes stacks and state for `launch`; false (and the launch failed) if
  /// memory runs out.
  bool prepare(LaunchState &launch);
  /// Runs one block; false if the launch failed in it.
  bool runBlock(uint64_t linearBlock);

  SimThread &current() { return *cur; }
  bool inFiber() const { return cur != nullptr; }
  LaunchState &launchState() { return *launch; }

  void syncThreads();
  int syncThreadsReduce(int pred, int op);
  void warpCollective(const char *op, unsigned mask, detail::CollectiveFn fn,
                      const void *arg, const uint32_t *in, unsigned numIn,
                      uint32_t *out, unsigned numOut);
  unsigned activeMask() const;

  void cpAsync(void *dst, const void *src, unsigned srcBytes);
  void cpAsyncCommit() { ++cur->openGroup; }
  void cpAsyncWait(unsigned pending);

  [[noreturn]] void fail(LaunchError kind, const std::string &what);
  std::string describeThread(unsigned linear) const;

  /// Checked mode's race detector (RaceCheck.h): `raceCheck` says whether
  /// this launch uses it.
  bool raceCheck = false;
  RaceChecker race;
  size_t smemOffset(const void *p) const {
    return static_cast<size_t>(static_cast<const char *>(p) - smem);
  }

  uint3 blockIdx{0, 0, 0};
  dim3 blockDim, gridDim;
  char *smem = nullptr;
  size_t smemBytes = 0;

private:
  static void fiberMain(void *arg);
  void push(unsigned linear);
  void wake(unsigned linear) {
    threads[linear].state = FiberState::Ready;
    push(linear);
  }
  /// Parks the current fiber (its state already set) and runs the next.
  void park();
  [[noreturn]] void exitCurrent();
  [[noreturn]] void abandon();
  void completeCopies(SimThread &t, unsigned belowGroup);
  std::string deadlockReport() const;
  std::string threadList(FiberState state) const;

  LaunchState *launch = nullptr;
  size_t stackBytes = 0;
  std::vector<FiberStack> stacks;
  std::vector<SimThread> threads;
  std::vector<std::unique_ptr<WarpSlot>> warps;
  std::unique_ptr<char[]> smemStorage;
  size_t smemCapacity = 0;
  unsigned numThreads = 0;

  std::vector<unsigned> ring;
  unsigned ringHead = 0, ringSize = 0;

  unsigned barrierArrived = 0;
  int barrierAccum = 0;
  int barrierResult = 0;
  unsigned exitedCount = 0;
  bool failed = false;

  /// Makes `t` the running fiber, for the kernel's view and the runner's.
  void setCurrent(SimThread *t) {
    cur = t;
    *currentSlot = t ? &t->id : nullptr;
  }

  FiberContext mainCtx;
  SimThread *cur = nullptr;
  /// &detail::currentThread, looked up once: the TLS address of a variable
  /// in position-independent code costs a call each time it is computed.
  const detail::ThreadIdentity **currentSlot = nullptr;
};

/// The runner of the calling host thread (set up by runBlocks()).
BlockRunner &runner();
/// True while a fiber of this host thread runs kernel code.
bool inFiber();

/// "(x,y,z)".
std::string formatIdx(uint3 v);
/// "0x0000ffff".
std::string formatMask(unsigned mask);
/// "0-3,8,10-31": the lanes set in `mask`.
std::string formatLanes(unsigned mask);

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_BLOCKRUNNER_H
