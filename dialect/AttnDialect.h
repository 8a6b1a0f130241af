//===- AttnDialect.h - The attn dialect and its ops -----------------------===//
#ifndef ATTNC_DIALECT_ATTNDIALECT_H
#define ATTNC_DIALECT_ATTNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/AttnDialect.h.inc"
#include "dialect/AttnEnums.h.inc"

namespace attnc::attn {
/// How `attn.param` encodes a dimension in its `dims` array: a positive value
/// is a fixed extent, the negative values below are symbolic extents.
enum ParamDimCode : int64_t {
  kDynamicDim = -1, ///< `?`: set by the tensor passed at run time
  kBatchDim = -2,   ///< `batch`
  kQHeadsDim = -3,  ///< `q_heads`
  kKVHeadsDim = -4, ///< `kv_heads`
};
} // namespace attnc::attn

#define GET_OP_CLASSES
#include "dialect/AttnOps.h.inc"

namespace attnc::attn {
/// Checks that `region` is an expression region of `op`: one block taking
/// (score: f32, b, h, q, kv: i32) and ending in an attn.yield of `yieldType`.
/// `what` names the region in messages ("score", "mask").
mlir::LogicalResult verifyExpressionRegion(mlir::Operation *op,
                                           mlir::Region &region,
                                           llvm::StringRef what,
                                           mlir::Type yieldType);
/// Checks an attention-sink region: an expression region yielding f32 that
/// reads neither `score` nor `kv`.
mlir::LogicalResult verifySinkRegion(mlir::Operation *op, mlir::Region &region);
/// Checks a per-row factor region (k_scale, v_scale): an expression region
/// yielding f32 that reads neither `score`, `q` nor `kv`.
mlir::LogicalResult verifyRowFactorRegion(mlir::Operation *op,
                                          mlir::Region &region);
/// Names an expression region's arguments %score, %b, %h, %q, %kv.
void nameExpressionRegionArgs(mlir::Region &region,
                              mlir::OpAsmSetValueNameFn setNameFn);
} // namespace attnc::attn

#endif // ATTNC_DIALECT_ATTNDIALECT_H
