//===- DriverLoadTest.cpp - Finding, or not finding, the CUDA driver ------===//

#include "CudaTestSupport.h"

#include "runtime/cuda/CudaDevice.h"

#include <cstdlib>

using namespace attnc;
using namespace attnc::cuda;
using namespace attnc::cuda::test;

namespace {

/// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      saved = old;
    hadValue = std::getenv(name) != nullptr;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (hadValue)
      setenv(name, saved.c_str(), 1);
    else
      unsetenv(name);
  }

private:
  const char *name;
  std::string saved;
  bool hadValue = false;
};

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

const std::string kSimHint = "; the sim backend runs kernels on the CPU";

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

TEST_CASE("get() without a loadable driver is Unavailable and says why",
          "[cuda][driver]") {
  Expected<CudaDriver *> driver = CudaDriver::get();
  const std::string path = CudaDriver::libraryPathFromEnvironment();
  // Whether this machine has a driver, asked of the dynamic linker directly.
  void *probe = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!probe) {
    REQUIRE_FALSE(driver.ok());
    CHECK(driver.status().code() == ErrorCode::Unavailable);
    const std::string &message = driver.status().message();
    INFO(message);
    CHECK(message.rfind("no CUDA driver: " + path + " could not be loaded (",
                        0) == 0);
    CHECK(contains(message, path)); // dlerror names the file
    CHECK(endsWith(message, kSimHint));
    // Opening a device goes through the same driver and fails the same way.
    Expected<std::unique_ptr<CudaDevice>> device = CudaDevice::open(0);
    REQUIRE_FALSE(device.ok());
    CHECK(device.status().message() == message);
  } else {
    dlclose(probe);
    if (driver.ok())
      CHECK((*driver)->deviceCount() >= 1);
    else
      CHECK(driver.status().code() == ErrorCode::Unavailable);
  }
  // The first answer is kept.
  Expected<CudaDriver *> again = CudaDriver::get();
  CHECK(again.ok() == driver.ok());
  if (driver.ok())
    CHECK(*again == *driver);
  else
    CHECK(again.status().message() == driver.status().message());
}

TEST_CASE("ATTNC_LIBCUDA chooses the driver library", "[cuda][driver]") {
  {
    ScopedEnv env("ATTNC_LIBCUDA", nullptr);
    CHECK(CudaDriver::libraryPathFromEnvironment() == "libcuda.so.1");
  }
  {
    ScopedEnv env("ATTNC_LIBCUDA", "");
    CHECK(CudaDriver::libraryPathFromEnvironment() == "libcuda.so.1");
  }
  {
    ScopedEnv env("ATTNC_LIBCUDA", "/nonexistent/dir/libcuda.so.1");
    CHECK(CudaDriver::libraryPathFromEnvironment() ==
          "/nonexistent/dir/libcuda.so.1");
  }
}

TEST_CASE("a driver path that does not exist is Unavailable",
          "[cuda][driver]") {
  Expected<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::load("/nonexistent/dir/libcuda.so.1");
  REQUIRE_FALSE(driver.ok());
  CHECK(driver.status().code() == ErrorCode::Unavailable);
  const std::string &message = driver.status().message();
  INFO(message);
  CHECK(message.rfind("no CUDA driver: /nonexistent/dir/libcuda.so.1 could "
                      "not be loaded (",
                      0) == 0);
  CHECK(contains(message, "No such file or directory"));
  CHECK(endsWith(message, kSimHint));
}

TEST_CASE("a library that is not a driver is Unavailable, naming what it "
          "lacks",
          "[cuda][driver]") {
  Expected<std::unique_ptr<CudaDriver>> driver = CudaDriver::load("libm.so.6");
  REQUIRE_FALSE(driver.ok());
  CHECK(driver.status().code() == ErrorCode::Unavailable);
  const std::string &message = driver.status().message();
  INFO(message);
  CHECK(contains(message, "libm.so.6 is not a usable CUDA driver library"));
  CHECK(contains(message, "it lacks 32 of the 32 entry points"));
  CHECK(contains(message, "(cuGetErrorName, cuGetErrorString, cuInit, "));
  CHECK(endsWith(message, kSimHint));
  // Loading it again behaves the same (the failed load closed its handle).
  Expected<std::unique_ptr<CudaDriver>> again = CudaDriver::load("libm.so.6");
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message() == message);
}

TEST_CASE("the toolkit's stub libcuda is reported as a stub",
          "[cuda][driver]") {
  // The stub is for linking; loaded at run time its cuInit fails.
  void *probe = dlopen(ATTNC_CUDA_STUB_LIBCUDA, RTLD_NOW | RTLD_LOCAL);
  if (!probe) {
    ATTNC_SKIP("no stub library at " ATTNC_CUDA_STUB_LIBCUDA);
  }
  dlclose(probe);
  Expected<std::unique_ptr<CudaDriver>> driver =
      CudaDriver::load(ATTNC_CUDA_STUB_LIBCUDA);
  REQUIRE_FALSE(driver.ok());
  CHECK(driver.status().code() == ErrorCode::Unavailable);
  const std::string &message = driver.status().message();
  INFO(message);
  CHECK(message.rfind("no CUDA driver: " ATTNC_CUDA_STUB_LIBCUDA
                      ": cuInit failed with CUDA_ERROR_STUB_LIBRARY",
                      0) == 0);
  CHECK(endsWith(message, kSimHint));
}

TEST_CASE("a driver is found through cuGetProcAddress", "[cuda][driver]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  CHECK(driver->libraryPath() == FakeDriver::path());
  CHECK(driver->resolvedWithGetProcAddress());
  CHECK(driver->driverVersion() == CUDA_VERSION);
  CHECK(driver->deviceCount() == 1);
  CHECK(fake.stats().initCalls == 1);
}

TEST_CASE("a driver without cuGetProcAddress is found with dlsym",
          "[cuda][driver]") {
  AttncFakeCudaConfig config;
  config.getProcAddressWorks = false;
  FakeDriver fake(config);
  std::unique_ptr<CudaDriver> driver = fake.driver();
  CHECK_FALSE(driver->resolvedWithGetProcAddress());
  // Every entry point works: the versioned exports were found.
  auto device = requireValue(CudaDevice::open(*driver, 0));
  CHECK(device->properties().name == "attnc fake device 0");
}

TEST_CASE("a failing cuInit is Unavailable, naming the result",
          "[cuda][driver]") {
  AttncFakeCudaConfig config;
  config.initResult = CUDA_ERROR_NO_DEVICE;
  FakeDriver fake(config);
  Expected<std::unique_ptr<CudaDriver>> driver = fake.load();
  REQUIRE_FALSE(driver.ok());
  CHECK(driver.status().code() == ErrorCode::Unavailable);
  CHECK(driver.status().message() ==
        "no CUDA driver: " + std::string(FakeDriver::path()) +
            ": cuInit failed with CUDA_ERROR_NO_DEVICE (no CUDA-capable device "
            "is detected)" +
            kSimHint);
}

TEST_CASE("a driver with no device is Unavailable", "[cuda][driver]") {
  AttncFakeCudaConfig config;
  config.deviceCount = 0;
  FakeDriver fake(config);
  Expected<std::unique_ptr<CudaDriver>> driver = fake.load();
  REQUIRE_FALSE(driver.ok());
  CHECK(driver.status().code() == ErrorCode::Unavailable);
  CHECK(driver.status().message() == "no CUDA device: the driver (" +
                                         std::string(FakeDriver::path()) +
                                         ") reports 0 devices" + kSimHint);
}

TEST_CASE("failed driver calls name the call and the result",
          "[cuda][driver]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  CHECK(driver->check(CUDA_SUCCESS, "cuMemAlloc").ok());
  Status oom = driver->check(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(1 bytes)");
  CHECK(oom.code() == ErrorCode::OutOfMemory);
  CHECK(oom.message() ==
        "cuMemAlloc(1 bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  // A result this driver cannot name.
  Status odd = driver->check(static_cast<CUresult>(12345), "cuSomething");
  CHECK(odd.code() == ErrorCode::BackendError);
  CHECK(odd.message() == "cuSomething failed: CUresult 12345");

  CHECK(errorCodeFor(CUDA_ERROR_ILLEGAL_ADDRESS) == ErrorCode::LaunchError);
  CHECK(errorCodeFor(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES) ==
        ErrorCode::LaunchError);
  CHECK(errorCodeFor(CUDA_ERROR_NO_BINARY_FOR_GPU) == ErrorCode::CompileError);
  CHECK(errorCodeFor(CUDA_ERROR_UNSUPPORTED_PTX_VERSION) ==
        ErrorCode::CompileError);
  CHECK(errorCodeFor(CUDA_ERROR_NOT_FOUND) == ErrorCode::NotFound);
  CHECK(errorCodeFor(CUDA_ERROR_STUB_LIBRARY) == ErrorCode::Unavailable);
  CHECK(errorCodeFor(CUDA_ERROR_INVALID_VALUE) == ErrorCode::BackendError);
}

TEST_CASE("device properties come from the driver", "[cuda][driver]") {
  AttncFakeCudaConfig config;
  config.deviceCount = 2;
  config.ccMajor = 8;
  config.ccMinor = 6;
  config.smCount = 84;
  config.sharedOptin = 101376;
  FakeDriver fake(config);
  std::unique_ptr<CudaDriver> driver = fake.driver();
  CHECK(driver->deviceCount() == 2);
  DeviceProperties props = requireValue(queryDevice(*driver, 1));
  CHECK(props.index == 1);
  CHECK(props.name == "attnc fake device 1");
  CHECK(props.arch() == "sm_86");
  CHECK(props.smCount == 84);
  CHECK(props.maxSharedPerBlock == 48 * 1024);
  CHECK(props.maxSharedPerBlockOptin == 101376);
  CHECK(props.totalMemory == config.memoryBytes);

  Expected<DeviceProperties> missing = queryDevice(*driver, 2);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == ErrorCode::InvalidArgument);
  CHECK(missing.status().message() ==
        "no CUDA device 2: the driver reports 2 device(s)");
  CHECK(CudaDevice::open(*driver, -1).status().code() ==
        ErrorCode::InvalidArgument);

  {
    auto device = requireValue(CudaDevice::open(*driver, 1));
    CHECK(device->properties().arch() == "sm_86");
    CHECK(fake.stats().primaryContextRefs == 1);
  }
  // The device released its primary context.
  CHECK(fake.stats().primaryContextRefs == 0);
}
