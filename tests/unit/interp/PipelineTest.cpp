//===- PipelineTest.cpp - Every pass preserves what the kernel computes ---===//
//
// Each variant goes through the canonical pipeline, stopping after each
// stage in turn; the interpreter runs every stage on the same random inputs
// and each must match the attn.sdpa form within f16/bf16 rounding.
//
//===----------------------------------------------------------------------===//
#include "InterpTestSupport.h"

#include "LowerForTest.h"

using namespace attnc;
using namespace attnc::test;

namespace {
/// Runs the pipeline on a clone of `module` up to and including `stage`.
mlir::OwningOpRef<mlir::ModuleOp> lowerTo(mlir::ModuleOp module,
                                          llvm::StringRef stage, int64_t blockQ,
                                          int64_t blockKV) {
  PipelineOptions options;
  options.blockQ = blockQ;
  options.blockKV = blockKV;
  options.stopAfter = stage.str();
  return lowerForTest(module, options);
}
} // namespace

TEST_CASE("every pipeline stage computes what attn.sdpa computes",
          "[interp][pipeline]") {
  std::vector<Variant> variants = {
      causalVariant(),   noMaskVariant(),  slidingWindowVariant(),
      softcapVariant(),  alibiVariant(),   prefixLMVariant(),
      documentVariant(), integerVariant(), mixedScoreVariant()};
  struct Config {
    int64_t pageSize, blockQ, blockKV;
  };
  const Config configs[] = {{0, 16, 16}, {5, 16, 32}, {16, 64, 16}};
  uint64_t seed = 300;
  for (const Variant &variant : variants)
    for (const Config &config : configs) {
      ++seed;
      DYNAMIC_SECTION(variant.name << ", page size " << config.pageSize
                                   << ", tiles " << config.blockQ << "x"
                                   << config.blockKV) {
        KernelShape shape;
        shape.qHeads = 4;
        shape.pageSize = config.pageSize;
        auto context = makeContext();
        ParsedKernel sdpa = parseKernel(*context, sdpaKernel(shape, variant));
        std::vector<int64_t> qLens = {1, 7, 33, 1, 0},
                             kvLens = {1, 63, 100, 70, 4};
        if (!variant.needsQLenAtMostKvLen) {
          qLens.insert(qLens.end(), {9, 3});
          kvLens.insert(kvLens.end(), {5, 0});
        }
        AttentionInputs in = randomInputs(sdpa.kernel, qLens, kvLens, seed);
        AttentionOutputs expected = run(sdpa.kernel, in);

        for (llvm::StringRef stage : attnPipelineStages()) {
          INFO("after " << stage.str());
          mlir::OwningOpRef<mlir::ModuleOp> lowered =
              lowerTo(*sdpa.module, stage, config.blockQ, config.blockKV);
          auto kernels = lowered->getOps<attn::KernelOp>();
          REQUIRE(!kernels.empty());
          AttentionOutputs actual = run(*kernels.begin(), in);
          OutputDiff diff = compareOutputs(actual, expected);
          INFO(diff.firstMismatch);
          CHECK(diff.nonFiniteMismatches == 0);
          CHECK(diff.oRelErr <= 1e-2);
          CHECK(diff.lseMaxAbsDiff <= 1e-3);
        }
      }
    }
}
