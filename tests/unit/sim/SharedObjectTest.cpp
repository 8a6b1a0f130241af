//===- SharedObjectTest.cpp - A kernel built into a .so, run under sim ----===//
//
// The runtime's sim backend compiles generated source with the host
// compiler into a shared object and loads it. This does the same with
// DevicePrimitives.cu (the flags docs/sim.md gives) and checks the loaded
// kernel against the one linked into this binary. The .so leaves the sim's
// entry points undefined; they resolve against this executable, which
// exports them (ENABLE_EXPORTS).
//
//===----------------------------------------------------------------------===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

using namespace attnc;
using namespace attnc::simtest;

TEST_CASE("a kernel compiled into a shared object runs under sim",
          "[sim][so]") {
  std::string root = std::getenv("ATTNC_SOURCE_DIR")
                         ? std::getenv("ATTNC_SOURCE_DIR")
                         : ATTNC_SOURCE_DIR_DEFAULT;
  char dirTemplate[] = "/tmp/attnc-sim-so-XXXXXX";
  REQUIRE(mkdtemp(dirTemplate) != nullptr);
  std::string dir = dirTemplate, so = dir + "/kernel.so";
  std::string cmd = std::string(ATTNC_HOST_CXX) +
                    " -std=c++17 -O1 -fPIC -shared -DATTNC_SIM -I" + root +
                    "/runtime/device -x c++ " + root +
                    "/tests/unit/sim/DevicePrimitives.cu -o " + so + " 2>&1";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);

  void *handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  INFO((handle ? "" : dlerror()));
  REQUIRE(handle != nullptr);
  using Tile = void (*)(const unsigned short *, const unsigned short *,
                        const unsigned short *, float, float *);
  auto loaded = reinterpret_cast<Tile>(dlsym(handle, "attnc_test_tile_f16"));
  REQUIRE(loaded != nullptr);

  alignas(16) static unsigned short q[256], k[256], v[256];
  std::vector<float> qf = randomFloats(768, 77, -1, 1);
  for (int i = 0; i < 256; ++i) {
    q[i] = refHalfBits(qf[i]);
    k[i] = refHalfBits(qf[256 + i]);
    v[i] = refHalfBits(qf[512 + i]);
  }
  std::vector<float> fromSo(288, std::nanf("")), linked(288, std::nanf(""));
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bq(q, sizeof(q), "q"), bk(k, sizeof(k), "k"),
      bv(v, sizeof(v), "v"), b1(fromSo.data(), 288 * 4, "fromSo"),
      b2(linked.data(), 288 * 4, "linked");
  requireOk(sim::launch("tile_so", dim3(1), dim3(32), 1536, loaded, q, k, v,
                        0.3f, fromSo.data()));
  requireOk(sim::launch("tile_linked", dim3(1), dim3(32), 1536,
                        &attnc_test_tile_f16, q, k, v, 0.3f, linked.data()));
  for (int i = 0; i < 288; ++i) {
    INFO("element " << i);
    CHECK(fromSo[i] == linked[i]);
  }
  dlclose(handle);
  std::remove(so.c_str());
  rmdir(dir.c_str());
}
