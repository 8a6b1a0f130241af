//===- GeneratedRaceTest.cpp - The race detector on a generated kernel ----===//
//
// GeneratedAlibi.cu is what `attnc examples/alibi.attn --emit=cuda` prints:
// a double-buffered FA-2 kernel whose K and V tiles arrive by cp.async. The
// test numbers its __syncthreads() and cp.async waits, guards each with a
// run-time switch, compiles the source for sim into a shared object (as the
// sim backend does) and runs it once per site with that one statement left
// out. Each run must fail with DataRace: the kernel has no barrier that
// orders nothing (the first K load, before any shared-memory access, has
// none).
//
//===----------------------------------------------------------------------===//

#include "SimTestSupport.h"
#include "kernel_args.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace attnc;
using namespace attnc::simtest;

namespace {

std::string sourceRoot() {
  const char *root = std::getenv("ATTNC_SOURCE_DIR");
  return root ? root : ATTNC_SOURCE_DIR_DEFAULT;
}

struct Site {
  int line;
  std::string statement;
};

/// Prefixes each __syncthreads() and cp.async wait statement of `source`
/// with `if (attnc_race_skip != i)`, i counting from 0 in source order.
std::string guardSites(const std::string &source, std::vector<Site> &sites) {
  std::istringstream in(source);
  std::string out = "extern \"C\" { int attnc_race_skip = -1; }\n", line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t start = line.find_first_not_of(' ');
    std::string stmt = start == std::string::npos ? "" : line.substr(start);
    if (stmt == "__syncthreads();" ||
        stmt.rfind("attnc::dev::cpAsyncWait<", 0) == 0) {
      line.insert(start, "if (attnc_race_skip != " +
                             std::to_string(sites.size()) + ") ");
      sites.push_back({number, stmt});
    }
    out += line + "\n";
  }
  return out;
}

std::vector<uint16_t> randomHalves(size_t n, uint32_t seed) {
  std::vector<float> f = randomFloats(n, seed, -1, 1);
  std::vector<uint16_t> h(n);
  for (size_t i = 0; i < n; ++i)
    h[i] = refHalfBits(f[i]);
  return h;
}

} // namespace

TEST_CASE("leaving out any barrier or wait of a generated kernel is a race",
          "[sim][race][so]") {
  std::ifstream file(sourceRoot() + "/tests/unit/sim/GeneratedAlibi.cu");
  REQUIRE(file);
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::vector<Site> sites;
  std::string source = guardSites(buffer.str(), sites);
  REQUIRE(sites.size() == 7); // 4 barriers, 3 waits

  char dirTemplate[] = "/tmp/attnc-sim-race-XXXXXX";
  REQUIRE(mkdtemp(dirTemplate) != nullptr);
  std::string dir = dirTemplate, cu = dir + "/alibi.cu", so = dir + "/alibi.so";
  std::ofstream(cu) << source;
  std::string cmd = std::string(ATTNC_HOST_CXX) +
                    " -std=c++17 -O1 -fPIC -shared -DATTNC_SIM -I" +
                    sourceRoot() + "/runtime/device -x c++ " + cu + " -o " +
                    so + " 2>&1";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  void *handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  INFO((handle ? "" : dlerror()));
  REQUIRE(handle != nullptr);
  using Kernel = void (*)(const AttnKernelArgs);
  auto kernel = reinterpret_cast<Kernel>(dlsym(handle, "attnc_mpt_7b_alibi"));
  auto *skip = static_cast<int *>(dlsym(handle, "attnc_race_skip"));
  REQUIRE(kernel != nullptr);
  REQUIRE(skip != nullptr);

  // One sequence of 64 queries and 192 keys: three KV tiles, so the loop
  // refills each buffer after another iteration read it. Two heads of the
  // kernel's 32 run (blockIdx.y).
  const int heads = 32, d = 128, qLen = 64, kvLen = 192;
  std::vector<uint16_t> q = randomHalves(size_t(qLen) * heads * d, 1),
                        k = randomHalves(size_t(kvLen) * heads * d, 2),
                        v = randomHalves(size_t(kvLen) * heads * d, 3),
                        o(q.size(), 0xffff);
  std::vector<float> lse(size_t(qLen) * heads), slope(heads, 0.0625f);
  std::vector<int> qoIndptr = {0, qLen}, kvIndptr = {0, kvLen};
  sim::ScopedBuffer bq(q.data(), q.size() * 2, "q"),
      bk(k.data(), k.size() * 2, "k"), bv(v.data(), v.size() * 2, "v"),
      bo(o.data(), o.size() * 2, "o"), bl(lse.data(), lse.size() * 4, "lse"),
      bs(slope.data(), slope.size() * 4, "slope"),
      bqi(qoIndptr.data(), 8, "qo_indptr"), bki(kvIndptr.data(), 8, "kv");
  AttnKernelArgs args{};
  args.q = q.data();
  args.o = o.data();
  args.lse = lse.data();
  args.qo_indptr = qoIndptr.data();
  args.k = k.data();
  args.v = v.data();
  args.kv_indptr = kvIndptr.data();
  args.batch = 1;
  args.params[0] = slope.data();
  args.param_dims[0][0] = heads;

  sim::ScopedOptions opts(checkedOptions());
  auto run = [&](int site) {
    *skip = site;
    return sim::launch("attnc_mpt_7b_alibi", dim3(1, 2, 1), dim3(128), 34816,
                       kernel, args);
  };
  requireOk(run(-1));
  for (int h = 0; h < 2; ++h)
    for (int r = 0; r < qLen; ++r) {
      INFO("head " << h << " row " << r);
      REQUIRE(std::isfinite(refHalfToFloat(o[(size_t(r) * heads + h) * d])));
    }

  for (size_t i = 0; i < sites.size(); ++i) {
    INFO("without line " << sites[i].line << ": " << sites[i].statement);
    sim::LaunchStatus s = run(static_cast<int>(i));
    INFO(s.message);
    CHECK(s.error == sim::LaunchError::DataRace);
    CHECK_THAT(s.message, Catch::Contains("shared-memory race at offset "));
  }
  dlclose(handle);
  std::remove(so.c_str());
  std::remove(cu.c_str());
  rmdir(dir.c_str());
}
