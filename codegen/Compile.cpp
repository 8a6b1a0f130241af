//===- Compile.cpp - Spec text to CUDA source in one call -----------------===//
#include "codegen/Compile.h"
#include "codegen/CudaEmitter.h"
#include "dialect/MLIRGen.h"
#include "dsl/Frontend.h"

#include "mlir/Pass/PassManager.h"

#include <sstream>

using namespace mlir;
using namespace attnc;

PipelineOptions attnc::decodePipeline(PipelineOptions base) {
  base.packGQA = true;
  base.splitKV = true;
  return base;
}

FailureOr<CompiledModule> attnc::lowerAndEmit(ModuleOp module,
                                              const PipelineOptions &options,
                                              std::string &error) {
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  if (failed(buildAttnPipeline(pm, options, &error)))
    return failure();
  if (failed(pm.run(module))) {
    error = "the attn pipeline failed (see the diagnostics above)";
    return failure();
  }
  CompiledModule compiled;
  llvm::raw_string_ostream os(compiled.cuda);
  if (failed(emitCudaModule(module, os, compiled.kernels))) {
    error = "the IR could not be printed as CUDA (see the diagnostics above)";
    return failure();
  }
  os.flush();
  return compiled;
}

FailureOr<CompiledModule> attnc::compileSpecText(MLIRContext &context,
                                                 const std::string &name,
                                                 const std::string &text,
                                                 const PipelineOptions &options,
                                                 std::string &error) {
  std::optional<dsl::Module> module = dsl::parseAndCheckText(name, text, error);
  if (!module)
    return failure();
  OwningOpRef<ModuleOp> ir = buildModule(context, *module);
  if (!ir) {
    error = "internal error: the IR built from " + name + " does not verify";
    return failure();
  }
  return lowerAndEmit(*ir, options, error);
}
