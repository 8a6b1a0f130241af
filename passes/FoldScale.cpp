//===- FoldScale.cpp - Move the softmax scale into the exponent -----------===//
//
//   %s = attn.qk %q, %k {scale = c}           before
//   %m1 = attn.row_max %s, %m
//   %p = attn.exp2_diff %s, %m1
//   %a = attn.exp2_diff %m, %m1
//   ... attn.finalize %acc, %m, %l
//
//   %s = attn.qk %q, %k {scale = 1.0}         after
//   %p = attn.exp2_diff %s, %m1 {scale = c}
//   %a = attn.exp2_diff %m, %m1 {scale = c}
//   ... attn.finalize %acc, %m, %l {scale = c}
//
// exp2(c s - c m) == exp2(c (s - m)) and max(c s) == c max(s) for c > 0,
// so the online softmax carries unscaled maxima and every score saves a
// multiply: the scale rides in the fused multiply-add that forms the
// exponent. Only where nothing else reads a score (no score modifier).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNFOLDSCALE
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

/// Folds the program's scale, or leaves it alone and says nothing when the
/// program does not have the one shape this applies to.
static void foldScale(ProgramOp program) {
  SmallVector<QKOp> products;
  program.walk([&](QKOp op) { products.push_back(op); });
  if (products.size() != 1)
    return;
  bool scoreModInside = false;
  program.walk(
      [&](Operation *op) { scoreModInside |= isa<ScoreModOp, ScaleOp>(op); });
  if (scoreModInside)
    return;
  QKOp qk = products.front();
  double scale = qk.getScale().convertToDouble();
  if (scale == 1.0 || !(scale > 0.0))
    return;
  // Already folded ops carry their own scale: never fold twice.
  bool folded = false;
  program.walk([&](Operation *op) {
    if (auto e = dyn_cast<Exp2DiffOp>(op))
      folded |= e.getScale().has_value();
    if (auto f = dyn_cast<FinalizeOp>(op))
      folded |= f.getScale().has_value();
  });
  if (folded)
    return;
  Builder builder(program.getContext());
  FloatAttr scaleAttr = builder.getF64FloatAttr(scale);
  qk.setScaleAttr(builder.getF64FloatAttr(1.0));
  program.walk([&](Exp2DiffOp op) { op.setScaleAttr(scaleAttr); });
  program.walk([&](FinalizeOp op) { op.setScaleAttr(scaleAttr); });
}

namespace {
struct AttnFoldScalePass
    : public attnc::impl::AttnFoldScaleBase<AttnFoldScalePass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    for (SdpaOp sdpa : kernel.getBody().front().getOps<SdpaOp>()) {
      sdpa.emitOpError("must be lowered before its scale is folded; run "
                       "--attn-online-softmax first");
      return signalPassFailure();
    }
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>())
      foldScale(program);
  }
};
} // namespace
