//===- Scheduler.h - A launch, as the host threads running it see it ------===//
//
// Internal to attnc_sim. A LaunchState describes one launch; runBlocks()
// runs blocks of it on the calling host thread until none are left or the
// launch failed. Inside a block, each CUDA thread is a fiber; a fiber runs
// until it must wait (block barrier, warp collective) or exits, then the
// next ready fiber runs (BlockRunner.h). There is no preemption: a kernel
// that spins waiting for another thread of its block to write memory never
// lets it run.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_SCHEDULER_H
#define ATTNC_RUNTIME_SIM_SCHEDULER_H

#include "Launch.h"
#include "ThreadContext.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace attnc::sim {

/// A registered global buffer (checked mode).
struct BufferInfo {
  uintptr_t begin = 0;
  size_t bytes = 0;
  std::string name;
};

/// One launch, shared by the host threads running its blocks.
struct LaunchState {
  std::string kernelName;
  dim3 grid, block;
  size_t smemBytes = 0;
  KernelInvoker kernel;
  bool checked = false;
  /// Checked mode's shared-memory race detector (with `checked` only).
  bool raceCheck = false;
  size_t stackBytes = 0;
  /// Registered buffers, sorted by `begin`, frozen for the launch.
  std::vector<BufferInfo> buffers;

  uint64_t numBlocks = 0;
  std::atomic<uint64_t> nextBlock{0};
  /// Set by the first error; host threads stop taking blocks.
  std::atomic<bool> aborted{false};

  std::mutex errorMutex;
  LaunchError error = LaunchError::None;
  std::string message;

  /// Records the launch's error; the first one wins.
  void fail(LaunchError kind, std::string text);
};

/// Runs blocks of `launch` on this host thread until all are taken or the
/// launch is aborted.
void runBlocks(LaunchState &launch);

/// Returns the global buffer containing [p, p + bytes), or null.
const BufferInfo *findBuffer(const std::vector<BufferInfo> &buffers,
                             uintptr_t p, size_t bytes);
/// Describes where `p` lies relative to the nearest registered buffer.
std::string describeGlobalAddress(const std::vector<BufferInfo> &buffers,
                                  uintptr_t p);

namespace detail {
/// Fails the launch with "kernel 'k' block (..) thread (..): <what>" and
/// abandons the block; never returns into the kernel.
[[noreturn]] void failThread(LaunchError kind, const std::string &what);
/// checkAccessSlow's bound and alignment checks, without the race detector.
void checkBounds(const void *p, size_t bytes, size_t align, Access kind);
/// Whether [p, p + bytes) lies inside the block's dynamic shared memory.
bool inSharedMemory(const void *p, size_t bytes);
/// "shared offset N (the block has M bytes of dynamic shared memory)".
std::string describeSharedAddress(const void *p);
} // namespace detail

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_SCHEDULER_H
