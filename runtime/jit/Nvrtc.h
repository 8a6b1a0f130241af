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
/// deviceDir(), then $CUDA_HOME/include when set, else the CUDA headers
/// this build used.
std::vector<std::string> defaultIncludeDirs();

/// The device library's directory (attnc_device.cuh; ../sim beside it), the
/// first of: $ATTNC_DEVICE_DIR; the directory a program built against the
/// installed CMake package was told at its configure time
/// (runtime/jit/PackageLocation.h), when it holds the headers;
/// include/attnc/runtime/device of the install prefix this code runs from
/// (the shared object or program holding it, in <prefix>/lib or
/// <prefix>/bin), when it holds them; else runtime/device of the source
/// tree this library was built from. So an install prefix may be moved.
std::string deviceDir();

/// Records the device directory of the CMake package a program was built
/// against (PackageLocation.h calls it; not meant for other callers).
bool setPackageDeviceDir(const char *dir);

} // namespace attnc::jit

#endif // ATTNC_RUNTIME_JIT_NVRTC_H
