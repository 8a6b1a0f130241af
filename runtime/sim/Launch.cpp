//===- Launch.cpp - Options, buffer registry and launching ----------------===//

#include "Launch.h"
#include "HostPool.h"
#include "Scheduler.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

namespace attnc::sim {

namespace {

std::mutex &optionsMutex() {
  static std::mutex m;
  return m;
}

SimOptions optionsFromEnvironment() {
  SimOptions o;
  if (const char *v = std::getenv("ATTNC_SIM_CHECKED"))
    o.checked = *v && std::strtol(v, nullptr, 10) != 0;
  if (const char *v = std::getenv("ATTNC_SIM_RACECHECK"))
    o.raceCheck = !*v || std::strtol(v, nullptr, 10) != 0;
  if (const char *v = std::getenv("ATTNC_SIM_THREADS"))
    o.hostThreads = static_cast<unsigned>(std::strtoul(v, nullptr, 10));
  if (const char *v = std::getenv("ATTNC_SIM_STACK_KIB")) {
    unsigned long kib = std::strtoul(v, nullptr, 10);
    if (kib >= 16)
      o.fiberStackBytes = kib * 1024;
  }
  return o;
}

SimOptions &options() {
  static SimOptions o = optionsFromEnvironment();
  return o;
}

struct Registry {
  std::mutex mutex;
  std::map<uintptr_t, BufferInfo> buffers;
};

Registry &registry() {
  static Registry *r = new Registry; // outlives static destructors
  return *r;
}

} // namespace

SimOptions getOptions() {
  std::lock_guard<std::mutex> lock(optionsMutex());
  return options();
}

void setOptions(const SimOptions &o) {
  std::lock_guard<std::mutex> lock(optionsMutex());
  options() = o;
}

const char *toString(LaunchError error) {
  switch (error) {
  case LaunchError::None:
    return "success";
  case LaunchError::InvalidLaunch:
    return "invalid launch";
  case LaunchError::MemoryViolation:
    return "memory violation";
  case LaunchError::Misaligned:
    return "misaligned address";
  case LaunchError::Deadlock:
    return "deadlock";
  case LaunchError::WarpDivergence:
    return "warp divergence";
  case LaunchError::Trap:
    return "trap";
  case LaunchError::OutOfMemory:
    return "out of memory";
  case LaunchError::DataRace:
    return "data race";
  }
  return "unknown";
}

void registerBuffer(const void *ptr, size_t bytes, std::string name) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto begin = reinterpret_cast<uintptr_t>(ptr);
  r.buffers[begin] = BufferInfo{begin, bytes, std::move(name)};
}

bool unregisterBuffer(const void *ptr) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.buffers.erase(reinterpret_cast<uintptr_t>(ptr)) != 0;
}

void clearBuffers() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.buffers.clear();
}

LaunchStatus launchKernel(const LaunchConfig &config, KernelInvoker kernel) {
  const char *name = config.kernelName ? config.kernelName : "kernel";
  auto invalid = [&](const std::string &why) {
    return LaunchStatus{LaunchError::InvalidLaunch,
                        "kernel '" + std::string(name) + "': " + why};
  };
  const dim3 &g = config.grid, &b = config.block;
  if (!g.x || !g.y || !g.z || !b.x || !b.y || !b.z)
    return invalid("grid and block dimensions must be positive");
  uint64_t threadsPerBlock = uint64_t(b.x) * b.y * b.z;
  // The GPU's limits: a kernel that launches here must launch there.
  if (threadsPerBlock > 1024 || b.z > 64)
    return invalid("block (" + std::to_string(b.x) + "," + std::to_string(b.y) +
                   "," + std::to_string(b.z) +
                   ") exceeds 1024 threads (or 64 in z)");
  if (g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535)
    return invalid("grid exceeds 2^31-1 x 65535 x 65535 blocks");
  constexpr size_t kMaxSmem = 227 * 1024;
  if (config.dynamicSmemBytes > kMaxSmem)
    return invalid(std::to_string(config.dynamicSmemBytes) +
                   " bytes of dynamic shared memory exceed the 227 KiB a "
                   "block can have on sm_90");
  if (!kernel.invoke)
    return invalid("no kernel function");

  static std::mutex launchMutex;
  std::lock_guard<std::mutex> serial(launchMutex);

  SimOptions opts = getOptions();
  LaunchState launch;
  launch.kernelName = name;
  launch.grid = g;
  launch.block = b;
  launch.smemBytes = config.dynamicSmemBytes;
  launch.kernel = kernel;
  launch.checked = opts.checked;
  launch.raceCheck = opts.checked && opts.raceCheck;
  launch.stackBytes = std::max<size_t>(opts.fiberStackBytes, 16 * 1024);
  launch.numBlocks = uint64_t(g.x) * g.y * g.z;
  if (opts.checked) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (const auto &entry : r.buffers)
      launch.buffers.push_back(entry.second);
  }

  unsigned hostThreads = opts.hostThreads;
  if (hostThreads == 0)
    hostThreads = std::max(1u, std::thread::hardware_concurrency());
  if (hostThreads > launch.numBlocks)
    hostThreads = static_cast<unsigned>(launch.numBlocks);

  detail::checkedMode = opts.checked;
  HostPool::get().run(launch, hostThreads);
  detail::checkedMode = false;

  return LaunchStatus{launch.error, std::move(launch.message)};
}

} // namespace attnc::sim
