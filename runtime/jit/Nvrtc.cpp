//===- Nvrtc.cpp - Compile generated CUDA with NVRTC ----------------------===//
#include "runtime/jit/Nvrtc.h"

#include <nvrtc.h>

#include <cstdlib>
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

std::vector<std::string> attnc::jit::defaultIncludeDirs() {
  std::vector<std::string> dirs;
  const char *device = std::getenv("ATTNC_DEVICE_DIR");
  dirs.push_back(device ? device : ATTNC_DEVICE_DIR);
  const char *cuda = std::getenv("CUDA_HOME");
  dirs.push_back(cuda ? std::string(cuda) + "/include"
                      : ATTNC_CUDA_INCLUDE_DIR);
  return dirs;
}

NvrtcResult attnc::jit::compileWithNvrtc(const std::string &source,
                                         const std::string &name,
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

int attnc::jit::maxSharedBytesOptin(const std::string &arch) {
  if (arch == "sm_90" || arch == "sm_100" || arch == "sm_120")
    return 227 * 1024;
  if (arch == "sm_86" || arch == "sm_89")
    return 99 * 1024;
  return 163 * 1024; // sm_80
}
