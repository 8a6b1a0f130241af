//===- cuda-probe.cpp - Is there a usable CUDA driver, and which GPUs? ----===//
//
// Prints the driver library attnc would use (ATTNC_LIBCUDA or libcuda.so.1),
// how its entry points were found, the driver and NVRTC versions, and each
// device with the NVRTC target attnc compiles for it. Exits 0 when a device
// is usable, 2 when there is no driver or no device (the sim backend's
// case), 1 on any other error.
//
//   attnc-cuda-probe [--library PATH]
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/jit/Nvrtc.h"

#include <cstdio>
#include <cstring>
#include <string>

using namespace attnc;
using namespace attnc::cuda;

namespace {

std::string versionText(int version) {
  return std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

int usage(const char *argv0) {
  std::fprintf(stderr, "usage: %s [--library PATH]\n", argv0);
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  std::string library = CudaDriver::libraryPathFromEnvironment();
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--library") == 0 && i + 1 < argc)
      library = argv[++i];
    else
      return usage(argv[0]);
  }

  std::printf("driver library: %s\n", library.c_str());
  std::printf("NVRTC: %s\n", jit::nvrtcVersion().c_str());
  Expected<std::unique_ptr<CudaDriver>> driver = CudaDriver::load(library);
  if (!driver.ok()) {
    std::printf("status: %s\n", driver.status().toString().c_str());
    return driver.status().code() == ErrorCode::Unavailable ? 2 : 1;
  }
  const CudaDriver &drv = **driver;
  std::printf("status: ok\n");
  std::printf("driver version: %s\n", versionText(drv.driverVersion()).c_str());
  std::printf("entry points: %s\n", drv.resolvedWithGetProcAddress()
                                        ? "cuGetProcAddress"
                                        : "dlsym (some or all)");
  std::printf("devices: %d\n", drv.deviceCount());

  int failures = 0;
  for (int index = 0; index < drv.deviceCount(); ++index) {
    Expected<DeviceProperties> props = queryDevice(drv, index);
    if (!props.ok()) {
      std::printf("  [%d] %s\n", index, props.status().toString().c_str());
      ++failures;
      continue;
    }
    Expected<NvrtcTarget> target = chooseNvrtcTarget(*props);
    std::string targetText =
        target.ok() ? target->arch + (target->cubin ? " (cubin)" : " (PTX)")
                    : target.status().toString();
    std::printf("  [%d] %s, %s, %d SMs, %.1f GiB, L2 %.1f MiB, shared memory "
                "per block %d bytes (%d with opt-in), NVRTC target %s\n",
                index, props->name.c_str(), props->arch().c_str(),
                props->smCount,
                static_cast<double>(props->totalMemory) / (1ull << 30),
                props->l2CacheBytes / 1048576.0, props->maxSharedPerBlock,
                props->maxSharedPerBlockOptin, targetText.c_str());
    // A device whose primary context cannot be created is not usable.
    Expected<std::unique_ptr<CudaDevice>> device = CudaDevice::open(drv, index);
    if (!device.ok()) {
      std::printf("      cannot open: %s\n",
                  device.status().toString().c_str());
      ++failures;
    }
  }
  return failures ? 1 : 0;
}
