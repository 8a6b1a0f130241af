//===- FakeProcessDriver.h - The fake driver as the process's libcuda -----===//
//
// Runtime::create({backend: cuda}) opens the process-wide driver, which
// honours ATTNC_LIBCUDA on first use. These tests point it at the fake
// driver library (tests/unit/cuda/FakeCuda.h) and steer it through the same
// dlopen'ed instance; they live in their own program so that no other test
// meets the fake.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_API_FAKEPROCESSDRIVER_H
#define ATTNC_TESTS_UNIT_API_FAKEPROCESSDRIVER_H

#include "CudaTestSupport.h"

#include <cstdlib>

namespace attnc::test {

/// Makes the fake the process's driver, reset to `config`.
class FakeProcessDriver : public cuda::test::FakeDriver {
public:
  explicit FakeProcessDriver(const AttncFakeCudaConfig &config)
      : FakeDriver((setenv("ATTNC_LIBCUDA", path(), 1), config)) {
    // The reset forgets cuInit, which the process-wide driver calls only
    // on first use: an earlier test in this process may have made it.
    void *handle = dlopen(path(), RTLD_NOW | RTLD_NOLOAD);
    REQUIRE(handle);
    auto init = reinterpret_cast<int (*)(unsigned)>(dlsym(handle, "cuInit"));
    REQUIRE(init);
    REQUIRE(init(0) == 0);
    dlclose(handle);
  }
};

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_API_FAKEPROCESSDRIVER_H
