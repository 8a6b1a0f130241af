//===- Pipeline.cpp - The canonical attn lowering pipeline ----------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace attnc;

void attnc::buildAttnPipeline(OpPassManager &pm,
                              const PipelineOptions &options) {
  OpPassManager &kernel = pm.nest<attn::KernelOp>();
  kernel.addPass(createAttnOnlineSoftmax());
  kernel.addPass(createAttnTile(AttnTileOptions{options.blockQ, options.blockKV}));
  kernel.addPass(createAttnBlockTable());
  kernel.addPass(createAttnMaskAnalysis());
  // Cleanup inside each program: constants hoist to the program's entry,
  // which the kernel body (attn ops only) must not receive.
  OpPassManager &program = kernel.nest<attn::ProgramOp>();
  program.addPass(createCanonicalizerPass());
  program.addPass(createCSEPass());
}

namespace {
struct PipelineCLOptions : public PassPipelineOptions<PipelineCLOptions> {
  Option<int64_t> blockQ{*this, "block-q", llvm::cl::desc("Query rows per CTA"),
                         llvm::cl::init(64)};
  Option<int64_t> blockKV{*this, "block-kv",
                          llvm::cl::desc("KV rows per loop iteration"),
                          llvm::cl::init(64)};
};
} // namespace

void attnc::registerAttnPipelines() {
  registerAttnOnlineSoftmax();
  registerAttnTile();
  registerAttnBlockTable();
  registerAttnMaskAnalysis();
  PassPipelineRegistration<PipelineCLOptions>(
      "attn-pipeline",
      "The canonical lowering: online softmax, tile, block table, mask "
      "analysis, cleanup",
      [](OpPassManager &pm, const PipelineCLOptions &options) {
        buildAttnPipeline(pm, PipelineOptions{options.blockQ, options.blockKV});
      });
}
