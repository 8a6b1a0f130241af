//===- DeriveBackward.cpp - The score modifier's derivative, symbolically -===//
//
// attn-derive-backward clones attn.sdpa's score region into an
// attn.score_grad and, op by op, pairs every float value v with dv/ds, the
// derivative by the raw score s (forward mode). A derivative known to be
// zero (constants, params, anything computed from integers alone) is kept
// as a null Value and never printed, so `score + slope[h] * (kv - q)`
// derives to a constant 1 and softcap's `c * tanh(s / c)` to
// c * (1 - t^2) * (1 / c). The region yields the derivative of its yield,
// folded by the canonicalization patterns.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace attnc {
#define GEN_PASS_DEF_ATTNDERIVEBACKWARD
#include "passes/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

/// Emits derivative ops next to the cloned primal ops of one region.
class ScoreDifferentiator {
public:
  ScoreDifferentiator(OpBuilder &builder, Location loc)
      : builder(builder), loc(loc) {}

  /// Clones `source`'s ops into `target` (an empty block with the same
  /// arguments) and ends it with the derivative of the yielded value by
  /// the variable: the raw score, or the result of `variable` (a read of a
  /// parameter in `source`) when given.
  LogicalResult run(Block &source, Block &target,
                    Operation *variable = nullptr) {
    for (auto [from, to] :
         llvm::zip(source.getArguments(), target.getArguments()))
      primal.map(from, to);
    builder.setInsertionPointToStart(&target);
    if (!variable) // ds/ds = 1
      derivative[target.getArgument(SdpaOp::kScore)] = constant(1.0);
    for (Operation &op : source.without_terminator()) {
      Operation *clone = builder.clone(op, primal);
      if (&op == variable)
        derivative[clone->getResult(0)] = constant(1.0);
      else if (failed(differentiate(clone)))
        return failure();
    }
    Value yielded =
        primal.lookup(cast<YieldOp>(source.getTerminator()).getValue());
    Value d = derivative.lookup(yielded);
    if (!d)
      d = constant(0.0);
    if (variable)
      builder.create<YieldParamGradOp>(loc, d,
                                       primal.lookup(variable->getResult(0)));
    else
      builder.create<YieldOp>(loc, d);
    return success();
  }

private:
  Value constant(double value) {
    return builder.create<arith::ConstantOp>(
        loc, builder.getF32FloatAttr(static_cast<float>(value)));
  }
  Value add(Value a, Value b) {
    if (!a)
      return b;
    if (!b)
      return a;
    return builder.create<arith::AddFOp>(loc, a, b);
  }
  Value sub(Value a, Value b) {
    if (!b)
      return a;
    if (!a)
      return builder.create<arith::NegFOp>(loc, b);
    return builder.create<arith::SubFOp>(loc, a, b);
  }
  /// a * b where a null factor is zero.
  Value mul(Value a, Value b) {
    if (!a || !b)
      return Value();
    return builder.create<arith::MulFOp>(loc, a, b);
  }
  Value d(Value v) { return derivative.lookup(v); }

  /// Records the derivative of `op`'s (single float) result; ops with no
  /// float result carry none.
  LogicalResult differentiate(Operation *op) {
    if (op->getNumResults() != 1 || !op->getResult(0).getType().isF32())
      return success(); // integers, booleans: no derivative
    Value result = op->getResult(0);
    builder.setInsertionPointAfter(op);
    bool handled = true;
    Value dr =
        llvm::TypeSwitch<Operation *, Value>(op)
            .Case([&](arith::ConstantOp) { return Value(); })
            .Case([&](arith::SIToFPOp) { return Value(); })
            .Case([&](ParamLoadOp) { return Value(); })
            .Case([&](arith::AddFOp o) {
              return add(d(o.getLhs()), d(o.getRhs()));
            })
            .Case([&](arith::SubFOp o) {
              return sub(d(o.getLhs()), d(o.getRhs()));
            })
            .Case([&](arith::NegFOp o) {
              Value da = d(o.getOperand());
              return da ? builder.create<arith::NegFOp>(loc, da) : Value();
            })
            .Case([&](arith::MulFOp o) {
              return add(mul(d(o.getLhs()), o.getRhs()),
                         mul(o.getLhs(), d(o.getRhs())));
            })
            .Case([&](arith::DivFOp o) {
              // (a / b)' = (a' - (a / b) b') / b
              Value num = sub(d(o.getLhs()), mul(result, d(o.getRhs())));
              return num ? builder.create<arith::DivFOp>(loc, num, o.getRhs())
                         : Value();
            })
            .Case([&](arith::SelectOp o) -> Value {
              Value dt = d(o.getTrueValue()), df = d(o.getFalseValue());
              if (!dt && !df)
                return Value();
              return builder.create<arith::SelectOp>(loc, o.getCondition(),
                                                     dt ? dt : constant(0.0),
                                                     df ? df : constant(0.0));
            })
            .Case([&](arith::MaximumFOp o) {
              return pickOf(o.getLhs(), o.getRhs(), arith::CmpFPredicate::OGT);
            })
            .Case([&](arith::MinimumFOp o) {
              return pickOf(o.getLhs(), o.getRhs(), arith::CmpFPredicate::OLT);
            })
            .Case([&](math::FloorOp) { return Value(); })
            .Case([&](math::CeilOp) { return Value(); })
            .Case([&](math::RoundOp) { return Value(); })
            .Case([&](math::RoundEvenOp) { return Value(); })
            .Case([&](math::TruncOp) { return Value(); })
            .Case([&](math::TanhOp o) -> Value {
              // 1 - tanh^2 (one op per statement: a fixed order)
              Value da = d(o.getOperand());
              if (!da)
                return Value();
              Value square = builder.create<arith::MulFOp>(loc, result, result);
              return mul(sub(constant(1.0), square), da);
            })
            .Case([&](math::ExpOp o) { return mul(result, d(o.getOperand())); })
            .Case([&](math::Exp2Op o) {
              Value da = d(o.getOperand());
              return da ? mul(builder.create<arith::MulFOp>(
                                  loc, result, constant(std::log(2.0))),
                              da)
                        : Value();
            })
            .Case([&](math::LogOp o) {
              Value da = d(o.getOperand());
              return da ? builder.create<arith::DivFOp>(loc, da, o.getOperand())
                        : Value();
            })
            .Case([&](math::SqrtOp o) {
              // 1 / (2 sqrt(a))
              Value da = d(o.getOperand());
              return da ? builder.create<arith::DivFOp>(
                              loc, da,
                              builder.create<arith::MulFOp>(loc, constant(2.0),
                                                            result))
                        : Value();
            })
            .Case([&](math::SinOp o) {
              Value da = d(o.getOperand());
              return da ? mul(builder.create<math::CosOp>(loc, o.getOperand()),
                              da)
                        : Value();
            })
            .Case([&](math::CosOp o) {
              Value da = d(o.getOperand());
              return da ? builder.create<arith::NegFOp>(
                              loc, mul(builder.create<math::SinOp>(
                                           loc, o.getOperand()),
                                       da))
                        : Value();
            })
            .Case([&](math::AbsFOp o) -> Value {
              // sign(a) a', with sign(0) = 0 (PyTorch's choice).
              Value a = o.getOperand(), da = d(a);
              if (!da)
                return Value();
              Value zero = constant(0.0);
              Value pos = builder.create<arith::CmpFOp>(
                  loc, arith::CmpFPredicate::OGT, a, zero);
              Value neg = builder.create<arith::CmpFOp>(
                  loc, arith::CmpFPredicate::OLT, a, zero);
              Value minus = builder.create<arith::NegFOp>(loc, da);
              return builder.create<arith::SelectOp>(
                  loc, pos, da,
                  builder.create<arith::SelectOp>(loc, neg, minus, zero));
            })
            .Case([&](math::PowFOp o) -> Value {
              // (a^b)' = b a^(b-1) a' + a^b log(a) b'
              Value a = o.getLhs(), b = o.getRhs();
              Value da = d(a), db = d(b);
              Value term;
              if (da) {
                Value bm1 =
                    builder.create<arith::SubFOp>(loc, b, constant(1.0));
                Value pw = builder.create<math::PowFOp>(loc, a, bm1);
                term = mul(builder.create<arith::MulFOp>(loc, b, pw), da);
              }
              if (db)
                term = add(term, mul(builder.create<arith::MulFOp>(
                                         loc, result,
                                         builder.create<math::LogOp>(loc, a)),
                                     db));
              return term;
            })
            .Default([&](Operation *) {
              handled = false;
              return Value();
            });
    if (!handled) {
      // An op of float operands with no rule; one reading no float value
      // (a conversion from integers) has derivative 0.
      if (llvm::none_of(op->getOperands(),
                        [&](Value v) { return static_cast<bool>(d(v)); }))
        return success();
      return op->emitOpError("has no derivative rule; attn-derive-backward "
                             "cannot differentiate the score through it");
    }
    if (dr)
      derivative[result] = dr;
    return success();
  }

  /// The derivative of max (OGT) or min (OLT) of a and b: the chosen
  /// operand's, and their mean on a tie.
  Value pickOf(Value a, Value b, arith::CmpFPredicate firstWins) {
    Value da = d(a), db = d(b);
    if (!da && !db)
      return Value();
    Value zero = constant(0.0);
    da = da ? da : zero;
    db = db ? db : zero;
    Value aWins = builder.create<arith::CmpFOp>(loc, firstWins, a, b);
    Value bWins = builder.create<arith::CmpFOp>(loc, firstWins, b, a);
    Value mean = builder.create<arith::MulFOp>(
        loc, builder.create<arith::AddFOp>(loc, da, db), constant(0.5));
    return builder.create<arith::SelectOp>(
        loc, aWins, da, builder.create<arith::SelectOp>(loc, bWins, db, mean));
  }

  OpBuilder &builder;
  Location loc;
  IRMapping primal;
  llvm::DenseMap<Value, Value> derivative;
};

struct AttnDeriveBackwardPass
    : public attnc::impl::AttnDeriveBackwardBase<AttnDeriveBackwardPass> {
  void runOnOperation() override {
    KernelOp kernel = getOperation();
    Block &body = kernel.getBody().front();
    if (!body.getOps<ScoreGradOp>().empty())
      return; // derived already
    auto sdpas = body.getOps<SdpaOp>();
    if (sdpas.empty()) {
      kernel.emitOpError("has no attn.sdpa to derive the backward pass of; "
                         "run attn-derive-backward before lowering");
      return signalPassFailure();
    }
    SdpaOp sdpa = *sdpas.begin();
    Block &source = sdpa.getScoreMod().front();
    OpBuilder builder(sdpa);
    builder.setInsertionPointAfter(sdpa);
    auto grad = builder.create<ScoreGradOp>(sdpa.getLoc());
    if (failed(derive(builder, source, grad.getBody(), nullptr)))
      return signalPassFailure();
    // One attn.param_grad per read of each requires_grad parameter, in the
    // order the score region reads them.
    for (ParamOp param : body.getOps<ParamOp>()) {
      if (!param.getRequiresGrad())
        continue;
      bool read = false;
      for (Operation &op : source.without_terminator()) {
        auto load = dyn_cast<ParamLoadOp>(op);
        if (!load || load.getParam() != param.getSymName())
          continue;
        read = true;
        auto paramGrad = builder.create<ParamGradOp>(
            load.getLoc(), FlatSymbolRefAttr::get(param.getSymNameAttr()));
        if (failed(derive(builder, source, paramGrad.getBody(), load)))
          return signalPassFailure();
      }
      if (!read) {
        param.emitOpError("requires_grad, but the score region does not "
                          "read it: only the score is differentiated");
        return signalPassFailure();
      }
    }
  }

private:
  /// Fills `region` (of a new derivative op) with the derivative of the
  /// score region `source` by the score (`variable` null) or by the result
  /// of `variable`, folded by the canonicalization patterns and CSE (1 - 1.5,
  /// x * 1 and primal values only dead branches read disappear) so that it
  /// reads as a person would write it. Erases the op on failure.
  LogicalResult derive(OpBuilder &builder, Block &source, Region &region,
                       Operation *variable) {
    Operation *op = region.getParentOp();
    OpBuilder::InsertionGuard guard(builder);
    Block *target = builder.createBlock(&region);
    for (BlockArgument arg : source.getArguments())
      target->addArgument(arg.getType(), arg.getLoc());
    ScoreDifferentiator differentiator(builder, op->getLoc());
    if (failed(differentiator.run(source, *target, variable))) {
      op->erase();
      return failure();
    }
    RewritePatternSet patterns(&getContext());
    for (Dialect *dialect : getContext().getLoadedDialects())
      dialect->getCanonicalizationPatterns(patterns);
    for (RegisteredOperationName name : getContext().getRegisteredOperations())
      name.getCanonicalizationPatterns(patterns, &getContext());
    (void)applyPatternsAndFoldGreedily(region, std::move(patterns));
    IRRewriter rewriter(&getContext());
    DominanceInfo dominance;
    eliminateCommonSubExpressions(rewriter, dominance, op);
    return success();
  }
};

} // namespace
