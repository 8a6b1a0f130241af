//===- Pipeline.cpp - The canonical attn lowering pipeline ----------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace attnc;

ArrayRef<StringRef> attnc::attnPipelineStages() {
  static const StringRef stages[] = {"attn-cascade",     "attn-online-softmax",
                                     "attn-pack-gqa",    "attn-tile",
                                     "attn-block-table", "attn-mask-analysis",
                                     "attn-split-kv",    "attn-latent-kv",
                                     "attn-prefetch-kv", "attn-fold-scale",
                                     "cleanup"};
  return stages;
}

LogicalResult attnc::buildAttnPipeline(OpPassManager &pm,
                                       const PipelineOptions &options,
                                       std::string *error) {
  ArrayRef<StringRef> stages = attnPipelineStages();
  if (!options.stopAfter.empty() &&
      !llvm::is_contained(stages, StringRef(options.stopAfter))) {
    if (error)
      *error = "unknown pipeline stage '" + options.stopAfter +
               "'; the stages are: " + llvm::join(stages, ", ");
    return failure();
  }
  OpPassManager &kernel = pm.nest<attn::KernelOp>();
  auto addStage = [&](StringRef name, auto add) {
    add();
    return name == options.stopAfter;
  };
  if (addStage(stages[0], [&] {
        if (options.cascade)
          kernel.addPass(createAttnCascade());
      }))
    return success();
  if (addStage(stages[1], [&] { kernel.addPass(createAttnOnlineSoftmax()); }))
    return success();
  if (addStage(stages[2], [&] {
        if (options.packGQA)
          kernel.addPass(createAttnPackGQA(
              AttnPackGQAOptions{/*heads=*/0, options.blockQ}));
      }))
    return success();
  if (addStage(stages[3], [&] {
        kernel.addPass(createAttnTile(AttnTileOptions{
            options.blockQ, options.blockKV, options.warps, options.splitKV}));
      }))
    return success();
  if (addStage(stages[4], [&] { kernel.addPass(createAttnBlockTable()); }))
    return success();
  if (addStage(stages[5], [&] {
        kernel.addPass(createAttnMaskAnalysis(AttnMaskAnalysisOptions{
            options.maxTileRanges, options.maskRemarks, options.blockMask}));
      }))
    return success();
  if (addStage(stages[6], [&] {
        if (options.splitKV)
          kernel.addPass(createAttnSplitKV());
      }))
    return success();
  if (addStage(stages[7], [&] { kernel.addPass(createAttnLatentKV()); }))
    return success();
  if (addStage(stages[8], [&] {
        if (options.prefetchKV)
          kernel.addPass(createAttnPrefetchKV());
      }))
    return success();
  if (addStage(stages[9], [&] {
        if (options.foldScale)
          kernel.addPass(createAttnFoldScale());
      }))
    return success();
  // Cleanup inside each program: constants hoist to the program's entry,
  // which the kernel body (attn ops only) must not receive.
  OpPassManager &program = kernel.nest<attn::ProgramOp>();
  program.addPass(createCanonicalizerPass());
  program.addPass(createCSEPass());
  OpPassManager &blockMask = kernel.nest<attn::BlockMaskOp>();
  blockMask.addPass(createCanonicalizerPass());
  blockMask.addPass(createCSEPass());
  return success();
}

namespace {
struct PipelineCLOptions : public PassPipelineOptions<PipelineCLOptions> {
  Option<int64_t> blockQ{*this, "block-q",
                         llvm::cl::desc("Query rows per CTA (0: by head_dim)"),
                         llvm::cl::init(0)};
  Option<int64_t> blockKV{
      *this, "block-kv",
      llvm::cl::desc("KV rows per loop iteration (0: by head_dim)"),
      llvm::cl::init(0)};
  Option<bool> splitKV{*this, "split-kv",
                       llvm::cl::desc("Split the KV loop across programs"),
                       llvm::cl::init(false)};
  Option<bool> packGQA{*this, "pack-gqa",
                       llvm::cl::desc("Pack GQA query heads into tile rows"),
                       llvm::cl::init(false)};
  Option<int64_t> warps{*this, "warps",
                        llvm::cl::desc("Warps per CTA (0: block-q / 16)"),
                        llvm::cl::init(0)};
  Option<std::string> blockMask{
      *this, "block-mask",
      llvm::cl::desc("Masks iterating over a runtime block mask: auto, "
                     "always, never"),
      llvm::cl::init("auto")};
  Option<bool> cascade{
      *this, "cascade",
      llvm::cl::desc("Query positions and first keys from the launch "
                     "(attn-cascade)"),
      llvm::cl::init(false)};
  Option<bool> prefetchKV{
      *this, "prefetch-kv",
      llvm::cl::desc("Load K tile j+1 while tile j is used"),
      llvm::cl::init(true)};
};
} // namespace

void attnc::registerAttnPipelines() {
  registerAttnCascade();
  registerAttnOnlineSoftmax();
  registerAttnPackGQA();
  registerAttnTile();
  registerAttnBlockTable();
  registerAttnMaskAnalysis();
  registerAttnLatentKV();
  registerAttnPrefetchKV();
  registerAttnFoldScale();
  registerAttnSplitKV();
  registerAttnDeriveBackward();
  PassPipelineRegistration<PipelineCLOptions>(
      "attn-pipeline",
      "The canonical lowering: online softmax, tile, block table, mask "
      "analysis, cleanup",
      [](OpPassManager &pm, const PipelineCLOptions &options) {
        PipelineOptions pipeline;
        pipeline.blockQ = options.blockQ;
        pipeline.blockKV = options.blockKV;
        pipeline.packGQA = options.packGQA;
        pipeline.splitKV = options.splitKV;
        pipeline.prefetchKV = options.prefetchKV;
        pipeline.cascade = options.cascade;
        pipeline.warps = options.warps;
        pipeline.blockMask = options.blockMask;
        (void)buildAttnPipeline(pm, pipeline);
      });
}
