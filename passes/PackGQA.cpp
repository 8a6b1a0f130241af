//===- PackGQA.cpp - Query heads of a KV head share the tile rows ---------===//
//
// The rewrite is small because the tile ops read the packing from the
// program (gqa_pack): %h becomes the KV head, so the `%h / G` the online
// form computed for K/V loads is %h itself, and the untiled row extent
// (filled state) grows from q_len to q_len * G.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNPACKGQA
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

LogicalResult attnc::packGQA(RewriterBase &rewriter, KernelOp kernel,
                             ProgramOp program) {
  int64_t group = kernel.getGroupSize();
  if (group == 1 || program.getGqaPack())
    return success();
  if (program.getBlockQ())
    return program.emitOpError("must be packed before it is tiled; run "
                               "--attn-pack-gqa before --attn-tile");
  Value head = program.getHead();
  rewriter.modifyOpInPlace(
      program, [&] { program.setGqaPack(static_cast<uint64_t>(group)); });
  // %h / G (the KV head of the online form) is now %h.
  for (Operation *user : llvm::make_early_inc_range(head.getUsers())) {
    auto div = dyn_cast<arith::DivSIOp>(user);
    APInt divisor;
    if (div && div.getLhs() == head &&
        matchPattern(div.getRhs(), m_ConstantInt(&divisor)) && divisor == group)
      rewriter.replaceOp(div, head);
  }
  // Untiled state tiles have q_len * G rows.
  Location loc = program.getLoc();
  program.walk([&](FillOp fill) {
    if (!fill.getRows())
      return;
    rewriter.setInsertionPoint(fill);
    Value g = rewriter.create<arith::ConstantIntOp>(loc, group, 32);
    Value rows = rewriter.create<arith::MulIOp>(loc, fill.getRows(), g);
    rewriter.modifyOpInPlace(fill, [&] { fill.getRowsMutable().assign(rows); });
  });
  return success();
}

namespace {
struct AttnPackGQAPass : public attnc::impl::AttnPackGQABase<AttnPackGQAPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("must be in online-softmax form before its heads are "
                       "packed; run --attn-online-softmax first");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>())
      if (failed(packGQA(rewriter, kernel, program)))
        return signalPassFailure();
  }
};
} // namespace
