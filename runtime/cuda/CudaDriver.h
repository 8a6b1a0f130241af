//===- CudaDriver.h - The CUDA driver API, loaded at run time -------------===//
//
// attnc never links libcuda: a machine without a GPU (every CI machine) must
// still build, load and run the compiler and the sim backend. The driver
// library is opened with dlopen on first use and every entry point is called
// through a table of function pointers. cuda.h is included for its types
// (CUresult, CUdeviceptr, ...) only; the table's pointer types are taken from
// its declarations with decltype, which references no symbol.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_CUDA_CUDADRIVER_H
#define ATTNC_RUNTIME_CUDA_CUDADRIVER_H

#include "runtime/core/Status.h"

#include <cuda.h>

#include <memory>
#include <string>

namespace attnc::cuda {

/// The driver entry points attnc uses. Each member has the type of the
/// cuda.h declaration it stands for; cuda.h maps several names to a
/// versioned ABI (cuMemAlloc is cuMemAlloc_v2), and the loader resolves the
/// same version.
struct DriverApi {
  decltype(&::cuGetErrorName) getErrorName = nullptr;
  decltype(&::cuGetErrorString) getErrorString = nullptr;
  decltype(&::cuInit) init = nullptr;
  decltype(&::cuDriverGetVersion) driverGetVersion = nullptr;
  decltype(&::cuDeviceGetCount) deviceGetCount = nullptr;
  decltype(&::cuDeviceGet) deviceGet = nullptr;
  decltype(&::cuDeviceGetName) deviceGetName = nullptr;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute = nullptr;
  decltype(&::cuDeviceTotalMem) deviceTotalMem = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) devicePrimaryCtxRetain = nullptr;
  decltype(&::cuDevicePrimaryCtxRelease) devicePrimaryCtxRelease = nullptr;
  decltype(&::cuCtxSetCurrent) ctxSetCurrent = nullptr;
  decltype(&::cuMemAlloc) memAlloc = nullptr;
  decltype(&::cuMemFree) memFree = nullptr;
  decltype(&::cuMemcpyHtoD) memcpyHtoD = nullptr;
  decltype(&::cuMemcpyDtoH) memcpyDtoH = nullptr;
  decltype(&::cuMemcpyDtoD) memcpyDtoD = nullptr;
  decltype(&::cuMemcpyDtoDAsync) memcpyDtoDAsync = nullptr;
  decltype(&::cuMemsetD8) memsetD8 = nullptr;
  decltype(&::cuModuleLoadData) moduleLoadData = nullptr;
  decltype(&::cuModuleUnload) moduleUnload = nullptr;
  decltype(&::cuModuleGetFunction) moduleGetFunction = nullptr;
  decltype(&::cuFuncSetAttribute) funcSetAttribute = nullptr;
  decltype(&::cuLaunchKernel) launchKernel = nullptr;
  decltype(&::cuStreamCreate) streamCreate = nullptr;
  decltype(&::cuStreamDestroy) streamDestroy = nullptr;
  decltype(&::cuStreamSynchronize) streamSynchronize = nullptr;
  decltype(&::cuEventCreate) eventCreate = nullptr;
  decltype(&::cuEventRecord) eventRecord = nullptr;
  decltype(&::cuEventSynchronize) eventSynchronize = nullptr;
  decltype(&::cuEventElapsedTime) eventElapsedTime = nullptr;
  decltype(&::cuEventDestroy) eventDestroy = nullptr;
};

/// A loaded and initialized CUDA driver with at least one device.
///
/// The library stays loaded for the life of the process once cuInit has run:
/// the driver starts threads and registers handlers that outlive any handle,
/// so unloading it is never safe.
class CudaDriver {
public:
  /// The library name dlopen looks for when ATTNC_LIBCUDA is not set.
  static constexpr const char *kDefaultLibrary = "libcuda.so.1";

  /// The process-wide driver: loaded from libraryPathFromEnvironment() on
  /// the first call, and the same result (driver or error) afterwards.
  /// Unavailable when the library cannot be loaded, lacks the entry points,
  /// cuInit fails or there is no device; the message says which.
  static Expected<CudaDriver *> get();

  /// Loads and initializes the driver library at `path` (a file name for the
  /// dynamic linker's search, or a path). Each call returns a new table; the
  /// library itself is shared with every other handle of it. For the probe
  /// and for tests; everything else uses get().
  static Expected<std::unique_ptr<CudaDriver>> load(const std::string &path);

  /// ATTNC_LIBCUDA when it is set and not empty, else kDefaultLibrary.
  static std::string libraryPathFromEnvironment();

  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;

  /// The entry points, all non-null.
  const DriverApi &api() const { return table; }

  /// The path given to load().
  const std::string &libraryPath() const { return path; }
  /// True when every entry point came from cuGetProcAddress (drivers from
  /// CUDA 12 on), false when some were found with dlsym.
  bool resolvedWithGetProcAddress() const { return viaGetProcAddress; }
  /// cuDriverGetVersion: 1000 * major + 10 * minor, e.g. 13000.
  int driverVersion() const { return version; }
  /// cuDeviceGetCount at load time; at least 1.
  int deviceCount() const { return devices; }

  /// Success for CUDA_SUCCESS; otherwise an error whose message names `call`
  /// and the result: "cuMemAlloc(4096 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY
  /// (out of memory)". The code follows the result: OutOfMemory, LaunchError
  /// for faults of a kernel, CompileError for an image the device cannot
  /// run, NotFound, Unavailable, else BackendError.
  Status check(CUresult result, const std::string &call) const;

  /// "CUDA_ERROR_X (description)", or "CUresult N" when the driver does not
  /// know the value.
  std::string describe(CUresult result) const;

private:
  CudaDriver() = default;

  DriverApi table;
  std::string path;
  bool viaGetProcAddress = false;
  int version = 0;
  int devices = 0;
};

/// The ErrorCode a failed driver call maps to (see CudaDriver::check).
ErrorCode errorCodeFor(CUresult result);

} // namespace attnc::cuda

#endif // ATTNC_RUNTIME_CUDA_CUDADRIVER_H
