//===- AotLoadTest.cpp - Runtime::loadAot on a GPU driver -----------------===//
//
// A kernel compiled ahead of time is served from its image for the device's
// architecture, without NVRTC; a kernel with no image for the device falls
// back to compiling its source. On the fake driver (an sm_90 device), with
// sources and images that tell the two paths apart.
//
//===----------------------------------------------------------------------===//
#include "FakeProcessDriver.h"

#include "codegen/Compile.h"
#include "runtime/aot/Registry.h"
#include "runtime/api/Runtime.h"
#include "runtime/jit/Nvrtc.h"

#include "mlir/IR/MLIRContext.h"

#include <filesystem>
#include <unistd.h>

using namespace attnc;

namespace {

struct Generated {
  std::string cuda;
  KernelInfo info;
};

Generated generate() {
  mlir::MLIRContext context;
  std::string error;
  mlir::FailureOr<CompiledModule> compiled = compileSpecText(
      context, "aot.attn",
      "attention aot_test {\n  dtype = fp16; head_dim = 64; q_heads = 4; "
      "kv_heads = 4\n  mask = kv <= q\n}\n",
      PipelineOptions{}, error);
  INFO(error);
  REQUIRE(mlir::succeeded(compiled));
  return {compiled->cuda, compiled->kernels.front()};
}

std::vector<char> cubinFor(const std::string &cuda, const std::string &arch) {
  jit::NvrtcOptions options;
  options.arch = arch;
  options.includeDirs = jit::defaultIncludeDirs();
  jit::NvrtcResult result = jit::compileWithNvrtc(cuda, "aot.cu", options);
  INFO(result.error);
  REQUIRE(result.ok);
  return result.cubin;
}

/// A private kernel cache, removed afterwards: a cubin cached by an earlier
/// run must not stand in for the compile the fallback test expects.
struct ScratchCache {
  std::string dir = "/tmp/attnc-aot-load-test-" + std::to_string(getpid());
  ~ScratchCache() { std::filesystem::remove_all(dir); }
};

std::unique_ptr<Runtime> cudaRuntime(const ScratchCache &cache) {
  RuntimeOptions options;
  options.backend = "cuda";
  options.cacheDir = cache.dir;
  Expected<std::unique_ptr<Runtime>> runtime = Runtime::create(options);
  INFO(runtime.status().toString());
  REQUIRE(runtime);
  return runtime.takeValue();
}

const char *kNotCuda = "this is not CUDA: compiling it fails";
const unsigned char kNotAnImage[] = "not a cubin";

} // namespace

TEST_CASE("an AOT kernel on a GPU is loaded from the image for the device's "
          "architecture, without NVRTC (fake driver)",
          "[api][aot][cuda][fake]") {
  test::FakeProcessDriver fake(AttncFakeCudaConfig{}); // sm_90
  Generated g = generate();
  std::vector<char> sm90 = cubinFor(g.cuda, "sm_90");
  // The source does not compile and the sm_80 image is not one: only the
  // sm_90 cubin can make this load succeed.
  aot::AotKernel kernel{
      kNotCuda,
      g.info,
      {{"sm_80", kNotAnImage, sizeof kNotAnImage},
       {"sm_90", reinterpret_cast<const unsigned char *>(sm90.data()),
        sm90.size()}}};
  ScratchCache cache;
  std::unique_ptr<Runtime> runtime = cudaRuntime(cache);
  Expected<Kernel> loaded = runtime->loadAot(kernel);
  INFO(loaded.status().toString());
  REQUIRE(loaded);
  CHECK(loaded->info.name == g.info.name);
}

TEST_CASE("an AOT kernel without an image for the device compiles its source "
          "(fake driver)",
          "[api][aot][cuda][fake]") {
  test::FakeProcessDriver fake(AttncFakeCudaConfig{}); // sm_90
  Generated g = generate();
  ScratchCache cache;
  std::unique_ptr<Runtime> runtime = cudaRuntime(cache);

  aot::AotKernel sourceOnly{
      g.cuda.c_str(), g.info, {{"sm_80", kNotAnImage, sizeof kNotAnImage}}};
  Expected<Kernel> compiled = runtime->loadAot(sourceOnly);
  INFO(compiled.status().toString());
  REQUIRE(compiled);

  aot::AotKernel neither{
      kNotCuda, g.info, {{"sm_80", kNotAnImage, sizeof kNotAnImage}}};
  Expected<Kernel> failed = runtime->loadAot(neither);
  REQUIRE_FALSE(failed);
  CHECK(failed.status().code() == ErrorCode::CompileError);
}

TEST_CASE("a kernel cache shared by an sm_90 and an sm_80 device keeps an "
          "image per architecture (fake driver)",
          "[api][cache][cuda][fake]") {
  Generated g = generate();
  ScratchCache cache;
  auto images = [&] {
    int count = 0;
    for (const auto &entry :
         std::filesystem::directory_iterator(cache.dir + "/cuda"))
      count += entry.path().extension() == ".bin";
    return count;
  };
  {
    test::FakeProcessDriver fake(AttncFakeCudaConfig{}); // sm_90
    std::unique_ptr<Runtime> runtime = cudaRuntime(cache);
    Expected<Kernel> loaded = runtime->load(g.cuda, g.info);
    INFO(loaded.status().toString());
    REQUIRE(loaded);
  }
  CHECK(images() == 1);
  {
    // An A100: the sm_90 image in the same directory must not be served
    // to it (the fake driver refuses an image for another architecture,
    // and a cache keyed without the architecture would then have only one
    // entry, rebuilt back and forth).
    AttncFakeCudaConfig a100;
    a100.ccMajor = 8;
    a100.ccMinor = 0;
    a100.smCount = 108;
    a100.sharedOptin = 166912;
    test::FakeProcessDriver fake(a100);
    std::unique_ptr<Runtime> runtime = cudaRuntime(cache);
    Expected<Kernel> loaded = runtime->load(g.cuda, g.info);
    INFO(loaded.status().toString());
    REQUIRE(loaded);
  }
  CHECK(images() == 2);
}
