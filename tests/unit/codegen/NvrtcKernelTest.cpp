//===- NvrtcKernelTest.cpp - Every generated kernel compiles for the GPU --===//
//
// NVRTC compiles each kernel of the matrix and each example spec for sm_80
// and sm_90; ptxas' report must show no spills, at most 255 registers and
// shared memory within what the architecture gives one block.
//
//===----------------------------------------------------------------------===//
#include "KernelVariants.h"

#include "runtime/jit/Nvrtc.h"

#include <catch2/catch.hpp>

using namespace attnc;
using namespace attnc::test;

static void checkCompiles(const BuiltVariant &built, const std::string &what) {
  for (const char *arch : {"sm_80", "sm_90"}) {
    jit::NvrtcOptions options;
    options.arch = arch;
    options.includeDirs = jit::defaultIncludeDirs();
    jit::NvrtcResult result =
        jit::compileWithNvrtc(built.cuda, what + ".cu", options);
    INFO(what << " on " << arch);
    if (!result.ok)
      FAIL(result.error << "\n--- source ---\n" << built.cuda);
    // The attention kernel, the merge kernel of a split-KV one, the
    // pre-pass of a runtime block mask and a cascade kernel's merge.
    REQUIRE(result.resources.size() ==
            1u + (built.info.splitKV ? 1u : 0u) +
                (built.info.hasBlockMask() ? 1u : 0u) +
                (built.info.qPositions ? 1u : 0u));
    for (const jit::KernelResources &k : result.resources) {
      CHECK((k.kernel == built.info.name || k.kernel == built.info.mergeName ||
             k.kernel == built.info.blockMaskName ||
             k.kernel == built.info.cascadeMergeName));
      CHECK(k.spillStoreBytes == 0);
      CHECK(k.spillLoadBytes == 0);
      // No local-memory arrays either (a stack frame is local memory).
      CHECK(k.stackBytes == 0);
      CHECK(k.registers > 0);
      CHECK(k.registers <= 255);
      // Dynamic shared memory: 48 KiB without opt-in; the opt-in maxima are
      // 163 KiB (A100) and 227 KiB (H100).
      int limit = jit::maxSharedBytesOptin(arch);
      CHECK(built.info.sharedBytes + k.staticSharedBytes <= limit);
      WARN(what << " " << k.kernel << " " << arch << ": " << k.registers
                << " registers, " << k.spillStoreBytes << "/"
                << k.spillLoadBytes << " spill bytes, "
                << built.info.sharedBytes << " B dynamic shared memory");
    }
  }
}

TEST_CASE("every kernel of the matrix compiles for sm_80 and sm_90 without "
          "spills",
          "[codegen][nvrtc]") {
  mlir::MLIRContext context;
  for (const KernelVariant &variant : kernelVariants()) {
    BuiltVariant built = buildVariant(context, variant);
    checkCompiles(built, variant.name);
  }
}
