//===- Nvrtc.cpp - Compile generated CUDA with NVRTC ----------------------===//
#include "runtime/jit/Nvrtc.h"
#include "runtime/core/KernelInfo.h"

#include <nvrtc.h>

#include <dlfcn.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <sstream>

using namespace attnc::jit;

std::vector<KernelResources>
attnc::jit::parsePtxasReport(const std::string &log) {
  // ptxas info    : Compiling entry function 'k' for 'sm_90'
  // ptxas info    : Function properties for k
  //     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
  // ptxas info    : Used 168 registers, used 1 barriers, 640 bytes cmem[0]
  static const std::regex entry(R"(Compiling entry function '([^']+)')");
  static const std::regex frame(
      R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex used(R"(Used (\d+) registers)");
  static const std::regex smem(R"((\d+) bytes smem)");
  std::vector<KernelResources> out;
  std::istringstream in(log);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, entry)) {
      out.push_back({});
      out.back().kernel = m[1];
      continue;
    }
    if (out.empty())
      continue;
    KernelResources &k = out.back();
    if (std::regex_search(line, m, frame)) {
      k.stackBytes = std::stoi(m[1]);
      k.spillStoreBytes = std::stoi(m[2]);
      k.spillLoadBytes = std::stoi(m[3]);
    }
    if (std::regex_search(line, m, used))
      k.registers = std::stoi(m[1]);
    if (std::regex_search(line, m, smem))
      k.staticSharedBytes = std::stoi(m[1]);
  }
  return out;
}

std::string attnc::jit::nvrtcVersion() {
  int major = 0, minor = 0;
  ::nvrtcVersion(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

namespace {
std::mutex packageDirMutex;
std::string &packageDir() {
  static std::string dir;
  return dir;
}

/// Whether `dir` holds the device library.
bool holdsDeviceLibrary(const std::string &dir) {
  struct stat st;
  return !dir.empty() && stat((dir + "/attnc_device.cuh").c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

/// <prefix>/include/attnc/runtime/device for the file `binary` in
/// <prefix>/bin or <prefix>/lib (or lib64, lib/<multiarch>), when it holds
/// the device library.
std::string installedBeside(const std::string &binary) {
  char resolved[PATH_MAX];
  if (binary.empty() || !realpath(binary.c_str(), resolved))
    return "";
  std::string dir = resolved;
  for (int up = 0; up < 3; ++up) {
    size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0)
      return "";
    dir.resize(slash);
    std::string candidate = dir + "/include/attnc/runtime/device";
    if (holdsDeviceLibrary(candidate))
      return candidate;
  }
  return "";
}
} // namespace

bool attnc::jit::setPackageDeviceDir(const char *dir) {
  std::lock_guard<std::mutex> lock(packageDirMutex);
  packageDir() = dir ? dir : "";
  return true;
}

std::string attnc::jit::deviceDir() {
  if (const char *env = std::getenv("ATTNC_DEVICE_DIR"); env && *env)
    return env;
  {
    std::lock_guard<std::mutex> lock(packageDirMutex);
    if (holdsDeviceLibrary(packageDir()))
      return packageDir();
  }
  // The shared object holding this code, then the program.
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&attnc::jit::deviceDir), &info) &&
      info.dli_fname)
    if (std::string dir = installedBeside(info.dli_fname); !dir.empty())
      return dir;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    if (std::string dir = installedBeside(exe); !dir.empty())
      return dir;
  }
  return ATTNC_DEVICE_DIR;
}

std::vector<std::string> attnc::jit::defaultIncludeDirs() {
  std::vector<std::string> dirs;
  dirs.push_back(deviceDir());
  const char *cuda = std::getenv("CUDA_HOME");
  dirs.push_back(cuda ? std::string(cuda) + "/include"
                      : ATTNC_CUDA_INCLUDE_DIR);
  return dirs;
}

namespace {

NvrtcResult compileOnce(const std::string &source, const std::string &name,
                        const NvrtcOptions &options) {
  NvrtcResult result;
  nvrtcProgram program;
  nvrtcResult status = nvrtcCreateProgram(&program, source.c_str(),
                                          name.c_str(), 0, nullptr, nullptr);
  if (status != NVRTC_SUCCESS) {
    result.error =
        std::string("nvrtcCreateProgram: ") + nvrtcGetErrorString(status);
    return result;
  }
  std::vector<std::string> args = {
      "--std=c++17", "--gpu-architecture=" + options.arch, "-default-device"};
  if (options.cubin)
    args.push_back("--ptxas-options=-v");
  for (const std::string &dir : options.includeDirs)
    args.push_back("--include-path=" + dir);
  for (const std::string &extra : options.extraOptions)
    args.push_back(extra);
  std::vector<const char *> argv;
  for (const std::string &a : args)
    argv.push_back(a.c_str());
  status =
      nvrtcCompileProgram(program, static_cast<int>(argv.size()), argv.data());
  size_t logSize = 0;
  nvrtcGetProgramLogSize(program, &logSize);
  result.log.resize(logSize);
  if (logSize)
    nvrtcGetProgramLog(program, result.log.data());
  while (!result.log.empty() && result.log.back() == '\0')
    result.log.pop_back();
  if (status != NVRTC_SUCCESS) {
    result.error = "NVRTC could not compile " + name + " for " + options.arch +
                   " (" + nvrtcGetErrorString(status) + "):\n" + result.log;
    nvrtcDestroyProgram(&program);
    return result;
  }
  if (options.cubin) {
    size_t size = 0;
    nvrtcGetCUBINSize(program, &size);
    result.cubin.resize(size);
    nvrtcGetCUBIN(program, result.cubin.data());
    result.resources = parsePtxasReport(result.log);
  } else {
    size_t size = 0;
    nvrtcGetPTXSize(program, &size);
    result.ptx.resize(size);
    nvrtcGetPTX(program, result.ptx.data());
    while (!result.ptx.empty() && result.ptx.back() == '\0')
      result.ptx.pop_back();
  }
  nvrtcDestroyProgram(&program);
  result.ok = true;
  return result;
}

/// The thread count of `kernel`'s `__launch_bounds__(T, <min-CTAs macro>)`
/// in `source`, or 0 when its minimum is not the driver's to set.
int launchBoundThreads(const std::string &source, const std::string &kernel) {
  std::string tail = ", " + std::string(attnc::kMinCtasMacroPrefix) + kernel +
                     ") " + kernel + "(";
  size_t at = source.find(tail);
  if (at == std::string::npos)
    return 0;
  size_t open = source.rfind('(', at);
  if (open == std::string::npos)
    return 0;
  return std::atoi(source.c_str() + open + 1);
}

int spilledBytes(const KernelResources &r) {
  return std::max(r.spillStoreBytes, 0) + std::max(r.spillLoadBytes, 0);
}

} // namespace

// ptxas, left to choose a kernel's occupancy, sometimes caps its registers
// at an occupancy step (128 for four 128-thread CTAs per SM) and spills a
// few bytes to stay there. Asked for that occupancy outright
// (__launch_bounds__'s minimum CTAs per SM), it often allocates the same
// registers without spilling; asked for one CTA fewer, it has room to. So
// the kernels that spill are compiled again for the CTAs per SM their
// registers gave, then for one fewer, and the first compile where none of
// them spills is kept (else the one that spills least, the first on a tie).
// Kernels without the driver's macro (hand-written sources) are left alone.
NvrtcResult attnc::jit::compileWithNvrtc(const std::string &source,
                                         const std::string &name,
                                         const NvrtcOptions &options) {
  NvrtcResult best = compileOnce(source, name, options);
  if (!best.ok || !options.cubin)
    return best;
  struct Retry {
    std::string kernel;
    int ctas;
  };
  std::vector<Retry> retries;
  for (const KernelResources &r : best.resources) {
    int threads = launchBoundThreads(source, r.kernel);
    // At 255 registers no occupancy asked for gives ptxas more of them.
    if (spilledBytes(r) > 0 && threads > 0 && r.registers > 0 &&
        r.registers < 255)
      retries.push_back(
          {r.kernel, 65536 / (threads * ((r.registers + 7) / 8 * 8))});
  }
  auto spills = [&](const NvrtcResult &result) {
    int bytes = 0;
    for (const KernelResources &r : result.resources)
      for (const Retry &retry : retries)
        if (retry.kernel == r.kernel)
          bytes += spilledBytes(r);
    return bytes;
  };
  int bestSpills = spills(best);
  for (int fewer = 0; fewer < 2 && bestSpills > 0; ++fewer) {
    NvrtcOptions again = options;
    std::string note;
    for (const Retry &retry : retries) {
      int ctas = retry.ctas - fewer;
      if (ctas < 1)
        continue;
      again.extraOptions.push_back("-D" +
                                   std::string(attnc::kMinCtasMacroPrefix) +
                                   retry.kernel + "=" + std::to_string(ctas));
      note += "attnc: " + retry.kernel +
              " spilled when ptxas chose its "
              "occupancy; compiled for " +
              std::to_string(ctas) + " CTAs per SM\n";
    }
    if (again.extraOptions.size() == options.extraOptions.size())
      break;
    NvrtcResult result = compileOnce(source, name, again);
    if (result.ok && spills(result) < bestSpills) {
      bestSpills = spills(result);
      result.log = note + result.log;
      best = std::move(result);
    }
  }
  return best;
}

int attnc::jit::maxSharedBytesOptin(const std::string &arch) {
  if (arch == "sm_90" || arch == "sm_100" || arch == "sm_120")
    return 227 * 1024;
  if (arch == "sm_86" || arch == "sm_89")
    return 99 * 1024;
  return 163 * 1024; // sm_80
}
