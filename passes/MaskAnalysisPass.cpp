//===- MaskAnalysisPass.cpp - Skip masked tiles, drop mask code on full ones //
//
// For each masked KV loop of a tiled program:
//   1. a scan before the loop finds the first and last KV tile the Q tile
//      can see (emitTileClass(...).canTrue) and the loop runs only over
//      them; a Q tile that sees nothing runs no iteration (o = 0, lse = -inf);
//   2. in the loop, attn.mask moves under `scf.if` and runs only on tiles
//      that are partial: some element masked (canFalse) or past kv_len.
// Tiles strictly between two visible ones still run (masked), so the result
// is exact for any mask; for causal, windowed, chunked and prefix masks the
// visible tiles are contiguous and nothing is wasted.
//
//===----------------------------------------------------------------------===//
#include "passes/MaskAnalysis.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNMASKANALYSIS
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

static bool isConstantTrue(Value v) { return matchPattern(v, m_One()); }

namespace {
/// What the rewrite needs to know about the Q side of the program.
struct QTileBounds {
  Value qFirst, qLast;
  /// Query heads of the tile's rows: one, or the G packed heads.
  Value headFirst, headLast;
};
} // namespace

/// Positions of the first and last valid query rows of the program's tile:
/// [qPos0, qPos0 + min(Br, q_len - qRow0) - 1].
static FailureOr<QTileBounds> buildQTileBounds(OpBuilder &builder,
                                               ProgramOp program, MaskOp mask) {
  QLenOp qLen;
  TileStartOp qRow0;
  program.walk([&](Operation *op) {
    if (auto len = dyn_cast<QLenOp>(op))
      qLen = len;
    if (auto start = dyn_cast<TileStartOp>(op);
        start && start.getDim() == TileDim::q)
      qRow0 = start;
  });
  if (!qLen || !qRow0)
    return program.emitOpError("has no attn.q_len / attn.tile_start q to "
                               "bound its query tile");
  Location loc = mask.getLoc();
  // Query rows of the tile: Br / G of them when G heads are packed.
  int64_t pack = program.getPackFactor();
  Value blockQ = builder.create<arith::ConstantIntOp>(
      loc, *program.getBlockQ() / pack, 32);
  Value rowsLeft = builder.create<arith::SubIOp>(
      loc, qLen, qRow0, arith::IntegerOverflowFlags::nsw);
  Value rows = builder.create<arith::MinSIOp>(loc, rowsLeft, blockQ);
  Value one = builder.create<arith::ConstantIntOp>(loc, 1, 32);
  Value qFirst = mask.getQPos0();
  Value qLast = builder.create<arith::SubIOp>(
      loc,
      builder.create<arith::AddIOp>(loc, qFirst, rows,
                                    arith::IntegerOverflowFlags::nsw),
      one, arith::IntegerOverflowFlags::nsw);
  Value headFirst = mask.getHead(), headLast = mask.getHead();
  if (pack > 1) {
    Value g = builder.create<arith::ConstantIntOp>(loc, pack, 32);
    headFirst = builder.create<arith::MulIOp>(loc, mask.getHead(), g,
                                              arith::IntegerOverflowFlags::nsw);
    headLast = builder.create<arith::SubIOp>(
        loc,
        builder.create<arith::AddIOp>(loc, headFirst, g,
                                      arith::IntegerOverflowFlags::nsw),
        one, arith::IntegerOverflowFlags::nsw);
  }
  return QTileBounds{qFirst, qLast, headFirst, headLast};
}

/// [kvFirst, kvLast] of the KV tile starting at `kvFirst`, clipped to kv_len.
static Value buildKVLast(OpBuilder &builder, Location loc, Value kvFirst,
                         Value kvLen, int64_t blockKV) {
  Value blockKVValue = builder.create<arith::ConstantIntOp>(loc, blockKV, 32);
  Value end = builder.create<arith::MinSIOp>(
      loc,
      builder.create<arith::AddIOp>(loc, kvFirst, blockKVValue,
                                    arith::IntegerOverflowFlags::nsw),
      kvLen);
  Value one = builder.create<arith::ConstantIntOp>(loc, 1, 32);
  return builder.create<arith::SubIOp>(loc, end, one,
                                       arith::IntegerOverflowFlags::nsw);
}

/// Emits the scan [lo, hi) over KV tiles whose mask can be true and narrows
/// `loop` to it.
static void narrowLoopBounds(RewriterBase &rewriter, scf::ForOp loop,
                             MaskOp mask, const QTileBounds &q,
                             int64_t blockKV) {
  Location loc = mask.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(loop);
  Value numTiles = loop.getUpperBound();
  Value zero = rewriter.create<arith::ConstantIntOp>(loc, 0, 32);
  Value one = rewriter.create<arith::ConstantIntOp>(loc, 1, 32);
  // Start with the empty range [numTiles, 0).
  auto scan = rewriter.create<scf::ForOp>(loc, zero, numTiles, one,
                                          ValueRange{numTiles, zero});
  {
    OpBuilder::InsertionGuard bodyGuard(rewriter);
    rewriter.setInsertionPointToStart(scan.getBody());
    Value j = scan.getInductionVar();
    Value lo = scan.getRegionIterArg(0), hi = scan.getRegionIterArg(1);
    Value kvFirst =
        rewriter.create<TileStartOp>(loc, rewriter.getI32Type(), TileDim::kv, j,
                                     rewriter.getI64IntegerAttr(blockKV));
    Value kvLast =
        buildKVLast(rewriter, loc, kvFirst, mask.getKvLen(), blockKV);
    TileRect rect{mask.getBatch(), q.headFirst, q.headLast, q.qFirst,
                  q.qLast,         kvFirst,     kvLast};
    TileClass tileClass = emitTileClass(rewriter, loc, mask.getBody(), rect);
    Value newLo = rewriter.create<arith::SelectOp>(
        loc, tileClass.canTrue, rewriter.create<arith::MinSIOp>(loc, lo, j),
        lo);
    Value newHi = rewriter.create<arith::SelectOp>(
        loc, tileClass.canTrue,
        rewriter.create<arith::AddIOp>(loc, j, one,
                                       arith::IntegerOverflowFlags::nsw),
        hi);
    rewriter.create<scf::YieldOp>(loc, ValueRange{newLo, newHi});
  }
  rewriter.modifyOpInPlace(loop, [&] {
    loop.getLowerBoundMutable().assign(scan.getResult(0));
    loop.getUpperBoundMutable().assign(scan.getResult(1));
  });
}

/// Puts `mask` under `scf.if needsMask`.
static void guardMask(RewriterBase &rewriter, MaskOp mask, Value needsMask) {
  Location loc = mask.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(mask);
  auto ifOp = rewriter.create<scf::IfOp>(loc, TypeRange{mask.getType()},
                                         needsMask, /*withElseRegion=*/true);
  rewriter.replaceAllUsesWith(mask.getResult(), ifOp.getResult(0));
  rewriter.moveOpBefore(mask, ifOp.thenBlock(), ifOp.thenBlock()->end());
  rewriter.setInsertionPointToEnd(ifOp.thenBlock());
  rewriter.create<scf::YieldOp>(loc, mask.getResult());
  rewriter.setInsertionPointToEnd(ifOp.elseBlock());
  rewriter.create<scf::YieldOp>(loc, mask.getS());
}

static LogicalResult analyzeMask(RewriterBase &rewriter, ProgramOp program,
                                 MaskOp mask) {
  auto loop = dyn_cast<scf::ForOp>(mask->getParentOp());
  if (!loop || loop->getParentOp() != program)
    return mask.emitOpError("is not in the program's KV loop");
  int64_t blockKV = *program.getBlockKv();
  Location loc = mask.getLoc();

  rewriter.setInsertionPoint(loop);
  FailureOr<QTileBounds> q = buildQTileBounds(rewriter, program, mask);
  if (failed(q))
    return failure();

  // Per-tile classification, at the top of the loop body.
  rewriter.setInsertionPoint(mask);
  Value kvFirst = mask.getKvPos0();
  Value kvLast = buildKVLast(rewriter, loc, kvFirst, mask.getKvLen(), blockKV);
  Value blockKVValue = rewriter.create<arith::ConstantIntOp>(loc, blockKV, 32);
  Value pastEnd = rewriter.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::sgt,
      rewriter.create<arith::AddIOp>(loc, kvFirst, blockKVValue,
                                     arith::IntegerOverflowFlags::nsw),
      mask.getKvLen());
  Value needsMask = pastEnd;
  if (!mask.getBody().empty()) {
    TileRect rect{mask.getBatch(), q->headFirst, q->headLast, q->qFirst,
                  q->qLast,        kvFirst,      kvLast};
    TileClass tileClass = emitTileClass(rewriter, loc, mask.getBody(), rect);
    needsMask =
        rewriter.createOrFold<arith::OrIOp>(loc, pastEnd, tileClass.canFalse);
    if (!tileClass.unboundedReason.empty()) {
      InFlightDiagnostic remark =
          emitRemark(tileClass.unboundedLoc.value_or(mask.getLoc()))
          << tileClass.unboundedReason << ": ";
      if (isConstantTrue(needsMask))
        remark << "every visited KV tile runs the mask";
      else
        remark << "tiles are bounded by the rest of the mask";
      if (isConstantTrue(tileClass.canTrue))
        remark << ", and every KV tile is visited";
    }
    if (!isConstantTrue(tileClass.canTrue))
      narrowLoopBounds(rewriter, loop, mask, *q, blockKV);
  }
  if (!isConstantTrue(needsMask))
    guardMask(rewriter, mask, needsMask);
  return success();
}

namespace {
struct AttnMaskAnalysisPass
    : public attnc::impl::AttnMaskAnalysisBase<AttnMaskAnalysisPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    IRRewriter rewriter(&getContext());
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>()) {
      if (!program.getBlockQ() || !program.getBlockKv()) {
        program.emitOpError("must be tiled before its mask is analysed; run "
                            "--attn-tile first");
        return signalPassFailure();
      }
      SmallVector<MaskOp> masks;
      program.walk([&](MaskOp mask) {
        // Already under an scf.if: analysed by an earlier run.
        if (!isa<scf::IfOp>(mask->getParentOp()))
          masks.push_back(mask);
      });
      for (MaskOp mask : masks)
        if (failed(analyzeMask(rewriter, program, mask)))
          return signalPassFailure();
    }
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("must be lowered and tiled before mask analysis; run "
                       "--attn-online-softmax --attn-tile first");
      return signalPassFailure();
    }
  }
};
} // namespace
