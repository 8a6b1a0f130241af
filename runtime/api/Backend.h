//===- Backend.h - Where kernels run: the GPU or the sim emulator ---------===//
//
// A backend turns generated CUDA source into something launchable, owns the
// memory tensors live in, and launches. `cuda` compiles with NVRTC for the
// device and loads the cubin through the driver (libcuda is opened with
// dlopen); `sim` builds the same source with the host compiler and runs it
// on the SIMT emulator in host memory.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_API_BACKEND_H
#define ATTNC_RUNTIME_API_BACKEND_H

#include "runtime/core/KernelInfo.h"
#include "runtime/core/Status.h"
#include "runtime/core/Tensor.h"
#include "runtime/device/kernel_args.h"

#include <memory>
#include <string>
#include <vector>

namespace attnc {

/// A kernel loaded on a backend.
class LoadedKernel {
public:
  virtual ~LoadedKernel() = default;
  /// Runs `args` over grid (gridX, heads, batch).
  virtual Status launch(const AttnKernelArgs &args, unsigned gridX,
                        void *stream) = 0;
  /// Split-KV kernels: runs the merge kernel over grid (gridX).
  virtual Status launchMerge(const AttnKernelArgs &args, unsigned gridX,
                             void *stream) = 0;
  /// Cascade kernels (KernelInfo::qPositions): runs the merge of a prefix
  /// launch's (O, LSE) into a suffix launch's over grid (gridX).
  virtual Status launchCascadeMerge(const AttnKernelArgs &args, unsigned gridX,
                                    void *stream) = 0;
  /// Kernels with a runtime block mask: runs the pre-pass that builds it
  /// over grid (gridX, KernelInfo::blockMaskHeads, batch).
  virtual Status launchBlockMask(const AttnKernelArgs &args, unsigned gridX,
                                 void *stream) = 0;
};

/// Times the work submitted to a stream between start() and stop(), by the
/// backend's clock: CUDA events on a GPU (device time, without the host's
/// launch overhead), the host clock under sim (launches are synchronous).
class StreamTimer {
public:
  virtual ~StreamTimer() = default;
  virtual Status start(void *stream) = 0;
  virtual Status stop(void *stream) = 0;
  /// Milliseconds between the last start() and stop(), waiting for the work
  /// before stop() to finish first.
  virtual Expected<double> elapsedMs() = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  /// "sim", "cuda".
  virtual const char *name() const = 0;
  /// A sentence for people: what runs kernels here.
  virtual std::string describe() const = 0;
  /// Where tensors passed to launch() must live.
  virtual MemoryKind memoryKind() const = 0;
  /// What the compiled code depends on besides the source (architecture,
  /// compiler version): part of every cache key.
  virtual std::string cacheTag() const = 0;
  /// Multiprocessors to fill (split-KV sizes its grid by it).
  virtual int multiprocessorCount() const = 0;
  /// The architecture a compiled image must target ("sm_90"), or empty when
  /// the backend runs source (sim).
  virtual std::string architecture() const = 0;
  /// Loads a kernel compiled ahead of time for architecture().
  virtual Expected<std::unique_ptr<LoadedKernel>>
  loadImage(const std::vector<char> &image, const KernelInfo &info) = 0;
  /// Compiles (or finds in the cache) and loads `source`'s kernel `info`.
  virtual Expected<std::unique_ptr<LoadedKernel>>
  load(const std::string &source, const KernelInfo &info) = 0;
  /// Compiles `source` into the kernel cache without loading it, so that a
  /// later load() is a cache hit. Thread-safe: callers compile many
  /// kernels at once (the tuner's workers).
  virtual Status precompile(const std::string &source,
                            const KernelInfo &info) = 0;

  // Memory in the backend's kind, for tensors the caller stages.
  /// `name` says what the memory holds (sim's checked mode names it when
  /// a kernel strays out of it).
  virtual Expected<void *> allocate(size_t bytes,
                                    const std::string &name = "buffer") = 0;
  virtual void release(void *ptr) = 0;
  virtual Status copyIn(void *dst, const void *hostSrc, size_t bytes) = 0;
  virtual Status copyOut(void *hostDst, const void *src, size_t bytes) = 0;
  virtual Status synchronize(void *stream) = 0;

  /// A timer on this backend's clock.
  virtual Expected<std::unique_ptr<StreamTimer>> createTimer() = 0;
  /// Bytes of cache between kernels and memory that a timing loop must
  /// rotate its inputs past to time reads from memory: the GPU's L2; 0
  /// under sim, which models no cache.
  virtual size_t cacheBytes() const = 0;
};

/// The sim backend; `cacheDir` empty means the default cache directory.
Expected<std::unique_ptr<Backend>>
createSimBackend(const std::string &cacheDir);

/// The cuda backend on device `device`: Unavailable (with the reason) when
/// there is no driver or no such device.
Expected<std::unique_ptr<Backend>>
createCudaBackend(int device, const std::string &cacheDir);

} // namespace attnc

#endif // ATTNC_RUNTIME_API_BACKEND_H
