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

#include "FakeCuda.h"

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstdlib>

namespace attnc::test {

/// Makes the fake the process's driver, reset to `config`.
class FakeProcessDriver {
public:
  explicit FakeProcessDriver(const AttncFakeCudaConfig &config) {
    REQUIRE(setenv("ATTNC_LIBCUDA", ATTNC_FAKE_LIBCUDA, 1) == 0);
    handle = dlopen(ATTNC_FAKE_LIBCUDA, RTLD_NOW | RTLD_LOCAL);
    REQUIRE(handle);
    auto reset = reinterpret_cast<AttncFakeCudaResetFn>(
        dlsym(handle, "attncFakeCudaReset"));
    statsFn = reinterpret_cast<AttncFakeCudaStatsFn>(
        dlsym(handle, "attncFakeCudaStats"));
    REQUIRE(reset);
    REQUIRE(statsFn);
    reset(&config);
    // The reset forgets cuInit, which the process-wide driver calls only
    // on first use: an earlier test in this process may have made it.
    auto init = reinterpret_cast<int (*)(unsigned)>(dlsym(handle, "cuInit"));
    REQUIRE(init);
    REQUIRE(init(0) == 0);
  }
  ~FakeProcessDriver() { dlclose(handle); }
  FakeProcessDriver(const FakeProcessDriver &) = delete;
  FakeProcessDriver &operator=(const FakeProcessDriver &) = delete;

  AttncFakeCudaStats stats() const {
    AttncFakeCudaStats s;
    statsFn(&s);
    return s;
  }

private:
  void *handle = nullptr;
  AttncFakeCudaStatsFn statsFn = nullptr;
};

} // namespace attnc::test

#endif // ATTNC_TESTS_UNIT_API_FAKEPROCESSDRIVER_H
