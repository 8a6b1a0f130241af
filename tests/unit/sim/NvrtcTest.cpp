//===- NvrtcTest.cpp - DevicePrimitives.cu compiles for sm_80 and sm_90 ---===//
//
// The same source the sim tests run is compiled with NVRTC to a cubin, and
// ptxas's resource report (--ptxas-options=-v, in the program log) is read:
// every kernel must use at most 255 registers and spill nothing. NVRTC only
// compiles here; nothing runs on a GPU.
//
//===----------------------------------------------------------------------===//

#include <catch2/catch.hpp>
#include <nvrtc.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string sourceDir() {
  if (const char *dir = std::getenv("ATTNC_SOURCE_DIR"))
    return dir;
  return ATTNC_SOURCE_DIR_DEFAULT;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct KernelResources {
  int registers = -1;
  int spillStores = -1;
  int spillLoads = -1;
  int stackFrame = -1;
};

struct Compiled {
  nvrtcResult result = NVRTC_ERROR_INTERNAL_ERROR;
  std::string log;
  size_t cubinBytes = 0;
};

Compiled compile(const std::string &source, const std::string &arch) {
  std::string root = sourceDir();
  std::string archFlag = "--gpu-architecture=" + arch;
  std::string deviceInclude = "--include-path=" + root + "/runtime/device";
  std::string cudaInclude = "--include-path=" CUDA_INCLUDE_DIR;
  std::vector<const char *> options = {
      archFlag.c_str(), "--ptxas-options=-v",  "-default-device",
      "--std=c++17",    deviceInclude.c_str(), cudaInclude.c_str(),
  };
  nvrtcProgram prog;
  Compiled out;
  REQUIRE(nvrtcCreateProgram(&prog, source.c_str(), "DevicePrimitives.cu", 0,
                             nullptr, nullptr) == NVRTC_SUCCESS);
  out.result = nvrtcCompileProgram(prog, static_cast<int>(options.size()),
                                   options.data());
  size_t logSize = 0;
  nvrtcGetProgramLogSize(prog, &logSize);
  out.log.assign(logSize, '\0');
  nvrtcGetProgramLog(prog, out.log.data());
  if (out.result == NVRTC_SUCCESS)
    nvrtcGetCUBINSize(prog, &out.cubinBytes);
  nvrtcDestroyProgram(&prog);
  return out;
}

/// Reads ptxas -v's per-entry report:
///   ptxas info    : Compiling entry function 'k' for 'sm_80'
///   ptxas         .     0 bytes stack frame, 0 bytes spill stores, ...
///   ptxas info    : Used 30 registers, ...
std::map<std::string, KernelResources> parseLog(const std::string &log) {
  std::map<std::string, KernelResources> kernels;
  std::regex entry(R"(Compiling entry function '([^']+)')");
  std::regex frame(R"((\d+) bytes stack frame, (\d+) bytes spill stores, )"
                   R"((\d+) bytes spill loads)");
  std::regex used(R"(Used (\d+) registers)");
  std::istringstream lines(log);
  std::string line, current;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, entry)) {
      current = m[1];
      kernels[current];
    } else if (!current.empty() && std::regex_search(line, m, frame)) {
      kernels[current].stackFrame = std::stoi(m[1]);
      kernels[current].spillStores = std::stoi(m[2]);
      kernels[current].spillLoads = std::stoi(m[3]);
    } else if (!current.empty() && std::regex_search(line, m, used)) {
      kernels[current].registers = std::stoi(m[1]);
    }
  }
  return kernels;
}

} // namespace

TEST_CASE("DevicePrimitives.cu compiles with NVRTC without spills",
          "[sim][nvrtc]") {
  std::string source =
      readFile(sourceDir() + "/tests/unit/sim/DevicePrimitives.cu");
  REQUIRE(!source.empty());
  const std::vector<std::string> expected = {
      "attnc_test_mma_f16",         "attnc_test_mma_bf16",
      "attnc_test_fragment_coords", "attnc_test_ldmatrix",
      "attnc_test_cp_async",        "attnc_test_reduce",
      "attnc_test_convert",         "attnc_test_numeric",
      "attnc_test_tile_f16",        "attnc_test_tile_bf16"};

  for (const char *arch : {"sm_80", "sm_90"}) {
    Compiled c = compile(source, arch);
    INFO(arch << " program log:\n" << c.log);
    REQUIRE(c.result == NVRTC_SUCCESS);
    CHECK(c.cubinBytes > 0);
    std::map<std::string, KernelResources> kernels = parseLog(c.log);
    for (const std::string &name : expected) {
      INFO("kernel " << name);
      REQUIRE(kernels.count(name) == 1);
      const KernelResources &k = kernels[name];
      CHECK(k.registers > 0);
      CHECK(k.registers <= 255);
      CHECK(k.spillStores == 0);
      CHECK(k.spillLoads == 0);
      CHECK(k.stackFrame == 0);
      // Show the numbers in the test output (-s) for the record.
      UNSCOPED_INFO(arch << " " << name << ": " << k.registers << " registers");
    }
  }
}

TEST_CASE("the log parser reads ptxas's resource lines", "[sim][nvrtc]") {
  const char *log =
      "ptxas info    : Compiling entry function 'a' for 'sm_90'\n"
      "ptxas info    : Function properties for a\n"
      "ptxas         .     8 bytes stack frame, 4 bytes spill stores, "
      "12 bytes spill loads\n"
      "ptxas info    : Used 255 registers, used 1 barriers\n";
  auto kernels = parseLog(log);
  REQUIRE(kernels.count("a") == 1);
  CHECK(kernels["a"].registers == 255);
  CHECK(kernels["a"].spillStores == 4);
  CHECK(kernels["a"].spillLoads == 12);
  CHECK(kernels["a"].stackFrame == 8);
}
