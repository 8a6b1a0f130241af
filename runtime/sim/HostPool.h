//===- HostPool.h - Host threads that run the blocks of a launch ----------===//
//
// Internal to attnc_sim. Worker threads are created on first need and kept
// for the life of the process: their fiber stacks and shared-memory buffers
// are thread-local and reused by every later launch. The calling thread is
// always one of the runners, so a one-thread launch never leaves it (which
// is what makes ATTNC_SIM_THREADS=1 convenient under gdb).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_HOSTPOOL_H
#define ATTNC_RUNTIME_SIM_HOSTPOOL_H

#include "Scheduler.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace attnc::sim {

class HostPool {
public:
  static HostPool &get();

  /// Runs `launch` on `numThreads` host threads (the caller included) and
  /// returns when all of them are done.
  void run(LaunchState &launch, unsigned numThreads);

private:
  HostPool() = default;
  void workerLoop(unsigned index);

  std::mutex mutex;
  std::condition_variable start, done;
  std::vector<std::thread> workers;
  LaunchState *job = nullptr;
  unsigned long long generation = 0;
  unsigned wanted = 0; ///< workers taking part in the current job
  unsigned busy = 0;
};

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_HOSTPOOL_H
