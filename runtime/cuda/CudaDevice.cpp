//===- CudaDevice.cpp - One GPU and its primary context -------------------===//

#include "runtime/cuda/CudaDevice.h"

namespace attnc::cuda {

std::string DeviceProperties::arch() const {
  return "sm_" + std::to_string(ccMajor) + std::to_string(ccMinor);
}

Expected<DeviceProperties> queryDevice(const CudaDriver &driver, int index) {
  const DriverApi &api = driver.api();
  if (index < 0 || index >= driver.deviceCount())
    return Status::error(
        ErrorCode::InvalidArgument,
        "no CUDA device " + std::to_string(index) + ": the driver reports " +
            std::to_string(driver.deviceCount()) + " device(s)");
  CUdevice dev = 0;
  const std::string which = "device " + std::to_string(index);
  if (Status s = driver.check(api.deviceGet(&dev, index),
                              "cuDeviceGet(" + std::to_string(index) + ")");
      !s.ok())
    return s;

  DeviceProperties props;
  props.index = index;
  char name[256] = {};
  if (Status s = driver.check(api.deviceGetName(name, sizeof(name) - 1, dev),
                              "cuDeviceGetName(" + which + ")");
      !s.ok())
    return s;
  props.name = name;

  struct Attribute {
    CUdevice_attribute attribute;
    const char *what;
    int *out;
  } attributes[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability major",
       &props.ccMajor},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability minor",
       &props.ccMinor},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count", &props.smCount},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, "shared memory",
       &props.maxSharedPerBlock},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
       "opt-in shared memory", &props.maxSharedPerBlockOptin},
      {CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, "L2 cache size", &props.l2CacheBytes},
  };
  for (const Attribute &a : attributes)
    if (Status s = driver.check(api.deviceGetAttribute(a.out, a.attribute, dev),
                                std::string("cuDeviceGetAttribute(") + a.what +
                                    ", " + which + ")");
        !s.ok())
      return s;
  if (Status s = driver.check(api.deviceTotalMem(&props.totalMemory, dev),
                              "cuDeviceTotalMem(" + which + ")");
      !s.ok())
    return s;
  return props;
}

Expected<std::unique_ptr<CudaDevice>> CudaDevice::open(int index) {
  Expected<CudaDriver *> driver = CudaDriver::get();
  if (!driver.ok())
    return driver.status();
  return open(**driver, index);
}

Expected<std::unique_ptr<CudaDevice>> CudaDevice::open(const CudaDriver &driver,
                                                       int index) {
  Expected<DeviceProperties> props = queryDevice(driver, index);
  if (!props.ok())
    return props.takeStatus();
  const DriverApi &api = driver.api();
  CUdevice dev = 0;
  if (Status s = driver.check(api.deviceGet(&dev, index), "cuDeviceGet");
      !s.ok())
    return s;
  CUcontext ctx = nullptr;
  if (Status s = driver.check(api.devicePrimaryCtxRetain(&ctx, dev),
                              "cuDevicePrimaryCtxRetain(device " +
                                  std::to_string(index) + ")");
      !s.ok())
    return s;
  std::unique_ptr<CudaDevice> device(
      new CudaDevice(driver, dev, ctx, props.takeValue()));
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device;
}

CudaDevice::~CudaDevice() {
  // A destructor cannot report; a failing release only means the driver is
  // already shutting down.
  (void)drv->api().devicePrimaryCtxRelease(dev);
}

Status CudaDevice::makeCurrent() const {
  // On every launch and copy: build the message only when there is one.
  CUresult result = drv->api().ctxSetCurrent(ctx);
  if (result == CUDA_SUCCESS)
    return Status::success();
  return drv->check(result, "cuCtxSetCurrent(device " +
                                std::to_string(props.index) + ")");
}

} // namespace attnc::cuda
