//===- MaskAnalysis.h - Bound a mask over a Q tile x KV tile rectangle ----===//
//
// A mask is a boolean expression in q, kv and values fixed for a whole CTA
// (b, h, constants, parameters indexed by b or h). Evaluated with interval
// arithmetic over q in [qFirst, qLast] and kv in [kvFirst, kvLast], it gives
// two bits per tile: can some element be visible (canTrue), can some element
// be masked (canFalse). !canTrue: skip the tile; !canFalse: no mask code.
// The evaluation is emitted as arith IR, so it runs in the kernel with the
// tile's real bounds and the sequence's real parameter values.
//
// Sound by construction: every op's interval result contains every value
// the op takes on the rectangle, so "skip" and "full" are never wrong; ops
// the analysis cannot bound make both bits true (the tile is "partial").
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_PASSES_MASKANALYSIS_H
#define ATTNC_PASSES_MASKANALYSIS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Region.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <string>
#include <vector>

namespace attnc {

/// The rectangle a mask is bounded over; all i32 values, bounds inclusive.
struct TileRect {
  mlir::Value batch;
  /// Query heads of the rows (the same value when there is one).
  mlir::Value headFirst, headLast;
  mlir::Value qFirst, qLast;
  mlir::Value kvFirst, kvLast;
};

/// i1 values computed by the emitted IR.
struct TileClass {
  mlir::Value canTrue;  ///< some element of the rectangle is visible
  mlir::Value canFalse; ///< some element of the rectangle is masked
  /// Why the mask could not be bounded (empty when it could): e.g. it reads
  /// a tensor parameter at q or kv.
  std::string unboundedReason;
  /// The op of the mask region the reason is about.
  std::optional<mlir::Location> unboundedLoc;
  /// Parameters read at a ranging index (doc[b, q]), bounded at run time by
  /// their values over the tile (attn.param_range), sorted.
  std::vector<std::string> rangedParams;
  /// Some parameter is read at two ranging indices (a block mask such as
  /// blocks[h, q / 64, kv / 64]): its visible tiles follow no structure the
  /// mask's `||` / `&&` shows.
  bool pairRanged = false;
  /// Some parameter is read at two or more indices that follow q or kv at
  /// full resolution (allow[q, kv]): its box over a tile is too large for
  /// the in-kernel scan, so every tile may run.
  bool fineRanged = false;
};

/// Emits, at the builder's insertion point, IR that bounds the mask region
/// `mask` (an expression region: score, b, h, q, kv -> i1) over `rect`.
TileClass emitTileClass(mlir::OpBuilder &builder, mlir::Location loc,
                        mlir::Region &mask, const TileRect &rect);

} // namespace attnc

#endif // ATTNC_PASSES_MASKANALYSIS_H
