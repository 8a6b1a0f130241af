//===- CudaTestSupport.h - Shared pieces of the cuda backend tests --------===//
//
// Two drivers run the same scenarios: the fake driver library (FakeCuda.h),
// everywhere, which checks every call attnc makes but runs no kernel; and
// the machine's real driver, in the [gpu] tests, which run kernels and check
// their results. Without a GPU the [gpu] tests say so with a warning and
// pass without checking anything.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_CUDA_CUDATESTSUPPORT_H
#define ATTNC_TESTS_UNIT_CUDA_CUDATESTSUPPORT_H

#include "FakeCuda.h"

#include "runtime/cuda/CudaDriver.h"
#include "tests/unit/Skip.h"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <memory>
#include <string>

/// Requires a Status to be ok, showing its message when it is not.
#define CUDA_REQUIRE_OK(expr)                                                  \
  do {                                                                         \
    ::attnc::Status cudaTestStatus_ = (expr);                                  \
    INFO(cudaTestStatus_.toString());                                          \
    REQUIRE(cudaTestStatus_.ok());                                             \
  } while (false)

namespace attnc::cuda::test {

/// The value of `expected`, failing the test with its message when there is
/// none.
template <typename T> T requireValue(Expected<T> expected) {
  INFO(expected.status().toString());
  REQUIRE(expected.ok());
  return expected.takeValue();
}

/// The fake driver library, reset to `config`; load() gives a CudaDriver
/// over it.
class FakeDriver {
public:
  explicit FakeDriver(const AttncFakeCudaConfig &config = {}) {
    handle = dlopen(ATTNC_FAKE_LIBCUDA, RTLD_NOW | RTLD_LOCAL);
    INFO(ATTNC_FAKE_LIBCUDA);
    REQUIRE(handle != nullptr);
    resetFn = reinterpret_cast<AttncFakeCudaResetFn>(
        dlsym(handle, "attncFakeCudaReset"));
    statsFn = reinterpret_cast<AttncFakeCudaStatsFn>(
        dlsym(handle, "attncFakeCudaStats"));
    REQUIRE(resetFn != nullptr);
    REQUIRE(statsFn != nullptr);
    resetFn(&config);
  }
  ~FakeDriver() { dlclose(handle); }
  FakeDriver(const FakeDriver &) = delete;
  FakeDriver &operator=(const FakeDriver &) = delete;

  static const char *path() { return ATTNC_FAKE_LIBCUDA; }
  Expected<std::unique_ptr<CudaDriver>> load() const {
    return CudaDriver::load(path());
  }
  /// A loaded driver, failing the test if loading fails.
  std::unique_ptr<CudaDriver> driver() const { return requireValue(load()); }
  AttncFakeCudaStats stats() const {
    AttncFakeCudaStats s;
    statsFn(&s);
    return s;
  }

private:
  void *handle = nullptr;
  AttncFakeCudaResetFn resetFn = nullptr;
  AttncFakeCudaStatsFn statsFn = nullptr;
};

/// The machine's driver, or null after reporting the calling [gpu] test
/// as skipped (tests/unit/Skip.h).
inline CudaDriver *gpuDriverOrSkip() {
  Expected<CudaDriver *> driver = CudaDriver::get();
  if (!driver.ok()) {
    WARN(ATTNC_SKIP_MARKER " no CUDA device: " << driver.status().message());
    return nullptr;
  }
  return *driver;
}

/// A 10-line kernel over AttnKernelArgs: o[i] = 2 q[i] + param_dims[0][0]
/// for i < batch, with q and o as float arrays.
inline const char *scaleKernelSource() {
  return R"(#include "kernel_args.h"
extern "C" __global__ void attnc_test_scale(const attnc::AttnKernelArgs args) {
  const float *in = static_cast<const float *>(args.q);
  float *out = static_cast<float *>(args.o);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < args.batch)
    out[i] = 2.0f * in[i] + static_cast<float>(args.param_dims[0][0]);
}
)";
}

/// Uses dynamic shared memory beyond 48 KiB: each block writes its whole
/// allocation, then thread t copies word t * stride back to o (as ints).
inline const char *sharedKernelSource() {
  return R"(#include "kernel_args.h"
extern "C" __global__ void attnc_test_shared(const attnc::AttnKernelArgs args) {
  extern __shared__ int words[];
  int count = args.param_dims[0][0];
  for (int i = threadIdx.x; i < count; i += blockDim.x)
    words[i] = i;
  __syncthreads();
  int stride = count / blockDim.x;
  static_cast<int *>(args.o)[threadIdx.x] = words[threadIdx.x * stride + stride - 1];
}
)";
}

} // namespace attnc::cuda::test

#endif // ATTNC_TESTS_UNIT_CUDA_CUDATESTSUPPORT_H
