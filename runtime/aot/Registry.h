//===- Registry.h - Kernels compiled ahead of time into a program ---------===//
//
// `attnc_add_kernels` (CMake) runs `attnc --emit=aot` at build time: the
// generated C++ file holds each kernel's CUDA source, its KernelInfo and its
// cubins for the requested architectures, and registers them here when the
// program starts. Runtime::loadAot then serves a kernel without NVRTC: the
// cuda backend loads the cubin for the device's architecture; the sim backend
// builds the source with the host compiler.
//
// A spec may be compiled in several variants (attnc_add_kernels VARIANTS):
// the paths of tune/JitKernels.h -- "prefill", "packed" (GQA heads packed
// into the tile rows) and "decode" (packed and split-KV) -- each with its
// own tile sizes. find() takes a path, select() picks by the shape of a
// batch as the JIT's heuristics do.
//
//   auto k = attnc::aot::select("llama", maxQLen);   // or find("llama",
//   "decode") if (!k) die(k.status().toString());              // names what is
//   there auto kernel = runtime->loadAot(**k);
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_AOT_REGISTRY_H
#define ATTNC_RUNTIME_AOT_REGISTRY_H

#include "runtime/core/KernelInfo.h"
#include "runtime/core/Status.h"

#include <cstddef>
#include <string>
#include <vector>

namespace attnc::aot {

/// A compiled image: a cubin for one architecture.
struct Image {
  const char *arch; ///< "sm_80"
  const unsigned char *data;
  size_t size;
};

struct AotKernel {
  const char *source; ///< the CUDA source (for sim, or a JIT fallback)
  KernelInfo info;
  std::vector<Image> images;
  /// The variant's path: "prefill", "packed" or "decode" (pathOf(info)).
  std::string path;
};

/// The path a kernel was compiled for, read from its KernelInfo: "decode"
/// when split-KV, "packed" when query heads share its tile rows, else
/// "prefill".
std::string pathOf(const KernelInfo &info);

/// Registers a kernel; generated files call it from static initializers.
struct Registration {
  Registration(const char *source, KernelInfo info, const Image *images,
               size_t numImages);
};

/// The kernel printed for attention block `specName`: its prefill variant
/// when one is registered, else the first registered; null when none is.
const AotKernel *findKernel(const std::string &specName);
/// The variant of `specName` compiled for `path` (the first registered of
/// them when several tile sizes were), or null.
const AotKernel *findKernel(const std::string &specName,
                            const std::string &path);
/// Every registered variant of `specName`.
std::vector<const AotKernel *> variants(const std::string &specName);
/// Every registered kernel.
std::vector<const AotKernel *> kernels();

/// findKernel(specName, path) (any path when `path` is empty), or a
/// NotFound error that lists what the program has registered: a program
/// whose kernels were compiled into a static library and lost at link
/// time says so instead of finding nothing.
Expected<const AotKernel *> find(const std::string &specName,
                                 const std::string &path = "");
/// The variant for a batch whose longest sequence has `maxQLen` queries:
/// decode when registered and each sequence's packed query rows fit one of
/// its tiles (prefersDecodePath), else prefill, else packed, else decode.
/// A NotFound error as find()'s when the spec has no variant.
Expected<const AotKernel *> select(const std::string &specName,
                                   long long maxQLen);

} // namespace attnc::aot

#endif // ATTNC_RUNTIME_AOT_REGISTRY_H
