//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "runtime/cuda/CudaDriver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace attnc::cuda {

namespace {

/// One entry point: the name cuGetProcAddress takes (the unversioned API
/// name), and the exported names dlsym tries when that is not available.
/// The exported names are the ABI versions cuda.h maps the API name to.
struct Symbol {
  const char *apiName;
  void **slot;
  const char *exported[2];
};

std::vector<Symbol> symbolsOf(DriverApi &api) {
  auto slot = [](auto &fn) { return reinterpret_cast<void **>(&fn); };
  return {
      {"cuGetErrorName", slot(api.getErrorName), {"cuGetErrorName"}},
      {"cuGetErrorString", slot(api.getErrorString), {"cuGetErrorString"}},
      {"cuInit", slot(api.init), {"cuInit"}},
      {"cuDriverGetVersion",
       slot(api.driverGetVersion),
       {"cuDriverGetVersion"}},
      {"cuDeviceGetCount", slot(api.deviceGetCount), {"cuDeviceGetCount"}},
      {"cuDeviceGet", slot(api.deviceGet), {"cuDeviceGet"}},
      {"cuDeviceGetName", slot(api.deviceGetName), {"cuDeviceGetName"}},
      {"cuDeviceGetAttribute",
       slot(api.deviceGetAttribute),
       {"cuDeviceGetAttribute"}},
      {"cuDeviceTotalMem", slot(api.deviceTotalMem), {"cuDeviceTotalMem_v2"}},
      {"cuDevicePrimaryCtxRetain",
       slot(api.devicePrimaryCtxRetain),
       {"cuDevicePrimaryCtxRetain"}},
      {"cuDevicePrimaryCtxRelease",
       slot(api.devicePrimaryCtxRelease),
       {"cuDevicePrimaryCtxRelease_v2"}},
      {"cuCtxSetCurrent", slot(api.ctxSetCurrent), {"cuCtxSetCurrent"}},
      {"cuMemAlloc", slot(api.memAlloc), {"cuMemAlloc_v2"}},
      {"cuMemFree", slot(api.memFree), {"cuMemFree_v2"}},
      {"cuMemcpyHtoD", slot(api.memcpyHtoD), {"cuMemcpyHtoD_v2"}},
      {"cuMemcpyDtoH", slot(api.memcpyDtoH), {"cuMemcpyDtoH_v2"}},
      {"cuMemcpyDtoD", slot(api.memcpyDtoD), {"cuMemcpyDtoD_v2"}},
      {"cuMemcpyDtoDAsync",
       slot(api.memcpyDtoDAsync),
       {"cuMemcpyDtoDAsync_v2"}},
      {"cuMemsetD8", slot(api.memsetD8), {"cuMemsetD8_v2"}},
      {"cuModuleLoadData", slot(api.moduleLoadData), {"cuModuleLoadData"}},
      {"cuModuleUnload", slot(api.moduleUnload), {"cuModuleUnload"}},
      {"cuModuleGetFunction",
       slot(api.moduleGetFunction),
       {"cuModuleGetFunction"}},
      {"cuFuncSetAttribute",
       slot(api.funcSetAttribute),
       {"cuFuncSetAttribute"}},
      {"cuLaunchKernel", slot(api.launchKernel), {"cuLaunchKernel"}},
      {"cuStreamCreate", slot(api.streamCreate), {"cuStreamCreate"}},
      {"cuStreamDestroy", slot(api.streamDestroy), {"cuStreamDestroy_v2"}},
      {"cuStreamSynchronize",
       slot(api.streamSynchronize),
       {"cuStreamSynchronize"}},
      {"cuEventCreate", slot(api.eventCreate), {"cuEventCreate"}},
      {"cuEventRecord", slot(api.eventRecord), {"cuEventRecord"}},
      {"cuEventSynchronize",
       slot(api.eventSynchronize),
       {"cuEventSynchronize"}},
      // Drivers before 12.8 export only the unversioned name, with the same
      // signature.
      {"cuEventElapsedTime",
       slot(api.eventElapsedTime),
       {"cuEventElapsedTime_v2", "cuEventElapsedTime"}},
      {"cuEventDestroy", slot(api.eventDestroy), {"cuEventDestroy_v2"}},
  };
}

const char *const kSimHint = "; the sim backend runs kernels on the CPU";

Status unavailable(const std::string &what) {
  return Status::error(ErrorCode::Unavailable, what + kSimHint);
}

} // namespace

std::string CudaDriver::libraryPathFromEnvironment() {
  const char *path = std::getenv("ATTNC_LIBCUDA");
  return path && *path ? std::string(path) : std::string(kDefaultLibrary);
}

Expected<CudaDriver *> CudaDriver::get() {
  // Thread-safe one-time initialization; a failure is remembered too, so a
  // machine without a driver pays for the dlopen attempt once.
  static Expected<std::unique_ptr<CudaDriver>> loaded =
      load(libraryPathFromEnvironment());
  if (!loaded.ok())
    return loaded.status();
  return loaded->get();
}

Expected<std::unique_ptr<CudaDriver>>
CudaDriver::load(const std::string &path) {
  dlerror();
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    return unavailable("no CUDA driver: " + path + " could not be loaded (" +
                       (reason ? reason : "unknown dlopen error") + ")");
  }

  std::unique_ptr<CudaDriver> driver(new CudaDriver());
  driver->path = path;
  // cuGetProcAddress (CUDA 12+) returns the ABI version matching the
  // header we were compiled against, which is what the table's types
  // describe; dlsym of the versioned export names is the fallback.
  using GetProcAddressFn = decltype(&::cuGetProcAddress);
  auto getProcAddress =
      reinterpret_cast<GetProcAddressFn>(dlsym(handle, "cuGetProcAddress_v2"));
  bool allViaGetProc = getProcAddress != nullptr;
  std::vector<const char *> missing;
  std::vector<Symbol> symbols = symbolsOf(driver->table);
  for (Symbol &symbol : symbols) {
    void *fn = nullptr;
    if (getProcAddress) {
      CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SUCCESS;
      if (getProcAddress(symbol.apiName, &fn, CUDA_VERSION,
                         CU_GET_PROC_ADDRESS_LEGACY_STREAM,
                         &found) != CUDA_SUCCESS ||
          found != CU_GET_PROC_ADDRESS_SUCCESS)
        fn = nullptr;
    }
    if (!fn) {
      allViaGetProc = false;
      for (const char *name : symbol.exported)
        if (name && (fn = dlsym(handle, name)))
          break;
    }
    if (!fn)
      missing.push_back(symbol.apiName);
    *symbol.slot = fn;
  }
  if (!missing.empty()) {
    // Nothing of this library has run yet, so closing it is safe.
    dlclose(handle);
    std::string names;
    for (size_t i = 0; i < missing.size() && i < 4; ++i)
      names += (i ? ", " : "") + std::string(missing[i]);
    if (missing.size() > 4)
      names += ", ...";
    return unavailable("no CUDA driver: " + path +
                       " is not a usable CUDA driver library: it lacks " +
                       std::to_string(missing.size()) + " of the " +
                       std::to_string(symbols.size()) +
                       " entry points attnc needs (" + names + ")");
  }
  driver->viaGetProcAddress = allViaGetProc;

  // From here on the handle is never closed (see the class comment).
  const DriverApi &api = driver->table;
  if (CUresult result = api.init(0); result != CUDA_SUCCESS)
    return unavailable("no CUDA driver: " + path + ": cuInit failed with " +
                       driver->describe(result));
  if (CUresult result = api.driverGetVersion(&driver->version);
      result != CUDA_SUCCESS)
    return unavailable("no CUDA driver: " + path +
                       ": cuDriverGetVersion failed with " +
                       driver->describe(result));
  if (CUresult result = api.deviceGetCount(&driver->devices);
      result != CUDA_SUCCESS)
    return unavailable("no CUDA device: " + path +
                       ": cuDeviceGetCount failed with " +
                       driver->describe(result));
  if (driver->devices <= 0)
    return unavailable("no CUDA device: the driver (" + path +
                       ") reports 0 devices");
  return driver;
}

/// Names of the results that come before a driver is usable, for when the
/// library cannot name them itself (the toolkit's stub library answers every
/// call, cuGetErrorName included, with CUDA_ERROR_STUB_LIBRARY).
static const char *fallbackName(CUresult result) {
  switch (result) {
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED (initialization error)";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY (the CUDA driver is a stub library)";
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
    return "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE (forward compatibility "
           "was attempted on non supported HW)";
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
    return "CUDA_ERROR_DEVICE_UNAVAILABLE (CUDA-capable device is busy or "
           "unavailable)";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)";
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH (the driver library does not "
           "match the kernel driver)";
  default:
    return nullptr;
  }
}

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr;
  if (!table.getErrorName ||
      table.getErrorName(result, &name) != CUDA_SUCCESS || !name) {
    if (const char *known = fallbackName(result))
      return known;
    return "CUresult " + std::to_string(static_cast<int>(result));
  }
  std::string text = name;
  const char *description = nullptr;
  if (table.getErrorString &&
      table.getErrorString(result, &description) == CUDA_SUCCESS && description)
    text += std::string(" (") + description + ")";
  return text;
}

Status CudaDriver::check(CUresult result, const std::string &call) const {
  if (result == CUDA_SUCCESS)
    return Status::success();
  return Status::error(errorCodeFor(result),
                       call + " failed: " + describe(result));
}

ErrorCode errorCodeFor(CUresult result) {
  switch (result) {
  case CUDA_SUCCESS:
    return ErrorCode::Ok;
  case CUDA_ERROR_OUT_OF_MEMORY:
    return ErrorCode::OutOfMemory;
  // A kernel that faulted. These are sticky: every later call in the context
  // returns the same error, whichever call it is.
  case CUDA_ERROR_LAUNCH_FAILED:
  case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES:
  case CUDA_ERROR_LAUNCH_TIMEOUT:
  case CUDA_ERROR_ILLEGAL_ADDRESS:
  case CUDA_ERROR_MISALIGNED_ADDRESS:
  case CUDA_ERROR_ILLEGAL_INSTRUCTION:
  case CUDA_ERROR_INVALID_ADDRESS_SPACE:
  case CUDA_ERROR_INVALID_PC:
  case CUDA_ERROR_HARDWARE_STACK_ERROR:
  case CUDA_ERROR_ASSERT:
    return ErrorCode::LaunchError;
  // An image this device or driver cannot run.
  case CUDA_ERROR_INVALID_IMAGE:
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
  case CUDA_ERROR_INVALID_PTX:
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
  case CUDA_ERROR_JIT_COMPILER_NOT_FOUND:
  case CUDA_ERROR_INVALID_SOURCE:
    return ErrorCode::CompileError;
  case CUDA_ERROR_NOT_FOUND:
    return ErrorCode::NotFound;
  case CUDA_ERROR_NO_DEVICE:
  case CUDA_ERROR_STUB_LIBRARY:
  case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
  case CUDA_ERROR_DEVICE_UNAVAILABLE:
  case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    return ErrorCode::Unavailable;
  default:
    return ErrorCode::BackendError;
  }
}

} // namespace attnc::cuda
