//===- OnlineSoftmax.cpp - attn.sdpa to the online-softmax recurrence -----===//
//
// Builds the program of one CTA: load Q, initialise (m, l, acc), run the
// online update over KV blocks in an scf.for, finalise and store. Until
// attn-tile runs there is one Q tile and one KV block spanning every row,
// so the program already computes exactly what attn.sdpa defines.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "runtime/core/KernelInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

namespace attnc {
#define GEN_PASS_DEF_ATTNONLINESOFTMAX
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

static constexpr double kLog2e = 1.4426950408889634;

/// The score region yields its own `score` argument unchanged.
static bool isIdentityScore(SdpaOp sdpa) {
  auto yield = cast<YieldOp>(sdpa.getScoreMod().front().getTerminator());
  return yield.getValue() == sdpa.getScoreMod().getArgument(SdpaOp::kScore);
}

/// The mask region yields the constant `true`.
static bool isTrueMask(SdpaOp sdpa) {
  auto yield = cast<YieldOp>(sdpa.getMask().front().getTerminator());
  auto constant = yield.getValue().getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return false;
  auto value = dyn_cast<BoolAttr>(constant.getValue());
  if (!value) {
    auto integer = dyn_cast<IntegerAttr>(constant.getValue());
    return integer && integer.getValue().isAllOnes();
  }
  return value.getValue();
}

FailureOr<ProgramOp> attnc::convertToOnlineSoftmax(RewriterBase &rewriter,
                                                   KernelOp kernel) {
  SdpaOp sdpa;
  for (Operation &op : kernel.getBody().front())
    if (auto candidate = dyn_cast<SdpaOp>(op))
      sdpa = candidate;
  if (!sdpa)
    return failure();

  Location loc = sdpa.getLoc();
  Type i32 = rewriter.getI32Type();
  Type f32 = rewriter.getF32Type();
  Type dtype = kernel.getDtype();
  int64_t headDim = kernel.getHeadDim();
  constexpr int64_t dyn = ShapedType::kDynamic;
  int64_t valueDim = kernel.getValueHeadDim();
  auto inTile = RankedTensorType::get({dyn, headDim}, dtype);
  auto vTile = RankedTensorType::get({dyn, valueDim}, dtype);
  auto rows = RankedTensorType::get({dyn}, f32);
  auto accTile = RankedTensorType::get({dyn, valueDim}, f32);
  auto sTile = RankedTensorType::get({dyn, dyn}, f32);

  rewriter.setInsertionPoint(sdpa);
  bool givenPositions = sdpa.getQPositions();
  auto program = rewriter.create<ProgramOp>(
      loc, IntegerAttr(), IntegerAttr(), IntegerAttr(), IntegerAttr(),
      UnitAttr(), givenPositions ? rewriter.getUnitAttr() : UnitAttr());
  Block *body = rewriter.createBlock(&program.getBody(), {}, {i32, i32, i32},
                                     {loc, loc, loc});
  Value b = body->getArgument(ProgramOp::kBatch);
  Value h = body->getArgument(ProgramOp::kHead);
  Value qt = body->getArgument(ProgramOp::kQTile);
  auto constI32 = [&](int64_t v) -> Value {
    return rewriter.create<arith::ConstantIntOp>(loc, v, 32);
  };
  Value c0 = constI32(0), c1 = constI32(1);

  // Sequence geometry. Query row i sits at position kv_len - q_len + i, or
  // where the launch's q_positions put it.
  Value qLen = rewriter.create<QLenOp>(loc, i32, b);
  Value kvLen = rewriter.create<KVLenOp>(loc, i32, b);
  Value kvHead = rewriter.createOrFold<arith::DivSIOp>(
      loc, h, constI32(kernel.getGroupSize()));
  Value qRow0 =
      rewriter.create<TileStartOp>(loc, i32, TileDim::q, qt, IntegerAttr());
  Value qPos0;
  if (givenPositions)
    qPos0 = rewriter.create<QPositionOp>(loc, i32, b, qRow0, qLen);
  else
    qPos0 = rewriter.create<arith::AddIOp>(
        loc,
        rewriter.create<arith::SubIOp>(loc, kvLen, qLen,
                                       arith::IntegerOverflowFlags::nsw),
        qRow0, arith::IntegerOverflowFlags::nsw);

  Value q = rewriter.create<LoadQOp>(loc, inTile, b, h, qRow0);
  // An fp8 K/V cache's scales, one factor per row computed once: k_scale
  // multiplies S in f32 right after QKᵀ (Q (k K8)ᵀ = k Q K8ᵀ; rounding
  // k Q to Q's type instead would cost accuracy), v_scale multiplies O
  // after finalize (O is linear in V).
  auto rowFactors = [&](Region &factor) -> Value {
    if (factor.empty())
      return Value();
    auto op = rewriter.create<RowFactorOp>(loc, rows, b, h, qLen);
    rewriter.inlineRegionBefore(factor, op.getBody(), op.getBody().end());
    return op;
  };
  Value kFactors = rowFactors(sdpa.getKScale());
  Value vFactors = rowFactors(sdpa.getVScale());
  float negInf = -std::numeric_limits<float>::infinity();
  Value m0 = rewriter.create<FillOp>(loc, rows,
                                     rewriter.getF32FloatAttr(negInf), qLen);
  Value l0 =
      rewriter.create<FillOp>(loc, rows, rewriter.getF32FloatAttr(0), qLen);
  Value acc0 =
      rewriter.create<FillOp>(loc, accTile, rewriter.getF32FloatAttr(0), qLen);
  // An attention sink is a key with a zero value row: it enters the state
  // before any real key, so every later step (and LSE) counts it.
  if (!sdpa.getSink().empty()) {
    // Cascade (attn-cascade): the sink enters the suffix launch only; the
    // prefix launch marks itself with a negative first key.
    Value enabled;
    if (givenPositions)
      enabled = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sge,
          rewriter.create<ParamLoadOp>(loc, i32, kCascadeKVStartParam,
                                       ValueRange{b}),
          c0);
    auto sink = rewriter.create<SinkOp>(loc, rows, rows, m0, l0, b, h, qPos0,
                                        enabled, FloatAttr());
    rewriter.inlineRegionBefore(sdpa.getSink(), sink.getBody(),
                                sink.getBody().end());
    m0 = sink.getMNew();
    l0 = sink.getLNew();
  }
  Value numKVTiles =
      rewriter.create<NumTilesOp>(loc, i32, TileDim::kv, kvLen, IntegerAttr());

  bool identityScore = isIdentityScore(sdpa);
  bool trueMask = isTrueMask(sdpa);
  double qkScale = kernel.getScale().convertToDouble();
  // Without a score modifier, log2(e) folds into the QKᵀ scale for free.
  if (identityScore)
    qkScale *= kLog2e;

  auto loop = rewriter.create<scf::ForOp>(loc, c0, numKVTiles, c1,
                                          ValueRange{m0, l0, acc0});
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(loop.getBody());
    Value j = loop.getInductionVar();
    Value m = loop.getRegionIterArg(0);
    Value l = loop.getRegionIterArg(1);
    Value acc = loop.getRegionIterArg(2);

    Value kvRow0 =
        rewriter.create<TileStartOp>(loc, i32, TileDim::kv, j, IntegerAttr());
    Value k = rewriter.create<LoadKOp>(loc, inTile, b, kvHead, kvRow0);
    Value v = rewriter.create<LoadVOp>(loc, vTile, b, kvHead, kvRow0);
    Value s = rewriter.create<QKOp>(loc, sTile, q, k,
                                    rewriter.getF64FloatAttr(qkScale));
    if (kFactors)
      s = rewriter.create<RescaleOp>(loc, sTile, s, kFactors);
    if (!identityScore) {
      auto scoreMod =
          rewriter.create<ScoreModOp>(loc, sTile, s, b, h, qPos0, kvRow0);
      rewriter.inlineRegionBefore(sdpa.getScoreMod(), scoreMod.getBody(),
                                  scoreMod.getBody().end());
      s = rewriter.create<ScaleOp>(loc, sTile, scoreMod,
                                   rewriter.getF64FloatAttr(kLog2e));
    }
    // The bounds check (kv < kv_len) stays even without a user mask: the
    // last KV tile may run past the sequence.
    auto mask =
        rewriter.create<MaskOp>(loc, sTile, s, b, h, qPos0, kvRow0, kvLen);
    if (!trueMask)
      rewriter.inlineRegionBefore(sdpa.getMask(), mask.getBody(),
                                  mask.getBody().end());
    s = mask;

    Value mNew = rewriter.create<RowMaxOp>(loc, rows, s, m);
    Value p = rewriter.create<Exp2DiffOp>(loc, sTile, s, mNew, FloatAttr());
    Value alpha = rewriter.create<Exp2DiffOp>(loc, rows, m, mNew, FloatAttr());
    Value lNew = rewriter.create<RowSumOp>(loc, rows, p, l, alpha);
    Value accScaled = rewriter.create<RescaleOp>(loc, accTile, acc, alpha);
    Value accNew = rewriter.create<PVOp>(loc, accTile, p, v, accScaled);
    rewriter.create<scf::YieldOp>(loc, ValueRange{mNew, lNew, accNew});
  }

  auto finalize = rewriter.create<FinalizeOp>(
      loc, accTile, rows, loop.getResult(2), loop.getResult(0),
      loop.getResult(1), FloatAttr());
  Value o = finalize.getO();
  if (vFactors)
    o = rewriter.create<RescaleOp>(loc, accTile, o, vFactors);
  rewriter.create<StoreOp>(loc, o, b, h, qRow0);
  rewriter.create<StoreOp>(loc, finalize.getLse(), b, h, qRow0);
  rewriter.eraseOp(sdpa);
  return program;
}

namespace {
struct AttnOnlineSoftmaxPass
    : public attnc::impl::AttnOnlineSoftmaxBase<AttnOnlineSoftmaxPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    // Already in online form: nothing to do, so the pass is idempotent.
    if (kernel.getBody().front().getOps<SdpaOp>().empty())
      return;
    IRRewriter rewriter(&getContext());
    if (failed(convertToOnlineSoftmax(rewriter, kernel)))
      signalPassFailure();
  }
};
} // namespace
