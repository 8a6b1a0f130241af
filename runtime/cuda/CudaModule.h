//===- CudaModule.h - A generated kernel, loaded on a device --------------===//
//
// The generated CUDA source is compiled with NVRTC for the device's
// architecture (or an image compiled earlier is loaded, e.g. from an on-disk
// cache), the kernel named by its KernelInfo is looked up, its dynamic shared
// memory limit raised when it needs more than 48 KiB, and it is launched with
// the one argument every attnc kernel takes: AttnKernelArgs, by value.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CUDA_CUDAMODULE_H
#define ATTNC_RUNTIME_CUDA_CUDAMODULE_H

#include "runtime/core/KernelInfo.h"
#include "runtime/cuda/CudaDevice.h"
#include "runtime/device/kernel_args.h"
#include "runtime/jit/Nvrtc.h"

#include <string>
#include <vector>

namespace attnc::cuda {

/// What NVRTC is asked to produce for a device.
struct NvrtcTarget {
  /// "sm_90" for a cubin, or "compute_120" for PTX that the driver compiles
  /// for a device newer than this NVRTC knows.
  std::string arch;
  bool cubin = true;
};

/// The architectures (e.g. 90 for sm_90) the linked NVRTC can compile for.
std::vector<int> nvrtcSupportedArchs();

/// A cubin for sm_XY when `supported` holds XY; else PTX for the highest
/// supported architecture below it, which the driver compiles on load (a GPU
/// newer than the toolkit). CompileError when every supported architecture
/// is newer than the device.
Expected<NvrtcTarget> chooseNvrtcTarget(int ccMajor, int ccMinor,
                                        const std::vector<int> &supported);
/// The same, against nvrtcSupportedArchs().
Expected<NvrtcTarget> chooseNvrtcTarget(const DeviceProperties &device);

/// Compile options beyond the target, which comes from the device.
struct CudaCompileOptions {
  /// Include directories; empty means jit::defaultIncludeDirs() (the device
  /// library and the CUDA headers).
  std::vector<std::string> includeDirs;
  /// Passed to NVRTC as they are, e.g. "-lineinfo".
  std::vector<std::string> extraOptions;
};

/// A loaded module and its kernel. Move-only; unloads the module when it
/// goes. The device must outlive it.
class CudaModule {
public:
  /// Dynamic shared memory a kernel gets without opting in.
  static constexpr int kDefaultSharedLimit = 48 * 1024;

  CudaModule() = default;

  /// Compiles `source` with NVRTC for `device` and loads it.
  static Expected<CudaModule> compile(const CudaDevice &device,
                                      const std::string &source,
                                      const KernelInfo &info,
                                      const CudaCompileOptions &options = {});

  /// What compile() loads: the image NVRTC makes of `source` for `device`
  /// (a cubin, or PTX text ending in NUL), after the same checks. Calls no
  /// driver function, so it may run on any thread.
  struct Image {
    std::vector<char> bytes;
    NvrtcTarget target;
    std::vector<jit::KernelResources> resources;
  };
  static Expected<Image> compileImage(const CudaDevice &device,
                                      const std::string &source,
                                      const KernelInfo &info,
                                      const CudaCompileOptions &options = {});

  /// Loads an image compiled earlier: a cubin for this device's
  /// architecture, or PTX text. CompileError when the driver rejects it
  /// (e.g. a cubin for another architecture).
  static Expected<CudaModule> load(const CudaDevice &device,
                                   const std::vector<char> &image,
                                   const KernelInfo &info);

  CudaModule(CudaModule &&other) noexcept;
  CudaModule &operator=(CudaModule &&other) noexcept;
  CudaModule(const CudaModule &) = delete;
  CudaModule &operator=(const CudaModule &) = delete;
  ~CudaModule() { (void)release(); }

  /// Unloads the module now.
  Status release();

  /// Launches the kernel on `stream` (null: the legacy default stream) with
  /// info().threads threads and info().sharedBytes of dynamic shared memory
  /// per block. A grid with a zero dimension launches nothing and succeeds,
  /// since an empty batch is valid input. Launch errors reported by the
  /// driver at this point (bad configuration, missing resources) come back
  /// as LaunchError; faults while the kernel runs surface at the next
  /// synchronizing call.
  Status launch(const AttnKernelArgs &args, unsigned gridX, unsigned gridY,
                unsigned gridZ, CUstream stream) const;

  const KernelInfo &info() const { return kernel; }
  CUfunction function() const { return fn; }
  /// The image that was loaded: a cubin, or PTX text ending in a NUL. What
  /// a cache writes to disk.
  const std::vector<char> &image() const { return loadedImage; }
  /// The NVRTC target of compile(); an empty arch after load().
  const NvrtcTarget &target() const { return nvrtcTarget; }
  /// ptxas' report (registers, spills, shared memory) when compile() built a
  /// cubin; empty otherwise.
  const std::vector<jit::KernelResources> &resources() const {
    return ptxasReport;
  }

private:
  const CudaDevice *device = nullptr;
  CUmodule module = nullptr;
  CUfunction fn = nullptr;
  KernelInfo kernel;
  std::vector<char> loadedImage;
  NvrtcTarget nvrtcTarget;
  std::vector<jit::KernelResources> ptxasReport;
};

} // namespace attnc::cuda

#endif // ATTNC_RUNTIME_CUDA_CUDAMODULE_H
