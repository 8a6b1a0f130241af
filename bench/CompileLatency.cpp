//===- CompileLatency.cpp - How long it takes to get a runnable kernel ----===//
//
// For each example spec: DSL → CUDA (parse, lower, print), NVRTC cold
// compiles for sm_80 and sm_90, the sim backend's cold host compile, and
// cache hits (in memory: the same Runtime; on disk: a new Runtime over the
// same cache directory). Prints one table; median of `--repeat` runs.
//
//   attnc-bench-compile [--repeat N] [SPEC.attn ...]
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"
#include "dsl/Frontend.h"
#include "runtime/api/Runtime.h"
#include "runtime/jit/Nvrtc.h"

#include "mlir/IR/Diagnostics.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace attnc;
using Clock = std::chrono::steady_clock;

namespace {
double medianMs(int repeat, const std::function<void()> &fn) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = Clock::now();
    fn();
    ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct Generated {
  std::vector<std::string> sources;
  std::vector<KernelInfo> infos;
};

bool generate(const std::string &path, Generated &out) {
  std::string error;
  auto file = dsl::readSourceFile(path, error);
  if (!file) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return false;
  }
  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  auto module = compileSpecText(context, file->name, file->text,
                                PipelineOptions{}, error);
  if (failed(module)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return false;
  }
  out.sources.assign(1, module->cuda);
  out.infos = module->kernels;
  return true;
}
} // namespace

int main(int argc, char **argv) {
  int repeat = 5;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else
      specs.push_back(arg);
  }
  if (specs.empty())
    for (const char *name :
         {"llama3_gqa_causal", "mistral_sliding_window", "gemma2_softcap_local",
          "alibi", "prefix_lm", "document_mask", "paged_decode"})
      specs.push_back(std::string(ATTNC_SOURCE_DIR) + "/examples/" + name +
                      ".attn");

  std::string cacheDir = "/tmp/attnc-bench-cache-" + std::to_string(getpid());
  std::printf("attnc compile latency, median of %d (ms); NVRTC %s; backend "
              "for load/hit columns: sim\n\n",
              repeat, jit::nvrtcVersion().c_str());
  std::printf("%-26s %10s %12s %12s %12s %12s %12s\n", "spec", "DSL->CUDA",
              "NVRTC sm_80", "NVRTC sm_90", "sim cold", "disk hit",
              "memory hit");
  for (const std::string &spec : specs) {
    Generated gen;
    double dslMs = medianMs(repeat, [&] { generate(spec, gen); });
    if (gen.sources.empty()) {
      std::printf("%-26s failed to compile\n", spec.c_str());
      continue;
    }
    const std::string &cuda = gen.sources.front();
    double nvrtc[2];
    const char *archs[2] = {"sm_80", "sm_90"};
    for (int a = 0; a < 2; ++a)
      nvrtc[a] = medianMs(repeat, [&] {
        jit::NvrtcOptions options;
        options.arch = archs[a];
        options.includeDirs = jit::defaultIncludeDirs();
        jit::compileWithNvrtc(cuda, "bench.cu", options);
      });
    // Cold sim compile: a fresh cache directory each run.
    int run = 0;
    double simCold = medianMs(repeat, [&] {
      RuntimeOptions options;
      options.backend = "sim";
      options.cacheDir = cacheDir + "/cold" + std::to_string(run++);
      auto rt = Runtime::create(options);
      (void)(*rt)->load(cuda, gen.infos.front());
    });
    RuntimeOptions warm;
    warm.backend = "sim";
    warm.cacheDir = cacheDir + "/warm";
    {
      auto rt = Runtime::create(warm);
      (void)(*rt)->load(cuda, gen.infos.front()); // fill the disk cache
    }
    double diskHit = medianMs(repeat, [&] {
      auto rt = Runtime::create(warm);
      (void)(*rt)->load(cuda, gen.infos.front());
    });
    auto rt = Runtime::create(warm);
    (void)(*rt)->load(cuda, gen.infos.front());
    double memHit = medianMs(
        repeat * 20, [&] { (void)(*rt)->load(cuda, gen.infos.front()); });
    std::string name = spec.substr(spec.find_last_of('/') + 1);
    std::printf("%-26s %10.1f %12.1f %12.1f %12.1f %12.3f %12.4f\n",
                name.c_str(), dslMs, nvrtc[0], nvrtc[1], simCold, diskHit,
                memHit);
  }
  std::system(("rm -rf '" + cacheDir + "'").c_str());
  return 0;
}
