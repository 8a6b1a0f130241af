//===- PackGQA.cpp - Query heads of a KV head share the tile rows ---------===//
//
// The rewrite is small because the tile ops read the packing from the
// program (gqa_pack = P): %h becomes a group of P query heads, so the
// `%h / G` the online form computed for K/V loads is %h / (G / P) (%h itself
// when P = G), and the untiled row extent (filled state) grows from q_len to
// q_len * P.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

#include <numeric>

namespace attnc {
#define GEN_PASS_DEF_ATTNPACKGQA
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

int64_t attnc::packFactorFor(int64_t group, int64_t blockQ) {
  for (int64_t p = group; p > 1; --p) {
    if (group % p != 0)
      continue;
    if (blockQ > 0 ? blockQ % p == 0 : std::lcm<int64_t>(16, p) <= 256)
      return p;
  }
  return 1;
}

LogicalResult attnc::packGQA(RewriterBase &rewriter, KernelOp kernel,
                             ProgramOp program, int64_t heads, int64_t blockQ) {
  int64_t group = kernel.getGroupSize();
  if (group == 1 || program.getGqaPack())
    return success();
  if (program.getBlockQ())
    return program.emitOpError("must be packed before it is tiled; run "
                               "--attn-pack-gqa before --attn-tile");
  if (heads < 0 || (heads > 0 && group % heads != 0))
    return program.emitOpError("cannot pack ")
           << heads << " query heads per tile: it must divide the " << group
           << " query heads of each KV head";
  // Column-warp programs hold every row in every warp: 16 rows unless
  // block-q says otherwise (attn-tile's default for them).
  if (blockQ == 0 && usesColumnWarps(kernel))
    blockQ = 16;
  int64_t pack = heads > 0 ? heads : packFactorFor(group, blockQ);
  if (pack == 1)
    return success();
  Value head = program.getHead();
  rewriter.modifyOpInPlace(
      program, [&] { program.setGqaPack(static_cast<uint64_t>(pack)); });
  // %h now counts groups of `pack` query heads: the KV head, %h / G in the
  // online form, is %h / (G / pack), and %h itself when the whole group
  // shares a tile.
  for (Operation *user : llvm::make_early_inc_range(head.getUsers())) {
    auto div = dyn_cast<arith::DivSIOp>(user);
    APInt divisor;
    if (!div || div.getLhs() != head ||
        !matchPattern(div.getRhs(), m_ConstantInt(&divisor)) ||
        divisor != group)
      continue;
    if (pack == group) {
      rewriter.replaceOp(div, head);
      continue;
    }
    rewriter.setInsertionPoint(div);
    Value groups =
        rewriter.create<arith::ConstantIntOp>(div.getLoc(), group / pack, 32);
    rewriter.modifyOpInPlace(div, [&] { div.getRhsMutable().assign(groups); });
  }
  // Untiled state tiles have q_len * pack rows.
  Location loc = program.getLoc();
  program.walk([&](FillOp fill) {
    if (!fill.getRows())
      return;
    rewriter.setInsertionPoint(fill);
    Value g = rewriter.create<arith::ConstantIntOp>(loc, pack, 32);
    Value rows = rewriter.create<arith::MulIOp>(
        loc, fill.getRows(), g, arith::IntegerOverflowFlags::nsw);
    rewriter.modifyOpInPlace(fill, [&] { fill.getRowsMutable().assign(rows); });
  });
  return success();
}

namespace {
struct AttnPackGQAPass : public attnc::impl::AttnPackGQABase<AttnPackGQAPass> {
  using AttnPackGQABase::AttnPackGQABase;
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("must be in online-softmax form before its heads are "
                       "packed; run --attn-online-softmax first");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>())
      if (failed(packGQA(rewriter, kernel, program, heads, blockQ)))
        return signalPassFailure();
  }
};
} // namespace
