//===- Launch.h - Host API of the sim backend -----------------------------===//
//
// Launches a kernel compiled for sim: blocks are spread over a pool of host
// threads, the threads of a block run as fibers on one of them.
//
//   attnc::sim::LaunchStatus s = attnc::sim::launch(
//       "attn_fwd", dim3(numTiles, heads), dim3(128), smemBytes, attn_fwd,
//       q, k, v, o, n);
//   if (!s.ok()) report(s.message);
//
// Errors come back as values: an out-of-bounds access in checked mode, a
// barrier some threads never reach, a warp collective whose lanes disagree,
// or an impossible launch configuration fail the launch; the process goes on.
//
// Launches are serialised: one runs at a time, even when several host
// threads call launch().
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_SIM_LAUNCH_H
#define ATTNC_RUNTIME_SIM_LAUNCH_H

#include "VectorTypes.h"

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace attnc::sim {

/// Process-wide sim settings. The first read takes its defaults from the
/// environment: ATTNC_SIM_CHECKED=1, ATTNC_SIM_RACECHECK=0,
/// ATTNC_SIM_THREADS=n, ATTNC_SIM_STACK_KIB=n.
struct SimOptions {
  /// Bound-check every access made through the device library's memory
  /// primitives (and cp.async / ldmatrix) against registered buffers and the
  /// block's shared memory.
  bool checked = false;
  /// With `checked`: also fail the launch on a shared-memory race, two warps
  /// touching the same bytes with no __syncthreads() between them, one of
  /// them writing, or a cp.async read before its wait (docs/sim.md).
  bool raceCheck = true;
  /// Host threads running blocks; 0 means the hardware concurrency. The
  /// calling thread is one of them, so 1 runs everything on the caller
  /// (deterministic, and what to use under gdb).
  unsigned hostThreads = 0;
  /// Usable stack bytes per fiber (one fiber per CUDA thread of a block).
  size_t fiberStackBytes = 256 * 1024;
};

SimOptions getOptions();
void setOptions(const SimOptions &options);

/// Sets options for a scope, restoring the previous ones at its end.
class ScopedOptions {
public:
  explicit ScopedOptions(const SimOptions &options) : saved(getOptions()) {
    setOptions(options);
  }
  ~ScopedOptions() { setOptions(saved); }
  ScopedOptions(const ScopedOptions &) = delete;
  ScopedOptions &operator=(const ScopedOptions &) = delete;

private:
  SimOptions saved;
};

enum class LaunchError {
  None,
  InvalidLaunch,   ///< grid/block/shared-memory sizes the GPU would refuse
  MemoryViolation, ///< checked mode: an access outside every known buffer
  Misaligned,      ///< an ldmatrix / cp.async address the GPU would fault on
  Deadlock,        ///< a barrier or collective some threads never reach
  WarpDivergence,  ///< lanes of one collective disagree on op or mask
  Trap,            ///< __trap() or a runtime error inside the kernel
  OutOfMemory,     ///< fiber stacks or shared memory could not be allocated
  DataRace,        ///< checked mode: unsynchronised shared-memory accesses
};

const char *toString(LaunchError error);

struct LaunchStatus {
  LaunchError error = LaunchError::None;
  /// Names the kernel, block, thread and what went wrong.
  std::string message;
  bool ok() const { return error == LaunchError::None; }
};

struct LaunchConfig {
  const char *kernelName = "kernel";
  dim3 grid;
  dim3 block;
  size_t dynamicSmemBytes = 0;
};

/// A kernel with its arguments bound: `invoke(closure)` runs it as the
/// current CUDA thread.
struct KernelInvoker {
  void (*invoke)(const void *closure) = nullptr;
  const void *closure = nullptr;
};

/// Type-erased launch. A code generator that exports a per-kernel entry
/// taking `void **args` (the driver API's kernelParams) can wrap it in a
/// KernelInvoker and call this directly.
LaunchStatus launchKernel(const LaunchConfig &config, KernelInvoker kernel);

namespace detail {
template <typename Kernel, typename... Args> struct BoundKernel {
  Kernel kernel;
  std::tuple<Args...> args;
  static void invoke(const void *closure) {
    const auto *self = static_cast<const BoundKernel *>(closure);
    // Arguments are passed as lvalues of the shared copy: by-value kernel
    // parameters are then private to each CUDA thread, as on the GPU.
    std::apply(self->kernel, self->args);
  }
};
} // namespace detail

/// Launches `kernel(args...)` over `grid` x `block` threads with
/// `dynamicSmemBytes` of dynamic shared memory per block. `kernel` is a
/// __global__ function (or any callable, handy in tests).
template <typename Kernel, typename... Args>
LaunchStatus launch(const char *kernelName, dim3 grid, dim3 block,
                    size_t dynamicSmemBytes, Kernel &&kernel, Args &&...args) {
  using Bound =
      detail::BoundKernel<std::decay_t<Kernel>, std::decay_t<Args>...>;
  Bound bound{std::forward<Kernel>(kernel), {std::forward<Args>(args)...}};
  return launchKernel({kernelName, grid, block, dynamicSmemBytes},
                      {&Bound::invoke, &bound});
}

/// Registers a global-memory buffer for checked mode; accesses outside
/// every registered buffer are violations. Re-registering `ptr` replaces it.
void registerBuffer(const void *ptr, size_t bytes, std::string name);
/// Returns false if `ptr` was not registered.
bool unregisterBuffer(const void *ptr);
void clearBuffers();

/// Registers a buffer for the lifetime of the object.
class ScopedBuffer {
public:
  ScopedBuffer(const void *ptr, size_t bytes, std::string name) : ptr(ptr) {
    registerBuffer(ptr, bytes, std::move(name));
  }
  ~ScopedBuffer() { unregisterBuffer(ptr); }
  ScopedBuffer(const ScopedBuffer &) = delete;
  ScopedBuffer &operator=(const ScopedBuffer &) = delete;

private:
  const void *ptr;
};

/// Helpers to call from gdb (`break k.cu:42 if attnc::sim::debugIs(0,0,0,
/// 5,0,0)`): whether the running fiber is that block and thread.
bool debugIs(unsigned bx, unsigned by, unsigned bz, unsigned tx, unsigned ty,
             unsigned tz);

} // namespace attnc::sim

#endif // ATTNC_RUNTIME_SIM_LAUNCH_H
