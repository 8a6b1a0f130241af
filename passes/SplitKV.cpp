//===- SplitKV.cpp - Split the KV loop across program instances -----------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNSPLITKV
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

/// The program's KV loop: the scf.for carrying the online-softmax state.
static scf::ForOp findKVLoop(ProgramOp program) {
  for (scf::ForOp loop : program.getBody().front().getOps<scf::ForOp>())
    if (!loop.getBody()->getOps<QKOp>().empty())
      return loop;
  return {};
}

LogicalResult attnc::splitKV(RewriterBase &rewriter, KernelOp kernel,
                             ProgramOp program) {
  if (program.getKvSplit())
    return success();
  if (!program.getBlockKv())
    return program.emitOpError("must be tiled before its KV loop is split; "
                               "run --attn-tile first");
  scf::ForOp loop = findKVLoop(program);
  if (!loop)
    return program.emitOpError("has no KV loop to split");
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Type i32 = rewriter.getI32Type();
  Value lo = loop.getLowerBound(), hi = loop.getUpperBound();
  Value split = rewriter.create<SplitIndexOp>(loc, i32);
  Value splits = rewriter.create<NumSplitsOp>(loc, i32);
  Value zero = rewriter.create<arith::ConstantIntOp>(loc, 0, 32);
  // The mask analysis' range is empty as (numTiles, 0): clamp the count.
  Value count = rewriter.create<arith::MaxSIOp>(
      loc,
      rewriter.create<arith::SubIOp>(loc, hi, lo,
                                     arith::IntegerOverflowFlags::nsw),
      zero);
  Value chunk = rewriter.create<arith::CeilDivSIOp>(loc, count, splits);
  Value myLo = rewriter.create<arith::MinSIOp>(
      loc,
      rewriter.create<arith::AddIOp>(
          loc, lo,
          rewriter.create<arith::MulIOp>(loc, split, chunk,
                                         arith::IntegerOverflowFlags::nsw),
          arith::IntegerOverflowFlags::nsw),
      hi);
  Value myHi = rewriter.create<arith::MinSIOp>(
      loc,
      rewriter.create<arith::AddIOp>(loc, myLo, chunk,
                                     arith::IntegerOverflowFlags::nsw),
      hi);
  rewriter.modifyOpInPlace(loop, [&] {
    loop.getLowerBoundMutable().assign(myLo);
    loop.getUpperBoundMutable().assign(myHi);
  });
  // The merge adds the splits' partial sums, so an attention sink is counted
  // by split 0 alone.
  for (SinkOp sink :
       llvm::to_vector(program.getBody().front().getOps<SinkOp>())) {
    rewriter.setInsertionPoint(sink);
    Value index = rewriter.create<SplitIndexOp>(sink.getLoc(), i32);
    Value first = rewriter.create<arith::CmpIOp>(
        sink.getLoc(), arith::CmpIPredicate::eq, index,
        rewriter.create<arith::ConstantIntOp>(sink.getLoc(), 0, 32));
    if (Value enabled = sink.getEnabled())
      first = rewriter.create<arith::AndIOp>(sink.getLoc(), enabled, first);
    rewriter.modifyOpInPlace(sink,
                             [&] { sink.getEnabledMutable().assign(first); });
  }
  rewriter.modifyOpInPlace(program, [&] { program.setKvSplit(true); });
  rewriter.setInsertionPointAfter(program);
  rewriter.create<MergeSplitsOp>(program.getLoc());
  (void)kernel;
  return success();
}

namespace {
struct AttnSplitKVPass : public attnc::impl::AttnSplitKVBase<AttnSplitKVPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("must be lowered and tiled before its KV loop is "
                       "split; run --attn-online-softmax --attn-tile first");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    SmallVector<ProgramOp> programs(
        kernel.getBody().front().getOps<ProgramOp>());
    for (ProgramOp program : programs)
      if (failed(splitKV(rewriter, kernel, program)))
        return signalPassFailure();
  }
};
} // namespace
