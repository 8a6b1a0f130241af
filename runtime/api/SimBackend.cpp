//===- SimBackend.cpp - Kernels on the CPU under the SIMT emulator --------===//
#include "runtime/api/Backend.h"
#include "runtime/jit/HostCompiler.h"
#include "runtime/sim/Launch.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

using namespace attnc;

namespace {

class SimKernel : public LoadedKernel {
public:
  SimKernel(std::shared_ptr<jit::SimModule> module, jit::SimModule::LaunchFn fn,
            jit::SimModule::LaunchFn merge, jit::SimModule::LaunchFn blockMask)
      : module(std::move(module)), fn(fn), merge(merge), blockMask(blockMask) {}

  Status launch(const AttnKernelArgs &args, unsigned gridX, void *) override {
    return run(fn, args, gridX);
  }
  Status launchMerge(const AttnKernelArgs &args, unsigned gridX,
                     void *) override {
    if (!merge)
      return Status::error(ErrorCode::InvalidArgument,
                           "the kernel has no split-KV merge step");
    return run(merge, args, gridX);
  }
  Status launchCascadeMerge(const AttnKernelArgs &args, unsigned gridX,
                            void *) override {
    if (!cascadeMerge)
      return Status::error(ErrorCode::InvalidArgument,
                           "the kernel is not a cascade kernel");
    return run(cascadeMerge, args, gridX);
  }
  Status launchBlockMask(const AttnKernelArgs &args, unsigned gridX,
                         void *) override {
    if (!blockMask)
      return Status::error(ErrorCode::InvalidArgument,
                           "the kernel has no block-mask pre-pass");
    return run(blockMask, args, gridX);
  }

  /// Cascade kernels' merge (null otherwise).
  jit::SimModule::LaunchFn cascadeMerge = nullptr;

private:
  static Status run(jit::SimModule::LaunchFn f, const AttnKernelArgs &args,
                    unsigned gridX) {
    char message[4096] = {};
    if (f(&args, gridX, message, sizeof message) != 0)
      return Status::error(ErrorCode::LaunchError, message);
    return Status::success();
  }

  std::shared_ptr<jit::SimModule> module;
  jit::SimModule::LaunchFn fn, merge, blockMask;
};

/// Launches under sim return when the kernel has run: the host clock
/// between start and stop is the emulated kernel's CPU time.
class HostClockTimer : public StreamTimer {
public:
  Status start(void *) override {
    begin = std::chrono::steady_clock::now();
    started = true;
    stopped = false;
    return Status::success();
  }
  Status stop(void *) override {
    if (!started)
      return Status::error(ErrorCode::InvalidArgument,
                           "StreamTimer::stop without start");
    end = std::chrono::steady_clock::now();
    stopped = true;
    return Status::success();
  }
  Expected<double> elapsedMs() override {
    if (!stopped)
      return Status::error(ErrorCode::InvalidArgument,
                           "StreamTimer::elapsedMs before stop");
    return std::chrono::duration<double, std::milli>(end - begin).count();
  }

private:
  std::chrono::steady_clock::time_point begin, end;
  bool started = false, stopped = false;
};

class SimBackend : public Backend {
public:
  explicit SimBackend(std::string cacheDir) : cacheDir(std::move(cacheDir)) {}

  const char *name() const override { return "sim"; }
  std::string describe() const override {
    return "sim: the SIMT emulator on the host CPU (no GPU is used)";
  }
  MemoryKind memoryKind() const override { return MemoryKind::Host; }
  std::string cacheTag() const override { return "sim"; }
  /// The emulator has no multiprocessors; a GPU-like figure keeps split-KV
  /// choices the same shape as on a device.
  int multiprocessorCount() const override { return 108; }
  std::string architecture() const override { return ""; }
  Expected<std::unique_ptr<LoadedKernel>>
  loadImage(const std::vector<char> &, const KernelInfo &info) override {
    return Status::error(ErrorCode::InvalidArgument,
                         "the sim backend runs source, not images (" +
                             info.name + ")");
  }

  Expected<std::unique_ptr<LoadedKernel>>
  load(const std::string &source, const KernelInfo &info) override {
    jit::HostCompileOptions options;
    options.cacheDir = cacheDir;
    std::string error;
    std::shared_ptr<jit::SimModule> module =
        jit::compileForSim(source, options, error);
    if (!module)
      return Status::error(ErrorCode::CompileError, error);
    jit::SimModule::LaunchFn fn = module->launcher(info.name);
    jit::SimModule::LaunchFn merge =
        info.splitKV ? module->launcher(info.mergeName) : nullptr;
    jit::SimModule::LaunchFn blockMask =
        info.hasBlockMask() ? module->launcher(info.blockMaskName) : nullptr;
    jit::SimModule::LaunchFn cascadeMerge =
        info.qPositions ? module->launcher(info.cascadeMergeName) : nullptr;
    if (!fn || (info.splitKV && !merge) ||
        (info.hasBlockMask() && !blockMask) ||
        (info.qPositions && !cascadeMerge))
      return Status::error(ErrorCode::NotFound,
                           "the sim module has no launcher for " + info.name);
    auto kernel = std::make_unique<SimKernel>(module, fn, merge, blockMask);
    kernel->cascadeMerge = cascadeMerge;
    return std::unique_ptr<LoadedKernel>(std::move(kernel));
  }

  Status precompile(const std::string &source, const KernelInfo &) override {
    jit::HostCompileOptions options;
    options.cacheDir = cacheDir;
    std::string error;
    if (!jit::compileForSim(source, options, error))
      return Status::error(ErrorCode::CompileError, error);
    return Status::success();
  }

  Expected<void *> allocate(size_t bytes, const std::string &name) override {
    void *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256 + 256);
    if (!p)
      return Status::error(ErrorCode::OutOfMemory, "cannot allocate " +
                                                       std::to_string(bytes) +
                                                       " bytes of host memory");
    // Device memory starts as whatever the last user left. Here it starts as
    // NaN (all bits set: NaN in f32, f16 and bf16, -1 as i32), so a kernel
    // that reads what nothing wrote -- a split-KV workspace slot, padding --
    // poisons its output instead of reading plausible zeros.
    std::memset(p, 0xFF, bytes);
    // Known to checked mode, which bound-checks every kernel access.
    sim::registerBuffer(p, bytes, name);
    return p;
  }
  void release(void *ptr) override {
    sim::unregisterBuffer(ptr);
    std::free(ptr);
  }
  Status copyIn(void *dst, const void *src, size_t bytes) override {
    std::memcpy(dst, src, bytes);
    return Status::success();
  }
  Status copyOut(void *dst, const void *src, size_t bytes) override {
    std::memcpy(dst, src, bytes);
    return Status::success();
  }
  Status synchronize(void *) override { return Status::success(); }
  Expected<std::unique_ptr<StreamTimer>> createTimer() override {
    return std::unique_ptr<StreamTimer>(new HostClockTimer());
  }
  size_t cacheBytes() const override { return 0; }

private:
  std::string cacheDir;
};

} // namespace

Expected<std::unique_ptr<Backend>>
attnc::createSimBackend(const std::string &cacheDir) {
  return std::unique_ptr<Backend>(new SimBackend(cacheDir));
}
