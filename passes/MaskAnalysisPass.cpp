//===- MaskAnalysisPass.cpp - Skip masked tiles, drop mask code on full ones //
//
// For each masked KV loop of a tiled program:
//   1. a scan before the loop finds the first and last KV tile the Q tile
//      can see (emitTileClass(...).canTrue) and the loop runs only over
//      them; a Q tile that sees nothing runs no iteration (o = 0, lse = -inf,
//      or the sink's logit with an attention sink);
//   2. in the loop, attn.mask moves under `scf.if` and runs only on tiles
//      that are partial: some element masked (canFalse) or past kv_len.
// A mask that is a union of constraints (sinks || window) can leave gaps
// between its visible tiles: the scan then records up to max-ranges runs and
// the loop iterates t over their union, mapping t to a tile with
// attn.tile_of_ranges. Tiles inside a recorded run, and the gaps of runs
// merged for want of a slot, still run (masked), so the result is exact for
// any mask; for causal, windowed, chunked, prefix and sinks + window masks
// exactly the tiles holding a visible element run.
//
//===----------------------------------------------------------------------===//
#include "passes/MaskAnalysis.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
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
  // The program's own q_len and q tile start, in its body: a mask or score
  // region may read q_len too, but that one is not in scope here.
  QLenOp qLen;
  TileStartOp qRow0;
  for (Operation &op : program.getBody().front()) {
    if (auto len = dyn_cast<QLenOp>(op); len && !qLen)
      qLen = len;
    if (auto start = dyn_cast<TileStartOp>(op);
        start && start.getDim() == TileDim::q && !qRow0)
      qRow0 = start;
  }
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
  Value qFirst, qLast;
  if (program.getQPositions()) {
    // Positions from the launch, in no particular order.
    auto span =
        builder.create<QSpanOp>(loc, builder.getI32Type(), builder.getI32Type(),
                                mask.getBatch(), qRow0, rows);
    qFirst = span.getMin();
    qLast = span.getMax();
  } else {
    qFirst = mask.getQPos0();
    qLast = builder.create<arith::SubIOp>(
        loc,
        builder.create<arith::AddIOp>(loc, qFirst, rows,
                                      arith::IntegerOverflowFlags::nsw),
        one, arith::IntegerOverflowFlags::nsw);
  }
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

/// Whether the Q tile can see some element of KV tile `j` (canTrue).
static Value buildCanSee(RewriterBase &rewriter, MaskOp mask,
                         const QTileBounds &q, Value j, int64_t blockKV) {
  Location loc = mask.getLoc();
  Value kvFirst =
      rewriter.create<TileStartOp>(loc, rewriter.getI32Type(), TileDim::kv, j,
                                   rewriter.getI64IntegerAttr(blockKV));
  Value kvLast = buildKVLast(rewriter, loc, kvFirst, mask.getKvLen(), blockKV);
  TileRect rect{mask.getBatch(), q.headFirst, q.headLast, q.qFirst,
                q.qLast,         kvFirst,     kvLast};
  return emitTileClass(rewriter, loc, mask.getBody(), rect).canTrue;
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
    Value visible = buildCanSee(rewriter, mask, q, j, blockKV);
    Value newLo = rewriter.create<arith::SelectOp>(
        loc, visible, rewriter.create<arith::MinSIOp>(loc, lo, j), lo);
    Value newHi = rewriter.create<arith::SelectOp>(
        loc, visible,
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

/// How many runs of visible tiles the mask's or/and structure can produce:
/// `a || b` adds, `a && b` multiplies (and the reverse under `!`), anything
/// else is one run. Only a hint for how many ranges the scan records: any
/// count is exact, a low one only runs some masked tiles.
static int64_t countRuns(Value value, bool negated, int64_t cap) {
  Operation *def = value.getDefiningOp();
  auto both = [&](Value a, Value b, bool sum) {
    int64_t x = countRuns(a, negated, cap), y = countRuns(b, negated, cap);
    return std::min(cap, sum ? x + y : x * y);
  };
  if (auto orOp = dyn_cast_or_null<arith::OrIOp>(def))
    return both(orOp.getLhs(), orOp.getRhs(), /*sum=*/!negated);
  if (auto andOp = dyn_cast_or_null<arith::AndIOp>(def))
    return both(andOp.getLhs(), andOp.getRhs(), /*sum=*/negated);
  if (auto xorOp = dyn_cast_or_null<arith::XOrIOp>(def)) {
    if (isConstantTrue(xorOp.getRhs()))
      return countRuns(xorOp.getLhs(), !negated, cap);
    if (isConstantTrue(xorOp.getLhs()))
      return countRuns(xorOp.getRhs(), !negated, cap);
  }
  if (auto select = dyn_cast_or_null<arith::SelectOp>(def);
      select && select.getType().isInteger(1))
    return both(select.getTrueValue(), select.getFalseValue(), /*sum=*/true);
  return 1;
}

static int64_t countMaskRuns(MaskOp mask, int64_t cap) {
  auto yield = cast<YieldOp>(mask.getBody().front().getTerminator());
  return countRuns(yield.getValue(), /*negated=*/false,
                   std::max<int64_t>(cap, 1));
}

/// Emits a scan recording up to `slots` runs of KV tiles whose mask can be
/// true, and makes `loop` iterate t over their union: its body maps t to a
/// tile with attn.tile_of_ranges. A visible tile after a gap opens the next
/// slot; with none left it extends the last run over the gap.
static void iterateTileRuns(RewriterBase &rewriter, scf::ForOp loop,
                            MaskOp mask, const QTileBounds &q, int64_t blockKV,
                            int64_t slots) {
  Location loc = mask.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(loop);
  auto constant = [&](int64_t v) -> Value {
    return rewriter.create<arith::ConstantIntOp>(loc, v, 32);
  };
  auto add = [&](Value a, Value b) -> Value {
    return rewriter.create<arith::AddIOp>(loc, a, b,
                                          arith::IntegerOverflowFlags::nsw);
  };
  auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) -> Value {
    return rewriter.create<arith::CmpIOp>(loc, p, a, b);
  };
  auto select = [&](Value c, Value a, Value b) -> Value {
    return rewriter.create<arith::SelectOp>(loc, c, a, b);
  };
  Value numTiles = loop.getUpperBound();
  Value zero = constant(0), one = constant(1);
  // Every slot starts as the empty range [numTiles, 0); the last operand is
  // the slot being filled.
  SmallVector<Value> init;
  for (int64_t r = 0; r < slots; ++r) {
    init.push_back(numTiles);
    init.push_back(zero);
  }
  init.push_back(zero);
  auto scan = rewriter.create<scf::ForOp>(loc, zero, numTiles, one, init);
  {
    OpBuilder::InsertionGuard bodyGuard(rewriter);
    rewriter.setInsertionPointToStart(scan.getBody());
    Value j = scan.getInductionVar();
    auto lo = [&](int64_t r) { return scan.getRegionIterArg(2 * r); };
    auto hi = [&](int64_t r) { return scan.getRegionIterArg(2 * r + 1); };
    Value slot = scan.getRegionIterArg(2 * slots);
    Value visible = buildCanSee(rewriter, mask, q, j, blockKV);
    // The bounds of the slot being filled.
    Value curLo = lo(0), curHi = hi(0);
    for (int64_t r = 1; r < slots; ++r) {
      Value isR = cmp(arith::CmpIPredicate::eq, slot, constant(r));
      curLo = select(isR, lo(r), curLo);
      curHi = select(isR, hi(r), curHi);
    }
    // A visible tile not adjacent to a non-empty run opens the next slot.
    Value gap = rewriter.create<arith::AndIOp>(
        loc, cmp(arith::CmpIPredicate::sgt, curHi, curLo),
        cmp(arith::CmpIPredicate::ne, curHi, j));
    Value open = rewriter.create<arith::AndIOp>(
        loc, rewriter.create<arith::AndIOp>(loc, visible, gap),
        cmp(arith::CmpIPredicate::slt, slot, constant(slots - 1)));
    Value newSlot = select(open, add(slot, one), slot);
    SmallVector<Value> next;
    for (int64_t r = 0; r < slots; ++r) {
      Value here = rewriter.create<arith::AndIOp>(
          loc, visible, cmp(arith::CmpIPredicate::eq, newSlot, constant(r)));
      Value empty = cmp(arith::CmpIPredicate::sle, hi(r), lo(r));
      next.push_back(
          select(rewriter.create<arith::AndIOp>(loc, here, empty), j, lo(r)));
      next.push_back(select(here, add(j, one), hi(r)));
    }
    next.push_back(newSlot);
    rewriter.create<scf::YieldOp>(loc, next);
  }
  // t runs over the total length of the runs.
  SmallVector<Value> bounds(scan.getResults().begin(),
                            scan.getResults().begin() + 2 * slots);
  Value total = zero;
  for (int64_t r = 0; r < slots; ++r)
    total = add(total, rewriter.create<arith::MaxSIOp>(
                           loc,
                           rewriter.create<arith::SubIOp>(
                               loc, bounds[2 * r + 1], bounds[2 * r],
                               arith::IntegerOverflowFlags::nsw),
                           zero));
  rewriter.modifyOpInPlace(loop, [&] {
    loop.getLowerBoundMutable().assign(zero);
    loop.getUpperBoundMutable().assign(total);
  });
  rewriter.setInsertionPointToStart(loop.getBody());
  Value t = loop.getInductionVar();
  auto tile =
      rewriter.create<TileOfRangesOp>(loc, rewriter.getI32Type(), t, bounds);
  rewriter.replaceAllUsesExcept(t, tile.getResult(), tile);
}

/// Where remarks about `mask` point: its expression in the spec.
static Location maskExprLoc(MaskOp mask) {
  Value yielded =
      cast<YieldOp>(mask.getBody().front().getTerminator()).getValue();
  Operation *root = yielded.getDefiningOp();
  return root ? root->getLoc() : mask.getLoc();
}

/// Whether `mask` gets a runtime block mask under `policy`: "always", or
/// "auto" when interval arithmetic cannot bound some part of it (then
/// `reason`, at `reasonLoc`, says which). Probed in a scratch block, so
/// nothing is left behind.
static bool wantsBlockMask(RewriterBase &rewriter, MaskOp mask,
                           const QTileBounds &q, StringRef policy,
                           std::string &reason,
                           std::optional<Location> &reasonLoc) {
  if (policy == "never")
    return false;
  OpBuilder::InsertionGuard guard(rewriter);
  Block scratch;
  rewriter.setInsertionPointToStart(&scratch);
  Value kvFirst = mask.getKvPos0();
  TileRect rect{mask.getBatch(), q.headFirst, q.headLast, q.qFirst,
                q.qLast,         kvFirst,     kvFirst};
  TileClass probe =
      emitTileClass(rewriter, mask.getLoc(), mask.getBody(), rect);
  scratch.dropAllReferences();
  while (!scratch.empty())
    scratch.back().erase();
  reason = probe.unboundedReason;
  reasonLoc = probe.unboundedLoc;
  return policy == "always" || !probe.unboundedReason.empty() ||
         probe.fineRanged;
}

/// Gives the kernel an attn.block_mask pre-pass of `mask` (the program's
/// tiling) and makes `loop` iterate t over its list for this program: the
/// body maps t to a tile with attn.block_entry. Returns the entry's `full`.
static Value iterateBlockMask(RewriterBase &rewriter, ProgramOp program,
                              scf::ForOp loop, MaskOp mask) {
  Location loc = mask.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(program);
  bool perHead = !mask.getBody().getArgument(SdpaOp::kHead).use_empty();
  auto blockMask = rewriter.create<BlockMaskOp>(
      loc, *program.getBlockQ(), *program.getBlockKv(), program.getPackFactor(),
      perHead);
  IRMapping mapping;
  mask.getBody().cloneInto(&blockMask.getBody(), mapping);
  // The tile-level bound the pre-pass tries first: most tiles of a causal,
  // windowed or document mask are settled by it without an element.
  Type i32 = rewriter.getI32Type();
  {
    int64_t pack = program.getPackFactor();
    SmallVector<Type> types(BlockMaskOp::kNumClassifyArgs, i32);
    SmallVector<Location> locs(BlockMaskOp::kNumClassifyArgs, loc);
    Block *classify =
        rewriter.createBlock(&blockMask.getClassify(), {}, types, locs);
    rewriter.setInsertionPointToStart(classify);
    auto arg = [&](unsigned i) -> Value { return classify->getArgument(i); };
    // One head per row without packing: the same value, read exactly.
    TileRect rect{arg(0), arg(1), pack > 1 ? arg(2) : arg(1), arg(3), arg(4),
                  arg(5), arg(6)};
    TileClass tileClass = emitTileClass(rewriter, loc, mask.getBody(), rect);
    auto bit = [&](Value flag, int64_t value) -> Value {
      return rewriter.create<arith::SelectOp>(
          loc, flag, rewriter.create<arith::ConstantIntOp>(loc, value, 32),
          rewriter.create<arith::ConstantIntOp>(loc, 0, 32));
    };
    Value canTrue = bit(tileClass.canTrue, 1);
    Value canFalse = bit(tileClass.canFalse, 2);
    rewriter.create<YieldOp>(
        loc, rewriter.create<arith::OrIOp>(loc, canTrue, canFalse));
  }

  rewriter.setInsertionPoint(loop);
  Value count = rewriter.create<BlockCountOp>(
      loc, i32, program.getBatch(), program.getHead(), program.getQTile());
  Value zero = rewriter.create<arith::ConstantIntOp>(loc, 0, 32);
  rewriter.modifyOpInPlace(loop, [&] {
    loop.getLowerBoundMutable().assign(zero);
    loop.getUpperBoundMutable().assign(count);
  });
  rewriter.setInsertionPointToStart(loop.getBody());
  Value t = loop.getInductionVar();
  auto entry = rewriter.create<BlockEntryOp>(
      loc, i32, rewriter.getI1Type(), program.getBatch(), program.getHead(),
      program.getQTile(), t, count);
  rewriter.replaceAllUsesExcept(t, entry.getTile(), entry);
  return entry.getFull();
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
                                 MaskOp mask, int64_t maxRanges, bool remarks,
                                 StringRef blockMaskPolicy) {
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
  std::string reason;
  std::optional<Location> reasonLoc;
  if (!mask.getBody().empty() &&
      wantsBlockMask(rewriter, mask, *q, blockMaskPolicy, reason, reasonLoc)) {
    // The pre-pass derives each row's position from the lengths.
    if (program.getQPositions())
      return emitError(reasonLoc.value_or(maskExprLoc(mask)))
             << "a cascade kernel (query positions given at launch) cannot "
                "use a runtime block mask"
             << (reason.empty() ? std::string()
                                : " (needed because " + reason + ")");
    if (!reason.empty())
      emitRemark(reasonLoc.value_or(loc))
          << reason << ": a runtime block mask bounds each tile instead";
    // Runtime block mask: the list says which tiles are full.
    Value full = iterateBlockMask(rewriter, program, loop, mask);
    rewriter.setInsertionPoint(mask);
    Value partial = rewriter.create<arith::XOrIOp>(
        loc, full, rewriter.create<arith::ConstantIntOp>(loc, 1, 1));
    needsMask = rewriter.create<arith::OrIOp>(loc, pastEnd, partial);
    if (remarks)
      emitRemark(maskExprLoc(mask))
          << "tile skipping: a runtime block mask (a pre-pass lists each "
             "query tile's KV tiles with a visible element, full or partial)";
  } else if (!mask.getBody().empty()) {
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
    // A block mask read from a tensor may leave any pattern of visible
    // tiles: it gets every slot the scan may record.
    int64_t runs =
        tileClass.pairRanged ? maxRanges : countMaskRuns(mask, maxRanges);
    Location exprLoc = maskExprLoc(mask);
    std::string form;
    if (isConstantTrue(tileClass.canTrue)) {
      form = "none, every KV tile can be visible";
    } else if (runs > 1) {
      iterateTileRuns(rewriter, loop, mask, *q, blockKV, runs);
      form = "a union of up to " + std::to_string(runs) +
             " ranges of KV tiles per query tile";
    } else {
      narrowLoopBounds(rewriter, loop, mask, *q, blockKV);
      form = "one contiguous range of KV tiles per query tile";
    }
    if (!tileClass.rangedParams.empty()) {
      form += ", bounded at run time by the values of";
      for (const std::string &param : tileClass.rangedParams)
        form += " @" + param;
      form += " over each tile";
      if (tileClass.pairRanged)
        form +=
            " (a parameter read at two or three ranging indices, as a "
            "block mask is, is scanned over boxes of at most 64 elements; a "
            "tile with a larger one is visited)";
    }
    if (remarks && (tileClass.unboundedReason.empty() ||
                    !isConstantTrue(tileClass.canTrue)))
      emitRemark(exprLoc) << "tile skipping: " << form;
  }
  if (!isConstantTrue(needsMask))
    guardMask(rewriter, mask, needsMask);
  return success();
}

namespace {
struct AttnMaskAnalysisPass
    : public attnc::impl::AttnMaskAnalysisBase<AttnMaskAnalysisPass> {
  using AttnMaskAnalysisBase::AttnMaskAnalysisBase;
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    if (maxRanges < 1 || maxRanges > 16) {
      kernel.emitOpError("max-ranges must be in [1, 16], got ") << maxRanges;
      return signalPassFailure();
    }
    if (blockMask != "auto" && blockMask != "always" && blockMask != "never") {
      kernel.emitOpError("block-mask must be auto, always or never, got '")
          << blockMask << "'";
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (ProgramOp program :
         llvm::to_vector(kernel.getBody().front().getOps<ProgramOp>())) {
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
        if (failed(analyzeMask(rewriter, program, mask, maxRanges, remarks,
                               blockMask)))
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
