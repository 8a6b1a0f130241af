//===- MLIRGen.h - Build attn dialect IR from a checked DSL module --------===//
#ifndef ATTNC_DIALECT_MLIRGEN_H
#define ATTNC_DIALECT_MLIRGEN_H

#include "dsl/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace attnc {

/// Builds a module holding one `attn.kernel` per spec of `module`, which must
/// have passed Sema. Every op is located at the DSL source it came from
/// (file:line:col). Returns null, after reporting through the context's
/// diagnostic handler, if the result does not verify.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const dsl::Module &module);

} // namespace attnc

#endif // ATTNC_DIALECT_MLIRGEN_H
