//===- Nvrtc.h - Compile generated CUDA with NVRTC ------------------------===//
//
// PTX or a cubin for one architecture, plus ptxas' resource report
// (registers, spills, stack, shared memory) per kernel. Needs no GPU and no
// driver: NVRTC only compiles.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_RUNTIME_JIT_NVRTC_H
#define ATTNC_RUNTIME_JIT_NVRTC_H

#include <string>
#include <vector>

namespace attnc::jit {

/// ptxas' report for one kernel (`--ptxas-options=-v`).
struct KernelResources {
  std::string kernel;
  int registers = -1;
  int spillStoreBytes = -1;
  int spillLoadBytes = -1;
  int stackBytes = -1;
  int staticSharedBytes = 0;
};

struct NvrtcOptions {
  std::string arch = "sm_80"; ///< sm_XX
  bool cubin = true;          ///< a cubin (and the resource report), else PTX
  std::vector<std::string> includeDirs;
  std::vector<std::string> extraOptions;
};

struct NvrtcResult {
  bool ok = false;
  std::string error; ///< what failed, with the compiler's log
  std::string log;   ///< the full program log
  std::string ptx;   ///< when !cubin
  std::vector<char> cubin;
  std::vector<KernelResources> resources;
};

/// Compiles `source` (named `name` in messages).
NvrtcResult compileWithNvrtc(const std::string &source, const std::string &name,
                             const NvrtcOptions &options);

/// Parses ptxas' -v lines in a program log.
std::vector<KernelResources> parsePtxasReport(const std::string &log);

/// Dynamic shared memory a block may opt into on `arch` ("sm_80": 163 KiB,
/// "sm_86"/"sm_89": 99 KiB, "sm_90" and later: 227 KiB; the CUDA C
/// programming guide's table), for checks made without a device.
int maxSharedBytesOptin(const std::string &arch);

/// "major.minor" of the NVRTC library in use.
std::string nvrtcVersion();

/// Where the device headers (runtime/device) and the CUDA headers are:
/// ATTNC_DEVICE_DIR / CUDA_HOME when set, else the paths of this build.
std::vector<std::string> defaultIncludeDirs();

} // namespace attnc::jit

#endif // ATTNC_RUNTIME_JIT_NVRTC_H
