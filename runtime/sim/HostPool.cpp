//===- HostPool.cpp - Host threads that run the blocks of a launch --------===//

#include "HostPool.h"

namespace attnc::sim {

HostPool &HostPool::get() {
  // Never destroyed: workers sleep on the condition variable until the
  // process exits, and joining them from a static destructor could run
  // after the objects they use are gone.
  static HostPool *pool = new HostPool;
  return *pool;
}

void HostPool::run(LaunchState &launch, unsigned numThreads) {
  unsigned helpers = numThreads > 0 ? numThreads - 1 : 0;
  if (helpers > 0) {
    std::lock_guard<std::mutex> lock(mutex);
    while (workers.size() < helpers) {
      unsigned index = static_cast<unsigned>(workers.size());
      workers.emplace_back([this, index] { workerLoop(index); });
      workers.back().detach();
    }
    job = &launch;
    wanted = helpers;
    busy = helpers;
    ++generation;
  }
  start.notify_all();
  runBlocks(launch);
  if (helpers > 0) {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return busy == 0; });
    job = nullptr;
  }
}

void HostPool::workerLoop(unsigned index) {
  unsigned long long seen = 0;
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    start.wait(lock, [&] { return generation != seen; });
    seen = generation;
    if (index >= wanted)
      continue;
    LaunchState *current = job;
    lock.unlock();
    runBlocks(*current);
    lock.lock();
    if (--busy == 0)
      done.notify_all();
  }
}

} // namespace attnc::sim
