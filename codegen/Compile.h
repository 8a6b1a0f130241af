//===- Compile.h - Spec text to CUDA source in one call -------------------===//
//
// The JIT front half that tools, tests and benchmarks share: DSL text →
// attn dialect → the canonical pipeline → CUDA source plus the KernelInfo the
// runtime launches it with.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_COMPILE_H
#define ATTNC_CODEGEN_COMPILE_H

#include "passes/Passes.h"
#include "runtime/core/KernelInfo.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace attnc {

/// One translation unit of generated CUDA and its kernels.
struct CompiledModule {
  std::string cuda;
  std::vector<KernelInfo> kernels;
};

/// The decode variant of `base`: query heads packed per KV head and the KV
/// loop split across programs.
PipelineOptions decodePipeline(PipelineOptions base);

/// Lowers `module` (attn.sdpa form; changed in place) through the pipeline
/// and prints it as CUDA. Diagnostics go to the context's handler; `error`
/// gets a one-line reason.
mlir::FailureOr<CompiledModule> lowerAndEmit(mlir::ModuleOp module,
                                             const PipelineOptions &options,
                                             std::string &error);

/// Parses and checks DSL `text` (named `name` in messages), builds its IR
/// and compiles it. DSL errors are rendered into `error`.
mlir::FailureOr<CompiledModule> compileSpecText(mlir::MLIRContext &context,
                                                const std::string &name,
                                                const std::string &text,
                                                const PipelineOptions &options,
                                                std::string &error);

} // namespace attnc

#endif // ATTNC_CODEGEN_COMPILE_H
