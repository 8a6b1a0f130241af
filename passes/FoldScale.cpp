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
// An attn.sink before the loop takes the scale too: it puts its logit into
// the state in the same unscaled units.
//
// With a score modifier the scores must be scaled before it runs, but
// when it ends in a multiplication by a constant (a softcap,
// `50 * tanh(score / 50)`), the attn.scale by log2(e) after it folds into
// that constant: one multiply fewer per score.
//
// exp2(c s - c m) == exp2(c (s - m)) and max(c s) == c max(s) for c > 0,
// so the online softmax carries unscaled maxima and every score saves a
// multiply: the scale rides in the fused multiply-add that forms the
// exponent. Only where nothing else reads a score (no score modifier).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

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
  // One survey of the program: its products, anything that reads a scaled
  // score, and the ops the scale would move to (already folded: never twice).
  SmallVector<QKOp> products;
  SmallVector<Exp2DiffOp> exponents;
  SmallVector<FinalizeOp> finals;
  SmallVector<SinkOp> sinks;
  bool readsScores = false, folded = false;
  program.walk([&](Operation *op) {
    if (auto qk = dyn_cast<QKOp>(op))
      products.push_back(qk);
    readsScores |= isa<ScoreModOp, ScaleOp>(op);
    if (auto e = dyn_cast<Exp2DiffOp>(op)) {
      exponents.push_back(e);
      folded |= e.getScale().has_value();
    }
    if (auto f = dyn_cast<FinalizeOp>(op)) {
      finals.push_back(f);
      folded |= f.getScale().has_value();
    }
    if (auto s = dyn_cast<SinkOp>(op)) {
      sinks.push_back(s);
      folded |= s.getScale().has_value();
    }
  });
  if (products.size() != 1 || readsScores || folded)
    return;
  QKOp qk = products.front();
  double scale = qk.getScale().convertToDouble();
  if (scale == 1.0 || !(scale > 0.0))
    return;
  Builder builder(program.getContext());
  FloatAttr scaleAttr = builder.getF64FloatAttr(scale);
  qk.setScaleAttr(builder.getF64FloatAttr(1.0));
  for (Exp2DiffOp op : exponents)
    op.setScaleAttr(scaleAttr);
  for (FinalizeOp op : finals)
    op.setScaleAttr(scaleAttr);
  for (SinkOp op : sinks)
    op.setScaleAttr(scaleAttr);
}

/// attn.scale(attn.score_mod(...) yielding c * x) -> the score modifier
/// yielding (c * factor) * x. Only where the scale is the modifier's one
/// user and the product the region's one result.
static void foldScaleIntoScoreMod(ProgramOp program) {
  SmallVector<ScaleOp> scales;
  program.walk([&](ScaleOp scale) { scales.push_back(scale); });
  for (ScaleOp scale : scales) {
    auto mod = scale.getS().getDefiningOp<ScoreModOp>();
    if (!mod || !mod->hasOneUse())
      continue;
    auto yield = cast<YieldOp>(mod.getBody().front().getTerminator());
    auto mul = yield.getValue().getDefiningOp<arith::MulFOp>();
    if (!mul || !mul->hasOneUse())
      continue;
    for (unsigned i = 0; i < 2; ++i) {
      APFloat c(0.0f);
      if (!matchPattern(mul->getOperand(i), m_ConstantFloat(&c)))
        continue;
      // A constant of its own: others in the region (the `/ 50` of a
      // softcap) keep theirs.
      OpBuilder builder(mul);
      double folded = c.convertToDouble() * scale.getFactor().convertToDouble();
      Value constant = builder.create<arith::ConstantOp>(
          mul.getLoc(), builder.getF32FloatAttr(static_cast<float>(folded)));
      mul->setOperand(i, constant);
      scale.getResult().replaceAllUsesWith(mod.getResult());
      scale.erase();
      break;
    }
  }
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
    for (ProgramOp program : kernel.getBody().front().getOps<ProgramOp>()) {
      foldScale(program);
      foldScaleIntoScoreMod(program);
    }
  }
};
} // namespace
