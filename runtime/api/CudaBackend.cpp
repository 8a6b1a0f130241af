//===- CudaBackend.cpp - Kernels on a GPU through the CUDA driver ---------===//
//
// NVRTC compiles the source for the device's architecture; the image is kept
// in the on-disk cache keyed by source, architecture, NVRTC version and
// kernel, so a later process loads it without compiling.
//
//===----------------------------------------------------------------------===//
#include "runtime/api/Backend.h"
#include "runtime/cuda/CudaDevice.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/CudaMemory.h"
#include "runtime/cuda/CudaModule.h"
#include "runtime/jit/DiskCache.h"
#include "runtime/jit/HostCompiler.h"
#include "runtime/jit/Nvrtc.h"

#include <map>
#include <mutex>
#include <optional>

using namespace attnc;
using namespace attnc::cuda;

namespace {

class CudaKernel : public LoadedKernel {
public:
  CudaKernel(CudaModule module, std::optional<CudaModule> merge,
             std::optional<CudaModule> blockMask, unsigned gridHeads,
             unsigned blockMaskHeads)
      : module(std::move(module)), merge(std::move(merge)),
        blockMask(std::move(blockMask)), gridHeads(gridHeads),
        blockMaskHeads(blockMaskHeads) {}
  Status launchBlockMask(const AttnKernelArgs &args, unsigned gridX,
                         void *stream) override {
    if (!blockMask)
      return Status::error(ErrorCode::InvalidArgument,
                           "the kernel has no block-mask pre-pass");
    return blockMask->launch(args, gridX, blockMaskHeads,
                             static_cast<unsigned>(args.batch),
                             static_cast<CUstream>(stream));
  }
  Status launchMerge(const AttnKernelArgs &args, unsigned gridX,
                     void *stream) override {
    if (!merge)
      return Status::error(ErrorCode::InvalidArgument,
                           "the kernel has no split-KV merge step");
    return merge->launch(args, gridX, 1, 1, static_cast<CUstream>(stream));
  }
  Status launchCascadeMerge(const AttnKernelArgs &args, unsigned gridX,
                            void *stream) override {
    if (!cascadeMerge)
      return Status::error(ErrorCode::InvalidArgument,
                           "the kernel is not a cascade kernel");
    return cascadeMerge->launch(args, gridX, 1, 1,
                                static_cast<CUstream>(stream));
  }
  Status launch(const AttnKernelArgs &args, unsigned gridX,
                void *stream) override {
    return module.launch(args, gridX, gridHeads,
                         static_cast<unsigned>(args.batch),
                         static_cast<CUstream>(stream));
  }

  std::optional<CudaModule> cascadeMerge;

private:
  CudaModule module;
  std::optional<CudaModule> merge, blockMask;
  unsigned gridHeads, blockMaskHeads;
};

/// A pair of CUDA events around the work on a stream.
class EventTimer : public StreamTimer {
public:
  EventTimer(CudaEvent begin, CudaEvent end)
      : begin(std::move(begin)), end(std::move(end)) {}
  Status start(void *stream) override {
    stopped = false;
    return begin.record(static_cast<CUstream>(stream));
  }
  Status stop(void *stream) override {
    Status s = end.record(static_cast<CUstream>(stream));
    stopped = s.ok();
    return s;
  }
  Expected<double> elapsedMs() override {
    if (!stopped)
      return Status::error(ErrorCode::InvalidArgument,
                           "StreamTimer::elapsedMs before stop");
    Expected<float> ms = elapsedMilliseconds(begin, end);
    if (!ms)
      return ms.takeStatus();
    return static_cast<double>(*ms);
  }

private:
  CudaEvent begin, end;
  bool stopped = false;
};

class CudaBackend : public Backend {
public:
  CudaBackend(std::unique_ptr<CudaDevice> device, std::string cacheDir)
      : device(std::move(device)), cache(std::move(cacheDir) + "/cuda") {}

  const char *name() const override { return "cuda"; }
  std::string describe() const override {
    const DeviceProperties &p = device->properties();
    return "cuda: " + p.name + " (" + p.arch() + ", " +
           std::to_string(p.smCount) + " SMs)";
  }
  MemoryKind memoryKind() const override { return MemoryKind::Device; }
  std::string cacheTag() const override {
    return "cuda " + device->properties().arch() + " nvrtc " +
           jit::nvrtcVersion();
  }

  /// The disk cache's key for `source`'s kernel `info` on this device.
  std::string cacheKey(const std::string &source,
                       const KernelInfo &info) const {
    char key[40];
    std::snprintf(
        key, sizeof key, "%016llx",
        jit::hashText(source, jit::hashText(cacheTag() + "\n" + info.name)));
    return key;
  }

  Status precompile(const std::string &source,
                    const KernelInfo &info) override {
    std::string key = cacheKey(source, info);
    if (cache.get(key))
      return Status::success();
    Expected<CudaModule::Image> image =
        CudaModule::compileImage(*device, source, info);
    if (!image)
      return image.takeStatus();
    return cache.put(key, image->bytes);
  }

  Expected<std::unique_ptr<LoadedKernel>>
  load(const std::string &source, const KernelInfo &info) override {
    std::string key = cacheKey(source, info);
    if (std::optional<std::vector<char>> image = cache.get(key)) {
      Expected<CudaModule> module = CudaModule::load(*device, *image, info);
      if (module)
        return withMerge(module.takeValue(), info);
      // An image the driver rejects is rebuilt below.
    }
    Expected<CudaModule> module = CudaModule::compile(*device, source, info);
    if (!module)
      return module.takeStatus();
    // A cache that cannot be written costs a recompile next time, no more.
    (void)cache.put(key, module->image());
    return withMerge(module.takeValue(), info);
  }

  /// The kernel, plus its merge function (same image) for split-KV and its
  /// block-mask pre-pass.
  Expected<std::unique_ptr<LoadedKernel>> withMerge(CudaModule module,
                                                    const KernelInfo &info) {
    auto helper = [&](const std::string &name, int threads,
                      std::optional<CudaModule> &out) -> Status {
      KernelInfo helperInfo = info;
      helperInfo.name = name;
      helperInfo.threads = threads;
      helperInfo.sharedBytes = 0;
      Expected<CudaModule> m =
          CudaModule::load(*device, module.image(), helperInfo);
      if (!m)
        return m.takeStatus();
      out = m.takeValue();
      return Status::success();
    };
    std::optional<CudaModule> merge, blockMask;
    if (info.splitKV)
      if (Status s = helper(info.mergeName, kMergeThreads, merge); !s.ok())
        return s;
    if (info.hasBlockMask())
      if (Status s = helper(info.blockMaskName, kBlockMaskThreads, blockMask);
          !s.ok())
        return s;
    std::optional<CudaModule> cascadeMerge;
    if (info.qPositions)
      if (Status s = helper(info.cascadeMergeName, kMergeThreads, cascadeMerge);
          !s.ok())
        return s;
    auto kernel = std::make_unique<CudaKernel>(
        std::move(module), std::move(merge), std::move(blockMask),
        info.gridHeads(), static_cast<unsigned>(info.blockMaskHeads));
    kernel->cascadeMerge = std::move(cascadeMerge);
    return std::unique_ptr<LoadedKernel>(std::move(kernel));
  }

  int multiprocessorCount() const override {
    return device->properties().smCount;
  }
  std::string architecture() const override {
    return device->properties().arch();
  }
  Expected<std::unique_ptr<LoadedKernel>>
  loadImage(const std::vector<char> &image, const KernelInfo &info) override {
    Expected<CudaModule> module = CudaModule::load(*device, image, info);
    if (!module)
      return module.takeStatus();
    return withMerge(module.takeValue(), info);
  }

  Expected<void *> allocate(size_t bytes, const std::string &) override {
    Expected<DeviceBuffer> buffer = DeviceBuffer::allocate(*device, bytes);
    if (!buffer)
      return buffer.takeStatus();
    void *ptr = buffer->data();
    std::lock_guard<std::mutex> lock(mutex);
    buffers.emplace(ptr, buffer.takeValue());
    return ptr;
  }
  void release(void *ptr) override {
    std::lock_guard<std::mutex> lock(mutex);
    buffers.erase(ptr);
  }
  Status copyIn(void *dst, const void *src, size_t bytes) override {
    return copyHostToDevice(*device, reinterpret_cast<CUdeviceptr>(dst), src,
                            bytes);
  }
  Status copyOut(void *dst, const void *src, size_t bytes) override {
    return copyDeviceToHost(*device, dst, reinterpret_cast<CUdeviceptr>(src),
                            bytes);
  }
  Status synchronize(void *stream) override {
    return device->check(
        device->driver().api().streamSynchronize(static_cast<CUstream>(stream)),
        "cuStreamSynchronize");
  }

  Expected<std::unique_ptr<StreamTimer>> createTimer() override {
    Expected<CudaEvent> begin = CudaEvent::create(*device);
    if (!begin)
      return begin.takeStatus();
    Expected<CudaEvent> end = CudaEvent::create(*device);
    if (!end)
      return end.takeStatus();
    return std::unique_ptr<StreamTimer>(
        new EventTimer(begin.takeValue(), end.takeValue()));
  }
  size_t cacheBytes() const override {
    return static_cast<size_t>(device->properties().l2CacheBytes);
  }

private:
  std::unique_ptr<CudaDevice> device;
  jit::DiskCache cache;
  std::mutex mutex;
  std::map<void *, DeviceBuffer> buffers;
};

} // namespace

Expected<std::unique_ptr<Backend>>
attnc::createCudaBackend(int deviceIndex, const std::string &cacheDir) {
  Expected<std::unique_ptr<CudaDevice>> device = CudaDevice::open(deviceIndex);
  if (!device)
    return device.takeStatus();
  return std::unique_ptr<Backend>(
      new CudaBackend(device.takeValue(), cacheDir));
}
