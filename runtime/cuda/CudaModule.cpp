//===- CudaModule.cpp - A generated kernel, loaded on a device ------------===//

#include "runtime/cuda/CudaModule.h"

#include <nvrtc.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace attnc::cuda {

std::vector<int> nvrtcSupportedArchs() {
  int count = 0;
  if (nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0)
    return {};
  std::vector<int> archs(count);
  if (nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS)
    return {};
  std::sort(archs.begin(), archs.end());
  return archs;
}

Expected<NvrtcTarget> chooseNvrtcTarget(int ccMajor, int ccMinor,
                                        const std::vector<int> &supported) {
  const int cc = 10 * ccMajor + ccMinor;
  int below = -1;
  for (int arch : supported) {
    if (arch == cc)
      return NvrtcTarget{"sm_" + std::to_string(cc), true};
    if (arch < cc)
      below = std::max(below, arch);
  }
  if (below < 0) {
    std::string list;
    for (int arch : supported)
      list += (list.empty() ? "" : ", ") + std::to_string(arch);
    return Status::error(ErrorCode::CompileError,
                         "NVRTC " + jit::nvrtcVersion() +
                             " cannot compile for sm_" + std::to_string(cc) +
                             " or any older architecture (it supports " +
                             (list.empty() ? std::string("none") : list) + ")");
  }
  // PTX is forward compatible: the driver compiles it for the newer GPU.
  return NvrtcTarget{"compute_" + std::to_string(below), false};
}

Expected<NvrtcTarget> chooseNvrtcTarget(const DeviceProperties &device) {
  return chooseNvrtcTarget(device.ccMajor, device.ccMinor,
                           nvrtcSupportedArchs());
}

/// What the launch configuration of `info` needs, checked before anything
/// is compiled: the driver would only answer CUDA_ERROR_INVALID_VALUE, at
/// launch time.
static Status checkKernelInfo(const CudaDevice &device,
                              const KernelInfo &info) {
  if (info.name.empty())
    return Status::error(ErrorCode::InvalidArgument,
                         "KernelInfo names no kernel");
  const std::string kernelName = "kernel '" + info.name + "'";
  if (info.threads <= 0 || info.threads > 1024)
    return Status::error(ErrorCode::InvalidArgument,
                         kernelName + " asks for " +
                             std::to_string(info.threads) +
                             " threads per block; CUDA allows 1 to 1024");
  if (info.sharedBytes < 0)
    return Status::error(ErrorCode::InvalidArgument,
                         kernelName +
                             " asks for a negative amount of shared memory");
  const int optin = device.properties().maxSharedPerBlockOptin;
  if (info.sharedBytes > CudaModule::kDefaultSharedLimit &&
      info.sharedBytes > optin)
    return Status::error(
        ErrorCode::InvalidArgument,
        kernelName + " needs " + std::to_string(info.sharedBytes) +
            " bytes of dynamic shared memory; " + device.properties().name +
            " (" + device.properties().arch() + ") allows at most " +
            std::to_string(optin) + " per block");
  return Status::success();
}

Expected<CudaModule::Image>
CudaModule::compileImage(const CudaDevice &device, const std::string &source,
                         const KernelInfo &info,
                         const CudaCompileOptions &options) {
  if (Status s = checkKernelInfo(device, info); !s.ok())
    return s;
  Expected<NvrtcTarget> target = chooseNvrtcTarget(device.properties());
  if (!target.ok())
    return target.takeStatus();
  jit::NvrtcOptions nvrtc;
  nvrtc.arch = target->arch;
  nvrtc.cubin = target->cubin;
  nvrtc.includeDirs = options.includeDirs.empty() ? jit::defaultIncludeDirs()
                                                  : options.includeDirs;
  nvrtc.extraOptions = options.extraOptions;
  jit::NvrtcResult compiled =
      jit::compileWithNvrtc(source, info.name + ".cu", nvrtc);
  if (!compiled.ok)
    return Status::error(ErrorCode::CompileError, compiled.error);
  // Static shared memory counts against the same per-block limit.
  for (const jit::KernelResources &r : compiled.resources)
    if (r.kernel == info.name && r.staticSharedBytes > 0 &&
        static_cast<long long>(r.staticSharedBytes) + info.sharedBytes >
            device.properties().maxSharedPerBlockOptin)
      return Status::error(
          ErrorCode::InvalidArgument,
          "kernel '" + info.name + "' needs " +
              std::to_string(r.staticSharedBytes) + " bytes of static and " +
              std::to_string(info.sharedBytes) +
              " bytes of dynamic shared memory; " + device.properties().name +
              " allows at most " +
              std::to_string(device.properties().maxSharedPerBlockOptin) +
              " per block");

  Image image;
  if (target->cubin) {
    image.bytes = std::move(compiled.cubin);
  } else {
    image.bytes.assign(compiled.ptx.begin(), compiled.ptx.end());
    image.bytes.push_back('\0');
  }
  image.target = target.takeValue();
  image.resources = std::move(compiled.resources);
  return image;
}

Expected<CudaModule> CudaModule::compile(const CudaDevice &device,
                                         const std::string &source,
                                         const KernelInfo &info,
                                         const CudaCompileOptions &options) {
  Expected<Image> image = compileImage(device, source, info, options);
  if (!image)
    return image.takeStatus();
  Expected<CudaModule> module = load(device, image->bytes, info);
  if (!module.ok())
    return module;
  module->nvrtcTarget = std::move(image->target);
  module->ptxasReport = std::move(image->resources);
  return module;
}

Expected<CudaModule> CudaModule::load(const CudaDevice &device,
                                      const std::vector<char> &image,
                                      const KernelInfo &info) {
  if (Status s = checkKernelInfo(device, info); !s.ok())
    return s;
  const std::string kernelName = "kernel '" + info.name + "'";
  const int optin = device.properties().maxSharedPerBlockOptin;
  if (image.empty())
    return Status::error(ErrorCode::InvalidArgument,
                         "empty module image for " + kernelName);

  CudaModule module;
  module.device = &device;
  module.kernel = info;
  module.loadedImage = image;
  // The driver reads PTX up to its NUL; a cubin is an ELF file.
  static const char elfMagic[4] = {0x7f, 'E', 'L', 'F'};
  bool isElf = image.size() >= 4 && std::memcmp(image.data(), elfMagic, 4) == 0;
  if (!isElf && module.loadedImage.back() != '\0')
    module.loadedImage.push_back('\0');

  if (Status s = device.makeCurrent(); !s.ok())
    return s;
  const DriverApi &api = device.driver().api();
  if (Status s = device.check(
          api.moduleLoadData(&module.module, module.loadedImage.data()),
          "cuModuleLoadData(" + kernelName + ", " + (isElf ? "cubin" : "PTX") +
              " of " + std::to_string(image.size()) + " bytes, on " +
              device.properties().name + " " + device.properties().arch() +
              ")");
      !s.ok())
    return s;
  if (Status s = device.check(
          api.moduleGetFunction(&module.fn, module.module, info.name.c_str()),
          "cuModuleGetFunction(" + kernelName + ")");
      !s.ok())
    return s;
  if (info.sharedBytes > kDefaultSharedLimit)
    if (Status s = device.check(
            api.funcSetAttribute(
                module.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                info.sharedBytes),
            "cuFuncSetAttribute(" + kernelName +
                ", max dynamic shared memory = " +
                std::to_string(info.sharedBytes) + " bytes, device limit " +
                std::to_string(optin) + ")");
        !s.ok())
      return s;
  return module;
}

CudaModule::CudaModule(CudaModule &&other) noexcept
    : device(other.device), module(std::exchange(other.module, nullptr)),
      fn(std::exchange(other.fn, nullptr)), kernel(std::move(other.kernel)),
      loadedImage(std::move(other.loadedImage)),
      nvrtcTarget(std::move(other.nvrtcTarget)),
      ptxasReport(std::move(other.ptxasReport)) {}

CudaModule &CudaModule::operator=(CudaModule &&other) noexcept {
  if (this != &other) {
    (void)release();
    device = other.device;
    module = std::exchange(other.module, nullptr);
    fn = std::exchange(other.fn, nullptr);
    kernel = std::move(other.kernel);
    loadedImage = std::move(other.loadedImage);
    nvrtcTarget = std::move(other.nvrtcTarget);
    ptxasReport = std::move(other.ptxasReport);
  }
  return *this;
}

Status CudaModule::release() {
  fn = nullptr;
  if (!module)
    return Status::success();
  CUmodule handle = std::exchange(module, nullptr);
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  return device->check(device->driver().api().moduleUnload(handle),
                       "cuModuleUnload(kernel '" + kernel.name + "')");
}

Status CudaModule::launch(const AttnKernelArgs &args, unsigned gridX,
                          unsigned gridY, unsigned gridZ,
                          CUstream stream) const {
  if (!fn)
    return Status::error(ErrorCode::InvalidArgument,
                         "launch of a CudaModule that holds no kernel");
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return Status::success();
  auto gridText = [&] {
    return "grid (" + std::to_string(gridX) + ", " + std::to_string(gridY) +
           ", " + std::to_string(gridZ) + ")";
  };
  // CUDA's limits; the driver would only say CUDA_ERROR_INVALID_VALUE.
  if (gridX > 0x7fffffffu || gridY > 65535 || gridZ > 65535)
    return Status::error(ErrorCode::InvalidArgument,
                         "kernel '" + kernel.name + "': " + gridText() +
                             " exceeds CUDA's grid limits (2^31-1, 65535, "
                             "65535)");
  if (Status s = device->makeCurrent(); !s.ok())
    return s;
  // cuLaunchKernel copies the argument out of this array before returning.
  void *params[] = {const_cast<AttnKernelArgs *>(&args)};
  CUresult result = device->driver().api().launchKernel(
      fn, gridX, gridY, gridZ, static_cast<unsigned>(kernel.threads), 1, 1,
      static_cast<unsigned>(kernel.sharedBytes), stream, params, nullptr);
  if (result == CUDA_SUCCESS)
    return Status::success();
  Status s = device->check(
      result, "cuLaunchKernel('" + kernel.name + "', " + gridText() +
                  ", block " + std::to_string(kernel.threads) + ", " +
                  std::to_string(kernel.sharedBytes) + " bytes shared)");
  if (s.code() == ErrorCode::BackendError)
    return Status::error(ErrorCode::LaunchError, s.message());
  return s;
}

} // namespace attnc::cuda
