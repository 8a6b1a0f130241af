//===- Registry.h - Kernels compiled ahead of time into a program ---------===//
//
// `attnc_add_kernels` (CMake) runs `attnc --emit=aot` at build time: the
// generated C++ file holds each kernel's CUDA source, its KernelInfo and its
// cubins for the requested architectures, and registers them here when the
// program starts. Runtime::loadAot then serves a kernel without NVRTC: the
// cuda backend loads the cubin for the device's architecture; the sim backend
// builds the source with the host compiler.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_AOT_REGISTRY_H
#define ATTNC_RUNTIME_AOT_REGISTRY_H

#include "runtime/core/KernelInfo.h"

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
};

/// Registers a kernel; generated files call it from static initializers.
struct Registration {
  Registration(const char *source, KernelInfo info, const Image *images,
               size_t numImages);
};

/// The kernel printed for attention block `specName`, or null.
const AotKernel *findKernel(const std::string &specName);
/// Every registered kernel.
std::vector<const AotKernel *> kernels();

} // namespace attnc::aot

#endif // ATTNC_RUNTIME_AOT_REGISTRY_H
