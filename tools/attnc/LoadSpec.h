//===- LoadSpec.h - A spec file opened for attnc run and attnc tune -------===//
#ifndef ATTNC_TOOLS_ATTNC_LOADSPEC_H
#define ATTNC_TOOLS_ATTNC_LOADSPEC_H

#include "dialect/AttnDialect.h"
#include "tune/JitKernels.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <optional>
#include <string>

namespace attnc {

/// A spec's kernels on a runtime, and its attn.sdpa form (the float64
/// reference, and what random inputs are made for).
struct LoadedSpec {
  std::unique_ptr<JitKernels> jit;
  mlir::OwningOpRef<mlir::ModuleOp> reference;
  attn::KernelOp kernel() {
    return *reference->getOps<attn::KernelOp>().begin();
  }
};

/// Reads and checks `path`; on failure prints the diagnostics, or
/// "<tool>: error: ..." , to stderr and returns nullopt.
std::optional<LoadedSpec> loadSpec(Runtime &runtime, mlir::MLIRContext &context,
                                   const std::string &path,
                                   const JitKernels::Options &options,
                                   const char *tool);

} // namespace attnc

#endif // ATTNC_TOOLS_ATTNC_LOADSPEC_H
