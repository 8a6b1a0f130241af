//===- HostCompiler.h - Build generated CUDA for the sim backend ----------===//
//
// The sim backend runs the very source NVRTC compiles: the host C++
// compiler builds it with -DATTNC_SIM into a shared object, which is loaded
// with dlopen. Its sim symbols (attnc::sim) resolve against the process,
// which must therefore export attnc_sim (ENABLE_EXPORTS, whole archive).
// Objects are cached on disk by a hash of source, flags and compiler:
// written to a temporary file and renamed, so concurrent builders never
// load a torn object.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_JIT_HOSTCOMPILER_H
#define ATTNC_RUNTIME_JIT_HOSTCOMPILER_H

#include "runtime/device/kernel_args.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc::jit {

struct HostCompileOptions {
  std::string compiler; ///< default: the compiler attnc was built with
  std::string optLevel = "-O2";
  bool debugInfo = false;               ///< -g, to step through a kernel in gdb
  std::vector<std::string> includeDirs; ///< default: the device headers
  std::string cacheDir;                 ///< default: jit::defaultCacheDir()
};

/// A loaded sim module.
class SimModule {
public:
  /// `name_sim_launch` as the emitter prints it.
  using LaunchFn = int (*)(const AttnKernelArgs *args, unsigned gridX,
                           char *error, unsigned long errorSize);

  ~SimModule();
  SimModule(const SimModule &) = delete;
  SimModule &operator=(const SimModule &) = delete;

  /// The launcher of kernel `kernelName`, or null.
  LaunchFn launcher(const std::string &kernelName) const;
  const std::string &path() const { return objectPath; }

  /// Takes ownership of a dlopen handle.
  static std::unique_ptr<SimModule> adopt(void *handle, std::string path) {
    return std::unique_ptr<SimModule>(new SimModule(handle, std::move(path)));
  }

private:
  SimModule(void *handle, std::string path)
      : handle(handle), objectPath(std::move(path)) {}
  void *handle;
  std::string objectPath;
};

/// Compiles (or finds in the cache) and loads `source`. On failure returns
/// null and sets `error` to the compiler's output.
std::unique_ptr<SimModule> compileForSim(const std::string &source,
                                         const HostCompileOptions &options,
                                         std::string &error);

/// 64-bit FNV-1a, the cache key hash.
unsigned long long hashText(const std::string &text,
                            unsigned long long seed = 14695981039346656037ull);

} // namespace attnc::jit

#endif // ATTNC_RUNTIME_JIT_HOSTCOMPILER_H
