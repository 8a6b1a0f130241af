//===- PrefetchKV.cpp - Load the next K tile during the current one -------===//
//
//   scf.for %j = %lo to %hi iter_args(%m, %l, %acc) {        before
//     %k = attn.load_k ..., (tile_start kv %j)
//     %s = attn.qk %q, %k
//     ...
//
//   %k0 = attn.load_k ..., (tile_start kv %lo)               after
//   scf.for %j = %lo to %hi iter_args(%m, %l, %acc, %k = %k0) {
//     %s = attn.qk %q, %k
//     %kn = attn.load_k ..., (tile_start kv (%j + 1))
//                              (split-KV: %j + 1 < %hi ? that : kv_len)
//     ...
//     scf.yield ..., %kn
//
// The loads stay attn.load_k ops with their address regions; only where
// they sit and which tile they fetch changes. Where the body has the usual
// shape, the pass also fixes the synchronization (attn.wait, buffer_free):
// two barriers an iteration, see prefetchKTiles.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNPREFETCHKV
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

/// The op mapping the loop's step t to a tile, when the loop runs over a
/// union of tile ranges (attn.tile_of_ranges) or a block mask's list
/// (attn.block_entry): its t operand.
static OpOperand *tileMapStep(Operation *op) {
  if (auto ranges = dyn_cast_or_null<TileOfRangesOp>(op))
    return &ranges.getTMutable();
  if (auto entry = dyn_cast_or_null<BlockEntryOp>(op))
    return &entry.getTMutable();
  return nullptr;
}

/// Clones `load` with its K rows starting at loop step `index` (mapped to a
/// tile by `tileMap`, when there is one).
static LoadKOp cloneLoadForTile(RewriterBase &rewriter, LoadKOp load,
                                TileStartOp start, Operation *tileMap,
                                Value index) {
  IRMapping mapping;
  if (tileMap) {
    Operation *newMap = rewriter.clone(*tileMap);
    tileMapStep(newMap)->assign(index);
    index = newMap->getResult(0);
  }
  auto newStart = cast<TileStartOp>(rewriter.clone(*start));
  newStart.getIndexMutable().assign(index);
  mapping.map(start.getResult(), newStart.getResult());
  return cast<LoadKOp>(rewriter.clone(*load, mapping));
}

/// The program's attn.kv_len of sequence `batch`, computed before `loop`,
/// or null.
static Value kvLenOf(scf::ForOp loop, Value batch) {
  for (Operation &op : *loop->getBlock()) {
    if (&op == loop.getOperation())
      break;
    if (auto kvLen = dyn_cast<KVLenOp>(op); kvLen && kvLen.getBatch() == batch)
      return kvLen;
  }
  return Value();
}

LogicalResult attnc::prefetchKTiles(RewriterBase &rewriter, scf::ForOp loop) {
  // The K load of the loop: its rows start at tile_start kv %j.
  LoadKOp load;
  for (LoadKOp candidate : loop.getBody()->getOps<LoadKOp>())
    load = candidate;
  if (!load)
    return success(); // nothing to pipeline
  auto start = load.getRow0().getDefiningOp<TileStartOp>();
  // The tile is the induction variable, or its image in a union of ranges
  // fixed before the loop.
  Operation *ranges = start ? start.getIndex().getDefiningOp() : nullptr;
  OpOperand *mapStep = tileMapStep(ranges);
  if (!mapStep || mapStep->get() != loop.getInductionVar() ||
      !llvm::all_of(ranges->getOpOperands(), [&](OpOperand &operand) {
        return &operand == mapStep ||
               loop.isDefinedOutsideOfLoop(operand.get());
      }))
    ranges = nullptr;
  Value step = ranges ? tileMapStep(ranges)->get()
                      : (start ? start.getIndex() : Value());
  if (!start || step != loop.getInductionVar() ||
      start->getBlock() != loop.getBody())
    return load.emitOpError("does not load the tile of the loop's induction "
                            "variable; cannot prefetch it");
  // Everything the load uses (besides its row) must come from outside the
  // loop so it can be cloned before it.
  for (Value operand : {load.getBatch(), load.getKvHead()})
    if (!loop.isDefinedOutsideOfLoop(operand))
      return load.emitOpError("depends on values computed in the loop");
  // A latent cache's K tile is its V tile too (attn.k_prefix), read until
  // P·V: the next tile goes to a second buffer (double_buffer).
  bool viewed = llvm::any_of(
      load->getUsers(), [](Operation *user) { return isa<KPrefixOp>(user); });
  Operation *lastUse = nullptr;
  for (Operation *user : load->getUsers()) {
    if (user->getBlock() != loop.getBody())
      return load.emitOpError("is used outside the loop body");
    if (!lastUse || lastUse->isBeforeInBlock(user))
      lastUse = user;
  }

  // The first tile, before the loop.
  rewriter.setInsertionPoint(loop);
  LoadKOp first =
      cloneLoadForTile(rewriter, load, start, ranges, loop.getLowerBound());

  // The loop carries the tile; the next one is loaded after the last use of
  // the current one.
  auto newLoop = cast<scf::ForOp>(*loop.replaceWithAdditionalYields(
      rewriter, first.getResult(), /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument> newArgs) {
        // Yields the carried tile for now; the prefetch replaces it below.
        return SmallVector<Value>{newArgs.front()};
      }));
  Block *body = newLoop.getBody();
  BlockArgument carried = body->getArguments().back();
  rewriter.replaceAllUsesWith(load.getResult(), carried);
  Location loc = load.getLoc();
  // Two barriers an iteration where the body has its one V load before
  // QKᵀ and its one P V after it:
  //   attn.wait K(j)       K(j) landed; every warp is past P V(j-1)
  //   V(j) {buffer_free}   so V's buffer is free without a barrier
  //   S = Q K(j)ᵀ; softmax
  //   attn.wait V(j)       V(j) landed; every warp is past QKᵀ(j)
  //   K(j+1) {buffer_free}
  //   O += P V(j)
  // V's copy overlaps QKᵀ and the softmax, K(j+1)'s P V. Otherwise each
  // load keeps the barrier before it and each tile is waited for at its
  // first use (four barriers).
  SmallVector<LoadVOp> vLoads(body->getOps<LoadVOp>());
  SmallVector<PVOp> products(body->getOps<PVOp>());
  bool twoBarriers = vLoads.size() == 1 && products.size() == 1 && lastUse &&
                     products.front().getV() == vLoads.front().getResult() &&
                     vLoads.front()->isBeforeInBlock(lastUse) &&
                     lastUse->isBeforeInBlock(products.front()) &&
                     llvm::all_of(carried.getUsers(), [&](Operation *user) {
                       return vLoads.front()->isBeforeInBlock(user);
                     });
  if (viewed) {
    // Two buffers: the wait for K(j) at the top of the iteration also
    // finds every warp past P V(j-1), the last read of the buffer K(j+1)
    // goes to, so its copy starts right after it and overlaps the whole
    // iteration.
    rewriter.setInsertionPointToStart(body);
    rewriter.create<WaitOp>(loc, carried);
  } else if (twoBarriers) {
    LoadVOp vLoad = vLoads.front();
    rewriter.setInsertionPoint(vLoad);
    rewriter.create<WaitOp>(loc, carried);
    rewriter.modifyOpInPlace(vLoad, [&] { vLoad.setBufferFree(true); });
    rewriter.setInsertionPoint(products.front());
    rewriter.create<WaitOp>(loc, vLoad.getResult());
  } else {
    rewriter.setInsertionPointAfter(lastUse ? lastUse : load.getOperation());
  }
  Value one = rewriter.create<arith::ConstantIntOp>(
      loc, 1, newLoop.getInductionVar().getType());
  Value next = rewriter.create<arith::AddIOp>(
      loc, newLoop.getInductionVar(), one, arith::IntegerOverflowFlags::nsw);
  LoadKOp prefetch = cloneLoadForTile(rewriter, load, start, ranges, next);
  // The last iteration's prefetch is never used. A split-KV program's loop
  // ends inside the sequence, where it would fetch the next split's first
  // K tile (a decode step is bound by those bytes): start it at kv_len
  // instead, so it reads no row (rows at or past kv_len are zero-filled).
  // Elsewhere the extra tile lies past the sequence or is the next query
  // tile's, read from L2; the compare and select would cost a register
  // across the loop (a CTA per SM for some prefill kernels).
  auto program = newLoop->getParentOfType<ProgramOp>();
  Value kvLen = program && program.getKvSplit()
                    ? kvLenOf(newLoop, load.getBatch())
                    : Value();
  if (kvLen) {
    rewriter.setInsertionPoint(prefetch);
    Value inRange = rewriter.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::slt, next, newLoop.getUpperBound());
    Value row0 = rewriter.create<arith::SelectOp>(loc, inRange,
                                                  prefetch.getRow0(), kvLen);
    rewriter.modifyOpInPlace(prefetch,
                             [&] { prefetch.getRow0Mutable().assign(row0); });
  }
  if (twoBarriers || viewed)
    rewriter.modifyOpInPlace(prefetch, [&] { prefetch.setBufferFree(true); });
  if (viewed)
    rewriter.modifyOpInPlace(prefetch, [&] { prefetch.setDoubleBuffer(true); });
  auto yield = cast<scf::YieldOp>(body->getTerminator());
  rewriter.modifyOpInPlace(yield, [&] {
    yield->setOperand(yield->getNumOperands() - 1, prefetch.getResult());
  });
  rewriter.eraseOp(load);
  return success();
}

namespace {
struct AttnPrefetchKVPass
    : public attnc::impl::AttnPrefetchKVBase<AttnPrefetchKVPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    IRRewriter rewriter(&getContext());
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>()) {
      if (!program.getBlockKv()) {
        program.emitOpError("must be tiled before its K loads are pipelined; "
                            "run --attn-tile first");
        return signalPassFailure();
      }
      SmallVector<scf::ForOp> loops;
      for (scf::ForOp loop : program.getBody().front().getOps<scf::ForOp>())
        // Only the KV loop (it carries the online-softmax state) loads K;
        // a loop whose K load already is a carried value is done.
        if (!loop.getBody()->getOps<LoadKOp>().empty() &&
            !llvm::any_of(loop.getRegionIterArgs(), [](BlockArgument arg) {
              return isa<RankedTensorType>(arg.getType()) &&
                     !cast<RankedTensorType>(arg.getType())
                          .getElementType()
                          .isF32();
            }))
          loops.push_back(loop);
      for (scf::ForOp loop : loops)
        if (failed(prefetchKTiles(rewriter, loop)))
          return signalPassFailure();
    }
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError(
          "must be lowered and tiled before K loads are "
          "pipelined; run --attn-online-softmax --attn-tile first");
      return signalPassFailure();
    }
  }
};
} // namespace
