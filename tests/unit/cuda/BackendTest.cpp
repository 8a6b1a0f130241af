//===- BackendTest.cpp - Memory, modules and page storage ----------------===//
//
// Every scenario twice: on the fake driver (always; checks the calls made,
// the launch configuration and argument bytes, and that nothing leaks), and
// on the machine's GPU ([gpu]; checks what the kernels computed, and warns
// that it did not run when there is no GPU).
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"
#include "Scenarios.h"

#include "runtime/cuda/CudaModule.h"
#include "runtime/cuda/CudaPageStorage.h"

#include <algorithm>
#include <cstring>

using namespace attnc;
using namespace attnc::cuda;
using namespace attnc::cuda::test;

namespace {

/// After a scenario every handle it created is gone.
void checkNothingLeaked(const FakeDriver &fake) {
  AttncFakeCudaStats stats = fake.stats();
  CHECK(stats.liveAllocations == 0);
  CHECK(stats.liveBytes == 0);
  CHECK(stats.liveStreams == 0);
  CHECK(stats.liveEvents == 0);
  CHECK(stats.liveModules == 0);
  CHECK(stats.primaryContextRefs == 0);
}

} // namespace

//===----------------------------------------------------------------------===//
// Fake driver
//===----------------------------------------------------------------------===//

TEST_CASE("the fp8 widening kernel compiles and launches (fake driver)",
          "[cuda][fake]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  runFp8WideningScenario(*driver, false);
  AttncFakeCudaStats stats = fake.stats();
  CHECK(stats.launches == 1);
  CHECK(std::string(stats.function) == "attnc_test_fp8");
  CHECK(stats.grid[0] == 2);
  checkNothingLeaked(fake);
}

TEST_CASE("device buffers (fake driver)", "[cuda][fake]") {
  AttncFakeCudaConfig config;
  config.memoryBytes = 64 << 20;
  FakeDriver fake(config);
  std::unique_ptr<CudaDriver> driver = fake.driver();
  runMemoryScenario(*driver);
  checkNothingLeaked(fake);
}

TEST_CASE("an NVRTC kernel launched with AttnKernelArgs (fake driver)",
          "[cuda][fake]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  LaunchedScale launched = runScaleKernelScenario(*driver, false);
  AttncFakeCudaStats stats = fake.stats();
  CHECK(stats.launches == 1);
  CHECK(std::string(stats.function) == "attnc_test_scale");
  CHECK(stats.grid[0] == launched.gridX);
  CHECK(stats.grid[1] == 1);
  CHECK(stats.grid[2] == 1);
  CHECK(stats.block[0] == 128);
  CHECK(stats.block[1] == 1);
  CHECK(stats.block[2] == 1);
  CHECK(stats.sharedBytes == 0);
  CHECK(stats.maxDynamicShared == 0); // no opt-in needed
  CHECK(stats.stream == launched.stream);
  // The kernel's one parameter is the whole struct, by value.
  CHECK(std::memcmp(&stats.args, &launched.args, sizeof(AttnKernelArgs)) == 0);
  checkNothingLeaked(fake);
}

TEST_CASE("dynamic shared memory beyond 48 KiB (fake driver)", "[cuda][fake]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  runSharedMemoryScenario(*driver, false);
  AttncFakeCudaStats stats = fake.stats();
  CHECK(stats.launches == 1);
  CHECK(stats.sharedBytes == 100 * 1024);
  CHECK(stats.maxDynamicShared == 100 * 1024);
  CHECK(stats.stream == nullptr);
  checkNothingLeaked(fake);
}

TEST_CASE("module loading errors (fake driver)", "[cuda][fake]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  runModuleErrorScenario(*driver, false);
  // The PTX module launched once; the empty grid did not launch.
  CHECK(fake.stats().launches == 1);
  checkNothingLeaked(fake);
}

TEST_CASE("page storage in device memory (fake driver)", "[cuda][fake]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  runPageStorageScenario(*driver);
  AttncFakeCudaStats stats = fake.stats();
  // 3 layers x (K, V) for the explicit copy, then for the copy-on-write.
  CHECK(stats.asyncCopies == 12);
  // The KVCache's storage was made without a stream: the default stream.
  CHECK(stats.lastAsyncCopyStream == nullptr);
  checkNothingLeaked(fake);
}

TEST_CASE("page storage copies on the stream it was given (fake driver)",
          "[cuda][fake]") {
  FakeDriver fake;
  std::unique_ptr<CudaDriver> driver = fake.driver();
  {
    auto device = requireValue(CudaDevice::open(*driver, 0));
    CudaStream stream = requireValue(CudaStream::create(*device));
    CudaPageStorage storage(*device, stream.get());
    kvcache::CacheShape shape;
    shape.numPages = 3;
    shape.numLayers = 2;
    CUDA_REQUIRE_OK(storage.allocate(shape));
    CUDA_REQUIRE_OK(storage.copyPage(2, 0));
    CHECK(fake.stats().asyncCopies == 4);
    CHECK(fake.stats().lastAsyncCopyStream == stream.get());
  }
  checkNothingLeaked(fake);
}

TEST_CASE("page storage that does not fit leaves nothing allocated "
          "(fake driver)",
          "[cuda][fake]") {
  AttncFakeCudaConfig config;
  config.memoryBytes = 3 << 20;
  FakeDriver fake(config);
  std::unique_ptr<CudaDriver> driver = fake.driver();
  auto device = requireValue(CudaDevice::open(*driver, 0));
  kvcache::CacheShape shape;
  shape.numPages = 1024; // 1 MiB per tensor, 4 tensors
  shape.pageSize = 4;
  shape.kvHeads = 1;
  shape.headDim = 128;
  shape.numLayers = 2;
  CudaPageStorage storage(*device);
  Status s = storage.allocate(shape);
  CHECK(s.code() == ErrorCode::OutOfMemory);
  CHECK(s.message() == "page pool of 4194304 bytes (1024 pages): "
                       "cuMemAlloc(1048576 bytes on attnc fake device 0) "
                       "failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  CHECK(fake.stats().liveAllocations == 0);
  CHECK(storage.keyCache(0) == nullptr);
  // A smaller pool fits afterwards.
  shape.numLayers = 1;
  CUDA_REQUIRE_OK(storage.allocate(shape));
  CHECK(fake.stats().liveAllocations == 2);
}

TEST_CASE("NVRTC target for a compute capability", "[cuda][nvrtc]") {
  const std::vector<int> supported = {75, 80, 86, 89, 90, 100, 120};
  NvrtcTarget exact = requireValue(chooseNvrtcTarget(9, 0, supported));
  CHECK(exact.arch == "sm_90");
  CHECK(exact.cubin);
  // Newer than this NVRTC knows: PTX for the closest older architecture.
  NvrtcTarget newer = requireValue(chooseNvrtcTarget(12, 1, supported));
  CHECK(newer.arch == "compute_120");
  CHECK_FALSE(newer.cubin);
  NvrtcTarget between = requireValue(chooseNvrtcTarget(8, 7, supported));
  CHECK(between.arch == "compute_86");
  Expected<NvrtcTarget> older = chooseNvrtcTarget(7, 0, supported);
  REQUIRE_FALSE(older.ok());
  CHECK(older.status().code() == ErrorCode::CompileError);
  CHECK(older.status().message().find(
            "cannot compile for sm_70 or any older architecture (it supports "
            "75, 80, 86, 89, 90, 100, 120)") != std::string::npos);

  // The device library's fp8 paths compile for each (software on sm_80,
  // the e4m3 cvt on sm_89 and sm_90); the GPU test checks their results.
  for (const char *arch : {"sm_80", "sm_89", "sm_90"}) {
    jit::NvrtcOptions options;
    options.arch = arch;
    options.includeDirs = jit::defaultIncludeDirs();
    jit::NvrtcResult fp8 =
        jit::compileWithNvrtc(fp8WideningKernelSource(), "fp8.cu", options);
    INFO(arch << ": " << fp8.error);
    CHECK(fp8.ok);
  }

  // The NVRTC linked here compiles the targets attnc is written for.
  std::vector<int> linked = nvrtcSupportedArchs();
  CHECK(std::count(linked.begin(), linked.end(), 80) == 1);
  CHECK(std::count(linked.begin(), linked.end(), 90) == 1);
  CHECK(std::is_sorted(linked.begin(), linked.end()));
}

//===----------------------------------------------------------------------===//
// Real GPU
//===----------------------------------------------------------------------===//

TEST_CASE("device buffers (GPU)", "[cuda][gpu]") {
  if (CudaDriver *driver = gpuDriverOrSkip())
    runMemoryScenario(*driver);
}

TEST_CASE("an NVRTC kernel launched with AttnKernelArgs (GPU)", "[cuda][gpu]") {
  if (CudaDriver *driver = gpuDriverOrSkip())
    runScaleKernelScenario(*driver, true);
}

TEST_CASE("dynamic shared memory beyond 48 KiB (GPU)", "[cuda][gpu]") {
  if (CudaDriver *driver = gpuDriverOrSkip())
    runSharedMemoryScenario(*driver, true);
}

TEST_CASE("fp8 widening on the GPU matches the host codec (GPU)",
          "[cuda][gpu]") {
  if (CudaDriver *driver = gpuDriverOrSkip())
    runFp8WideningScenario(*driver, true);
}

TEST_CASE("module loading errors (GPU)", "[cuda][gpu]") {
  if (CudaDriver *driver = gpuDriverOrSkip())
    runModuleErrorScenario(*driver, true);
}

TEST_CASE("page storage in device memory (GPU)", "[cuda][gpu]") {
  if (CudaDriver *driver = gpuDriverOrSkip())
    runPageStorageScenario(*driver);
}

TEST_CASE("event timing measures a longer kernel as longer (GPU)",
          "[cuda][gpu]") {
  CudaDriver *driver = gpuDriverOrSkip();
  if (!driver)
    return;
  auto device = requireValue(CudaDevice::open(*driver, 0));
  KernelInfo info;
  info.name = "attnc_test_spin";
  info.threads = 32;
  CudaModule module = requireValue(CudaModule::compile(*device, R"(
#include "kernel_args.h"
extern "C" __global__ void attnc_test_spin(const attnc::AttnKernelArgs args) {
  long long start = clock64();
  while (clock64() - start < args.param_dims[0][0] * 1000ll) {}
}
)",
                                                       info));
  CudaStream stream = requireValue(CudaStream::create(*device));
  auto timeSpin = [&](int kiloCycles) {
    AttnKernelArgs args;
    std::memset(&args, 0, sizeof(args));
    args.param_dims[0][0] = kiloCycles;
    CudaEvent start = requireValue(CudaEvent::create(*device));
    CudaEvent end = requireValue(CudaEvent::create(*device));
    CUDA_REQUIRE_OK(start.record(stream.get()));
    CUDA_REQUIRE_OK(module.launch(args, 1, 1, 1, stream.get()));
    CUDA_REQUIRE_OK(end.record(stream.get()));
    return requireValue(elapsedMilliseconds(start, end));
  };
  timeSpin(1); // warm-up
  float shortMs = timeSpin(10);
  float longMs = timeSpin(100000); // 10^8 cycles: tens of milliseconds
  INFO("short " << shortMs << " ms, long " << longMs << " ms");
  CHECK(longMs > 10 * shortMs);
  CHECK(longMs > 1.0f);
}

TEST_CASE("a device page pool too large for the GPU leaves nothing "
          "allocated (GPU)",
          "[cuda][gpu]") {
  CudaDriver *driver = gpuDriverOrSkip();
  if (!driver)
    return;
  auto device = requireValue(CudaDevice::open(*driver, 0));
  kvcache::CacheShape shape;
  // 16 GiB per tensor, 2 layers x (K, V): more than any current GPU has,
  // and each single tensor small enough that the first ones succeed.
  shape.numPages = 1 << 20;
  shape.pageSize = 16;
  shape.kvHeads = 4;
  shape.headDim = 128;
  shape.numLayers = 2;
  shape.numLayers =
      static_cast<int32_t>(device->properties().totalMemory /
                           static_cast<size_t>(shape.tensorBytes())) /
          2 +
      1;
  CudaPageStorage storage(*device);
  Status s = storage.allocate(shape);
  INFO(s.toString());
  CHECK(s.code() == ErrorCode::OutOfMemory);
  CHECK(storage.keyCache(0) == nullptr);
  // Everything was given back: the same pool minus two layers fits.
  shape.numLayers -= 2;
  if (shape.numLayers > 0) {
    CudaPageStorage smaller(*device);
    CUDA_REQUIRE_OK(smaller.allocate(shape));
  }
}
