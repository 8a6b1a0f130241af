//===- CudaDevice.h - One GPU and its primary context ---------------------===//
//
// A device is selected by index and used through its primary context (the
// one the CUDA runtime uses too, so attnc shares memory and streams with a
// host program built on cudart). Every object that calls the driver on a
// device's behalf (buffers, streams, events, modules) makes that context
// current first, so they may be used from any thread.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CUDA_CUDADEVICE_H
#define ATTNC_RUNTIME_CUDA_CUDADEVICE_H

#include "runtime/cuda/CudaDriver.h"

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace attnc::cuda {

/// What a launcher and the NVRTC target choice need to know about a GPU.
struct DeviceProperties {
  int index = 0;
  std::string name;
  int ccMajor = 0, ccMinor = 0; ///< compute capability
  int smCount = 0;
  /// Shared memory a block may use without opting in (48 KiB on every GPU
  /// attnc targets) and with cuFuncSetAttribute (227 KiB on an H100).
  int maxSharedPerBlock = 0;
  int maxSharedPerBlockOptin = 0;
  /// L2 cache size (50 MiB on an H100): what benchmarks rotate inputs past.
  int l2CacheBytes = 0;
  size_t totalMemory = 0;

  /// "sm_XY" for compute capability X.Y, e.g. "sm_90".
  std::string arch() const;
};

/// Properties of device `index`, read without creating a context.
Expected<DeviceProperties> queryDevice(const CudaDriver &driver, int index);

/// A GPU, holding a reference on its primary context while it lives. Not
/// movable: buffers, streams and modules point at it and must not outlive
/// it.
class CudaDevice {
public:
  /// Device `index` of the process-wide driver (CudaDriver::get()).
  static Expected<std::unique_ptr<CudaDevice>> open(int index = 0);
  /// Device `index` of `driver`, which must outlive the device.
  static Expected<std::unique_ptr<CudaDevice>> open(const CudaDriver &driver,
                                                    int index);

  CudaDevice(const CudaDevice &) = delete;
  CudaDevice &operator=(const CudaDevice &) = delete;
  /// Releases the primary context (the driver destroys it with its memory
  /// when the last reference goes).
  ~CudaDevice();

  /// Makes this device's context current on the calling thread.
  Status makeCurrent() const;

  const DeviceProperties &properties() const { return props; }
  const CudaDriver &driver() const { return *drv; }
  CUcontext context() const { return ctx; }
  CUdevice handle() const { return dev; }

  /// Shorthand for driver().check(...).
  Status check(CUresult result, const std::string &call) const {
    return drv->check(result, call);
  }

private:
  CudaDevice(const CudaDriver &driver, CUdevice dev, CUcontext ctx,
             DeviceProperties props)
      : drv(&driver), dev(dev), ctx(ctx), props(std::move(props)) {}

  const CudaDriver *drv;
  CUdevice dev;
  CUcontext ctx;
  DeviceProperties props;
};

} // namespace attnc::cuda

#endif // ATTNC_RUNTIME_CUDA_CUDADEVICE_H
