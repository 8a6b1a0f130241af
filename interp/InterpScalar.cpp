//===- InterpScalar.cpp - Blocks, control flow and scalar ops -------------===//
//
// The evaluator's core: walking a block, scf.for/scf.if, the arith and math
// ops on scalars, and attn.param_load. Integers wrap at their width as the
// generated CUDA's int32_t does; f32 arithmetic is done in float, as the GPU
// does it; undefined cases (division by zero, signed division overflow,
// oversized shifts) are errors rather than a value the GPU might not give.
//
//===----------------------------------------------------------------------===//
#include "interp/InterpInternal.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attnc;
using namespace attnc::interp;

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

int64_t interp::wrapToWidth(int64_t value, unsigned width) {
  if (width == 1)
    return value & 1;
  if (width >= 64)
    return value;
  unsigned shift = 64 - width;
  return static_cast<int64_t>(static_cast<uint64_t>(value) << shift) >> shift;
}

unsigned interp::intWidth(Type type) {
  if (type.isIndex())
    return 64;
  if (auto intType = dyn_cast<IntegerType>(type))
    return intType.getWidth();
  return 0;
}

RtValue RtValue::ofInt(int64_t value, unsigned width) {
  RtValue v;
  v.kind = Kind::Int;
  v.width = width;
  v.i = wrapToWidth(value, width);
  return v;
}

uint64_t RtValue::asUnsigned() const {
  if (width == 1 || width >= 64)
    return static_cast<uint64_t>(i);
  return static_cast<uint64_t>(i) & ((uint64_t(1) << width) - 1);
}

std::string interp::describeOp(Operation *op) {
  std::string s = op->getName().getStringRef().str();
  llvm::raw_string_ostream os(s);
  if (auto loc = op->getLoc()->findInstanceOf<FileLineColLoc>())
    os << " at " << loc.getFilename().getValue() << ":" << loc.getLine() << ":"
       << loc.getColumn();
  return os.str();
}

LogicalResult Evaluator::fail(Operation *op, const llvm::Twine &message) {
  error = describeOp(op) + ": " + message.str();
  return failure();
}

const RtValue *Evaluator::valueOf(Operation *op, Value value) {
  auto it = env.find(value);
  if (it == env.end() || it->second.kind == RtValue::Kind::None) {
    (void)fail(op, "reads a value that has not been computed");
    return nullptr;
  }
  return &it->second;
}

std::optional<int64_t> Evaluator::intOf(Operation *op, Value value) {
  const RtValue *v = valueOf(op, value);
  if (!v)
    return std::nullopt;
  if (v->kind != RtValue::Kind::Int) {
    (void)fail(op, "expected an integer operand");
    return std::nullopt;
  }
  return v->asSigned();
}

std::optional<float> Evaluator::floatOf(Operation *op, Value value) {
  const RtValue *v = valueOf(op, value);
  if (!v)
    return std::nullopt;
  if (v->kind != RtValue::Kind::Float) {
    (void)fail(op, "expected an f32 operand");
    return std::nullopt;
  }
  return v->f;
}

const Tile *Evaluator::tileOf(Operation *op, Value value, unsigned rank) {
  const RtValue *v = valueOf(op, value);
  if (!v)
    return nullptr;
  if (v->kind != RtValue::Kind::Tile || !v->tile) {
    (void)fail(op, "expected a tile operand");
    return nullptr;
  }
  if (v->tile->shape.size() != rank) {
    (void)fail(op, "expected a rank-" + std::to_string(rank) +
                       " tile, got rank " +
                       std::to_string(v->tile->shape.size()));
    return nullptr;
  }
  return v->tile.get();
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::runBlock(Block &block,
                                  SmallVectorImpl<RtValue> &yielded) {
  for (Operation &op : block) {
    if (isa<scf::YieldOp, attn::YieldOp, attn::YieldRowOp,
            attn::YieldParamGradOp>(op)) {
      yielded.clear();
      for (Value operand : op.getOperands()) {
        const RtValue *v = valueOf(&op, operand);
        if (!v)
          return failure();
        yielded.push_back(*v);
      }
      return success();
    }
    if (failed(runOp(op)))
      return failure();
  }
  return success();
}

FailureOr<RtValue> Evaluator::runExpression(Region &region, float score,
                                            int32_t b, int32_t h, int32_t q,
                                            int32_t kv) {
  Block &block = region.front();
  bind(block.getArgument(attn::SdpaOp::kScore), RtValue::ofFloat(score));
  bind(block.getArgument(attn::SdpaOp::kBatch), RtValue::ofInt(b, 32));
  bind(block.getArgument(attn::SdpaOp::kHead), RtValue::ofInt(h, 32));
  bind(block.getArgument(attn::SdpaOp::kQ), RtValue::ofInt(q, 32));
  bind(block.getArgument(attn::SdpaOp::kKV), RtValue::ofInt(kv, 32));
  SmallVector<RtValue, 2> yielded;
  if (failed(runBlock(block, yielded)))
    return failure();
  // attn.yield_param_grad yields the partial and the read it is for.
  if (isa<attn::YieldParamGradOp>(block.getTerminator()) && yielded.size() == 2)
    return yielded.front();
  if (yielded.size() != 1)
    return fail(region.getParentOp(), "expression region yielded " +
                                          std::to_string(yielded.size()) +
                                          " values, expected 1");
  return yielded.front();
}

LogicalResult Evaluator::runOp(Operation &op) {
  StringRef dialect = op.getName().getDialectNamespace();
  bool handled = false;
  LogicalResult result = success();
  if (dialect == "arith")
    result = runArith(op, handled);
  else if (dialect == "math")
    result = runMath(op, handled);
  else if (dialect == "scf")
    result = runScf(op, handled);
  else if (auto load = dyn_cast<attn::ParamLoadOp>(op))
    return runParamLoad(load);
  else if (auto range = dyn_cast<attn::ParamRangeOp>(op))
    return runParamRange(range);
  else if (dialect == "attn")
    result = runTileOp(op, handled);
  if (failed(result))
    return failure();
  if (!handled)
    return fail(&op, "is not supported by the interpreter");
  return success();
}

//===----------------------------------------------------------------------===//
// arith
//===----------------------------------------------------------------------===//

/// The smallest signed value of `width` bits (i1's is -1).
static int64_t minSigned(unsigned width) {
  if (width >= 64)
    return std::numeric_limits<int64_t>::min();
  return -(int64_t(1) << (width - 1));
}

static int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}

/// An integer binary op on `a` and `b` of `width` bits; nullopt (with an
/// error recorded) where the result is undefined.
static std::optional<int64_t> intBinary(Evaluator &ev, Operation &op,
                                        const RtValue &a, const RtValue &b,
                                        unsigned width) {
  int64_t sa = a.asSigned(), sb = b.asSigned();
  uint64_t ua = a.asUnsigned(), ub = b.asUnsigned();
  auto undefined = [&](const char *why) -> std::optional<int64_t> {
    (void)ev.fail(&op, llvm::Twine(why) + " (" + std::to_string(sa) + ", " +
                           std::to_string(sb) + ")");
    return std::nullopt;
  };
  // The DSL's `/` and `%` (arith.divsi / remsi) are defined everywhere, as
  // the kernels compute them (attnc::dev::divS / remS): x / 0 == 0,
  // x % 0 == x, INT_MIN / -1 wraps to INT_MIN. The passes' own ceil/floor
  // divisions never see those operands; there they stay errors.
  if (isa<arith::DivSIOp>(op) && (sb == 0 || sb == -1))
    return sb == 0 ? 0 : static_cast<int64_t>(0 - static_cast<uint64_t>(sa));
  if (isa<arith::RemSIOp>(op) && (sb == 0 || sb == -1))
    return sb == 0 ? sa : 0;
  bool isSignedDiv = isa<arith::CeilDivSIOp, arith::FloorDivSIOp>(op);
  if (isSignedDiv && sb == 0)
    return undefined("division by zero");
  if (isSignedDiv && sb == -1 && sa == minSigned(width))
    return undefined("signed division overflows");
  if (isa<arith::DivUIOp, arith::RemUIOp>(op) && ub == 0)
    return undefined("division by zero");
  if (isa<arith::ShLIOp, arith::ShRSIOp, arith::ShRUIOp>(op) && ub >= width)
    return undefined("shift amount out of range");

  if (isa<arith::AddIOp>(op))
    return wrapAdd(sa, sb);
  if (isa<arith::SubIOp>(op))
    return wrapAdd(sa, static_cast<int64_t>(0 - static_cast<uint64_t>(sb)));
  if (isa<arith::MulIOp>(op))
    return static_cast<int64_t>(static_cast<uint64_t>(sa) *
                                static_cast<uint64_t>(sb));
  if (isa<arith::DivSIOp>(op))
    return sa / sb;
  if (isa<arith::RemSIOp>(op))
    return sb == -1 ? 0 : sa % sb;
  if (isa<arith::CeilDivSIOp>(op)) {
    int64_t q = sa / sb;
    return (sa % sb != 0 && (sa < 0) == (sb < 0)) ? q + 1 : q;
  }
  if (isa<arith::FloorDivSIOp>(op)) {
    int64_t q = sa / sb;
    return (sa % sb != 0 && (sa < 0) != (sb < 0)) ? q - 1 : q;
  }
  if (isa<arith::DivUIOp>(op))
    return static_cast<int64_t>(ua / ub);
  if (isa<arith::RemUIOp>(op))
    return static_cast<int64_t>(ua % ub);
  if (isa<arith::MinSIOp>(op))
    return std::min(sa, sb);
  if (isa<arith::MaxSIOp>(op))
    return std::max(sa, sb);
  if (isa<arith::MinUIOp>(op))
    return static_cast<int64_t>(std::min(ua, ub));
  if (isa<arith::MaxUIOp>(op))
    return static_cast<int64_t>(std::max(ua, ub));
  if (isa<arith::AndIOp>(op))
    return static_cast<int64_t>(ua & ub);
  if (isa<arith::OrIOp>(op))
    return static_cast<int64_t>(ua | ub);
  if (isa<arith::XOrIOp>(op))
    return static_cast<int64_t>(ua ^ ub);
  if (isa<arith::ShLIOp>(op))
    return static_cast<int64_t>(ua << ub);
  if (isa<arith::ShRSIOp>(op))
    return sa >> ub;
  if (isa<arith::ShRUIOp>(op))
    return static_cast<int64_t>(ua >> ub);
  return undefined("unknown integer op");
}

/// IEEE minimum/maximum as arith.minimumf/maximumf define them: NaN wins,
/// and -0 is below +0.
static float minimumF(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<float>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
static float maximumF(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<float>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

static bool compareF(arith::CmpFPredicate pred, float a, float b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  using P = arith::CmpFPredicate;
  switch (pred) {
  case P::AlwaysFalse:
    return false;
  case P::OEQ:
    return !unordered && a == b;
  case P::OGT:
    return !unordered && a > b;
  case P::OGE:
    return !unordered && a >= b;
  case P::OLT:
    return !unordered && a < b;
  case P::OLE:
    return !unordered && a <= b;
  case P::ONE:
    return !unordered && a != b;
  case P::ORD:
    return !unordered;
  case P::UEQ:
    return unordered || a == b;
  case P::UGT:
    return unordered || a > b;
  case P::UGE:
    return unordered || a >= b;
  case P::ULT:
    return unordered || a < b;
  case P::ULE:
    return unordered || a <= b;
  case P::UNE:
    return unordered || a != b;
  case P::UNO:
    return unordered;
  case P::AlwaysTrue:
    return true;
  }
  return false;
}

static bool compareI(arith::CmpIPredicate pred, const RtValue &a,
                     const RtValue &b) {
  int64_t sa = a.asSigned(), sb = b.asSigned();
  uint64_t ua = a.asUnsigned(), ub = b.asUnsigned();
  using P = arith::CmpIPredicate;
  switch (pred) {
  case P::eq:
    return sa == sb;
  case P::ne:
    return sa != sb;
  case P::slt:
    return sa < sb;
  case P::sle:
    return sa <= sb;
  case P::sgt:
    return sa > sb;
  case P::sge:
    return sa >= sb;
  case P::ult:
    return ua < ub;
  case P::ule:
    return ua <= ub;
  case P::ugt:
    return ua > ub;
  case P::uge:
    return ua >= ub;
  }
  return false;
}

LogicalResult Evaluator::runArith(Operation &op, bool &handled) {
  handled = true;
  if (op.getNumResults() != 1)
    return fail(&op, "expected one result");
  Value result = op.getResult(0);

  // Select picks a value of any kind, tiles included.
  if (auto select = dyn_cast<arith::SelectOp>(op)) {
    std::optional<int64_t> cond = intOf(&op, select.getCondition());
    if (!cond)
      return failure();
    const RtValue *chosen =
        valueOf(&op, *cond ? select.getTrueValue() : select.getFalseValue());
    if (!chosen)
      return failure();
    bind(result, *chosen);
    return success();
  }

  Type type = result.getType();
  unsigned width = intWidth(type);
  if (!width && !type.isF32()) {
    std::string name;
    llvm::raw_string_ostream os(name);
    os << type;
    return fail(&op,
                "only i1/i32/index/f32 scalars are supported, got " + os.str());
  }

  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (auto attr = dyn_cast<IntegerAttr>(constant.getValue())) {
      bind(result, RtValue::ofInt(attr.getValue().getSExtValue(), width));
      return success();
    }
    if (auto attr = dyn_cast<FloatAttr>(constant.getValue())) {
      bind(result,
           RtValue::ofFloat(static_cast<float>(attr.getValueAsDouble())));
      return success();
    }
    return fail(&op, "constant kind is not supported");
  }

  if (isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::DivSIOp,
          arith::RemSIOp, arith::CeilDivSIOp, arith::FloorDivSIOp,
          arith::DivUIOp, arith::RemUIOp, arith::MinSIOp, arith::MaxSIOp,
          arith::MinUIOp, arith::MaxUIOp, arith::AndIOp, arith::OrIOp,
          arith::XOrIOp, arith::ShLIOp, arith::ShRSIOp, arith::ShRUIOp>(op)) {
    const RtValue *a = valueOf(&op, op.getOperand(0));
    const RtValue *b = a ? valueOf(&op, op.getOperand(1)) : nullptr;
    if (!b)
      return failure();
    if (a->kind != RtValue::Kind::Int || b->kind != RtValue::Kind::Int)
      return fail(&op, "expected integer operands");
    std::optional<int64_t> r = intBinary(*this, op, *a, *b, width);
    if (!r)
      return failure();
    bind(result, RtValue::ofInt(*r, width));
    return success();
  }

  if (isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
          arith::MinimumFOp, arith::MaximumFOp, arith::MinNumFOp,
          arith::MaxNumFOp>(op)) {
    std::optional<float> a = floatOf(&op, op.getOperand(0));
    std::optional<float> b = a ? floatOf(&op, op.getOperand(1)) : std::nullopt;
    if (!b)
      return failure();
    float r;
    if (isa<arith::AddFOp>(op))
      r = *a + *b;
    else if (isa<arith::SubFOp>(op))
      r = *a - *b;
    else if (isa<arith::MulFOp>(op))
      r = *a * *b;
    else if (isa<arith::DivFOp>(op))
      r = *a / *b;
    else if (isa<arith::MinimumFOp>(op))
      r = minimumF(*a, *b);
    else if (isa<arith::MaximumFOp>(op))
      r = maximumF(*a, *b);
    else if (isa<arith::MinNumFOp>(op))
      r = std::fmin(*a, *b);
    else
      r = std::fmax(*a, *b);
    bind(result, RtValue::ofFloat(r));
    return success();
  }

  if (auto neg = dyn_cast<arith::NegFOp>(op)) {
    std::optional<float> a = floatOf(&op, neg.getOperand());
    if (!a)
      return failure();
    bind(result, RtValue::ofFloat(-*a));
    return success();
  }

  if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
    const RtValue *a = valueOf(&op, cmp.getLhs());
    const RtValue *b = a ? valueOf(&op, cmp.getRhs()) : nullptr;
    if (!b)
      return failure();
    if (a->kind != RtValue::Kind::Int || b->kind != RtValue::Kind::Int)
      return fail(&op, "expected integer operands");
    bind(result, RtValue::ofInt(compareI(cmp.getPredicate(), *a, *b), 1));
    return success();
  }

  if (auto cmp = dyn_cast<arith::CmpFOp>(op)) {
    std::optional<float> a = floatOf(&op, cmp.getLhs());
    std::optional<float> b = a ? floatOf(&op, cmp.getRhs()) : std::nullopt;
    if (!b)
      return failure();
    bind(result, RtValue::ofInt(compareF(cmp.getPredicate(), *a, *b), 1));
    return success();
  }

  // Casts between integer widths and from/to f32.
  if (isa<arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp, arith::IndexCastOp,
          arith::IndexCastUIOp, arith::SIToFPOp, arith::UIToFPOp>(op)) {
    const RtValue *a = valueOf(&op, op.getOperand(0));
    if (!a)
      return failure();
    if (a->kind != RtValue::Kind::Int)
      return fail(&op, "expected an integer operand");
    bool isUnsigned =
        isa<arith::ExtUIOp, arith::IndexCastUIOp, arith::UIToFPOp>(op);
    if (isa<arith::SIToFPOp, arith::UIToFPOp>(op)) {
      float f = isUnsigned ? static_cast<float>(a->asUnsigned())
                           : static_cast<float>(a->asSigned());
      bind(result, RtValue::ofFloat(f));
      return success();
    }
    int64_t v =
        isUnsigned ? static_cast<int64_t>(a->asUnsigned()) : a->asSigned();
    bind(result, RtValue::ofInt(v, width));
    return success();
  }

  if (isa<arith::FPToSIOp>(op)) {
    std::optional<float> a = floatOf(&op, op.getOperand(0));
    if (!a)
      return failure();
    double t = std::trunc(*a);
    if (!(t >= static_cast<double>(minSigned(width))) ||
        !(t <= -static_cast<double>(minSigned(width)) - 1))
      return fail(&op, "value " + std::to_string(*a) +
                           " does not fit the integer type");
    bind(result, RtValue::ofInt(static_cast<int64_t>(t), width));
    return success();
  }

  handled = false;
  return success();
}

//===----------------------------------------------------------------------===//
// math
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::runMath(Operation &op, bool &handled) {
  handled = true;
  if (auto absi = dyn_cast<math::AbsIOp>(op)) {
    const RtValue *a = valueOf(&op, absi.getOperand());
    if (!a)
      return failure();
    if (a->kind != RtValue::Kind::Int)
      return fail(&op, "expected an integer operand");
    int64_t s = a->asSigned();
    // |INT_MIN| wraps to INT_MIN, as two's complement negation does.
    int64_t negated = static_cast<int64_t>(0 - static_cast<uint64_t>(s));
    bind(absi.getResult(), RtValue::ofInt(s < 0 ? negated : s, a->width));
    return success();
  }
  if (op.getNumResults() != 1 || !op.getResult(0).getType().isF32())
    return fail(&op, "only f32 scalars are supported");

  if (auto pow = dyn_cast<math::PowFOp>(op)) {
    std::optional<float> a = floatOf(&op, pow.getLhs());
    std::optional<float> b = a ? floatOf(&op, pow.getRhs()) : std::nullopt;
    if (!b)
      return failure();
    bind(pow.getResult(), RtValue::ofFloat(std::pow(*a, *b)));
    return success();
  }
  if (auto fma = dyn_cast<math::FmaOp>(op)) {
    std::optional<float> a = floatOf(&op, fma.getA());
    std::optional<float> b = a ? floatOf(&op, fma.getB()) : std::nullopt;
    std::optional<float> c = b ? floatOf(&op, fma.getC()) : std::nullopt;
    if (!c)
      return failure();
    bind(fma.getResult(), RtValue::ofFloat(std::fma(*a, *b, *c)));
    return success();
  }

  if (op.getNumOperands() != 1) {
    handled = false;
    return success();
  }
  float (*fn)(float) = nullptr;
  if (isa<math::ExpOp>(op))
    fn = [](float x) { return std::exp(x); };
  else if (isa<math::Exp2Op>(op))
    fn = [](float x) { return std::exp2(x); };
  else if (isa<math::LogOp>(op))
    fn = [](float x) { return std::log(x); };
  else if (isa<math::Log2Op>(op))
    fn = [](float x) { return std::log2(x); };
  else if (isa<math::TanhOp>(op))
    fn = [](float x) { return std::tanh(x); };
  else if (isa<math::SqrtOp>(op))
    fn = [](float x) { return std::sqrt(x); };
  else if (isa<math::RsqrtOp>(op))
    fn = [](float x) { return 1.0f / std::sqrt(x); };
  else if (isa<math::AbsFOp>(op))
    fn = [](float x) { return std::fabs(x); };
  else if (isa<math::FloorOp>(op))
    fn = [](float x) { return std::floor(x); };
  else if (isa<math::CeilOp>(op))
    fn = [](float x) { return std::ceil(x); };
  else if (isa<math::SinOp>(op))
    fn = [](float x) { return std::sin(x); };
  else if (isa<math::CosOp>(op))
    fn = [](float x) { return std::cos(x); };
  if (!fn) {
    handled = false;
    return success();
  }
  std::optional<float> a = floatOf(&op, op.getOperand(0));
  if (!a)
    return failure();
  bind(op.getResult(0), RtValue::ofFloat(fn(*a)));
  return success();
}

//===----------------------------------------------------------------------===//
// scf
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::runScf(Operation &op, bool &handled) {
  handled = true;
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    std::optional<int64_t> lb = intOf(&op, loop.getLowerBound());
    std::optional<int64_t> ub =
        lb ? intOf(&op, loop.getUpperBound()) : std::nullopt;
    std::optional<int64_t> step =
        ub ? intOf(&op, loop.getStep()) : std::nullopt;
    if (!step)
      return failure();
    if (*step <= 0)
      return fail(&op, "step must be positive, got " + std::to_string(*step));
    SmallVector<RtValue, 4> carried;
    for (Value init : loop.getInitArgs()) {
      const RtValue *v = valueOf(&op, init);
      if (!v)
        return failure();
      carried.push_back(*v);
    }
    unsigned ivWidth = intWidth(loop.getInductionVar().getType());
    Block &body = *loop.getBody();
    SmallVector<RtValue, 4> yielded;
    for (int64_t iv = *lb; iv < *ub; iv += *step) {
      bind(loop.getInductionVar(), RtValue::ofInt(iv, ivWidth));
      for (auto [arg, value] : llvm::zip(loop.getRegionIterArgs(), carried))
        bind(arg, value);
      if (failed(runBlock(body, yielded)))
        return failure();
      if (yielded.size() != carried.size())
        return fail(&op, "body yielded the wrong number of values");
      carried.assign(yielded.begin(), yielded.end());
    }
    for (auto [res, value] : llvm::zip(loop.getResults(), carried))
      bind(res, value);
    return success();
  }

  if (auto branch = dyn_cast<scf::IfOp>(op)) {
    std::optional<int64_t> cond = intOf(&op, branch.getCondition());
    if (!cond)
      return failure();
    Region &region = *cond ? branch.getThenRegion() : branch.getElseRegion();
    if (region.empty()) {
      if (branch.getNumResults() != 0)
        return fail(&op, "missing else region");
      return success();
    }
    SmallVector<RtValue, 4> yielded;
    if (failed(runBlock(region.front(), yielded)))
      return failure();
    if (yielded.size() != branch.getNumResults())
      return fail(&op, "region yielded the wrong number of values");
    for (auto [res, value] : llvm::zip(branch.getResults(), yielded))
      bind(res, value);
    return success();
  }

  handled = false;
  return success();
}

//===----------------------------------------------------------------------===//
// attn.param_load
//===----------------------------------------------------------------------===//

LogicalResult Evaluator::runParamLoad(attn::ParamLoadOp op) {
  auto it = problem.params.find(op.getParam());
  if (it == problem.params.end())
    return fail(op, "unknown parameter @" + op.getParam());
  const HostTensor &t = *it->second;
  if (op.getIndices().size() != t.shape.size())
    return fail(op, "parameter @" + op.getParam() + " has rank " +
                        std::to_string(t.shape.size()));
  FailureOr<int64_t> linear = elementOf(op, t);
  if (failed(linear))
    return failure();
  // The language defines a read outside a parameter tensor as 0 (e.g.
  // doc[b, q] at the negative positions of queries that precede every key,
  // which `&&` does not short-circuit away); the kernels do the same.
  if (*linear < 0) {
    bind(op.getResult(),
         t.isInt ? RtValue::ofInt(0, 32) : RtValue::ofFloat(0.0f));
    return success();
  }
  if (t.isInt)
    bind(op.getResult(), RtValue::ofInt(t.i[*linear], 32));
  else
    bind(op.getResult(), RtValue::ofFloat(static_cast<float>(t.f[*linear])));
  return success();
}

FailureOr<int64_t> Evaluator::elementOf(attn::ParamLoadOp op,
                                        const HostTensor &t) {
  int64_t linear = 0;
  bool inRange = true;
  for (auto [axis, index] : llvm::enumerate(op.getIndices())) {
    std::optional<int64_t> i = intOf(op, index);
    if (!i)
      return failure();
    inRange &= *i >= 0 && *i < t.shape[axis];
    linear = linear * t.shape[axis] + *i;
  }
  return inRange ? linear : -1;
}

LogicalResult Evaluator::runParamRange(attn::ParamRangeOp op) {
  auto it = problem.params.find(op.getParam());
  if (it == problem.params.end())
    return fail(op, "unknown parameter @" + op.getParam());
  const HostTensor &t = *it->second;
  if (op.getIndices().size() != t.shape.size() || !t.isInt)
    return fail(op, "parameter @" + op.getParam() +
                        " is not an i32 tensor of rank " +
                        std::to_string(op.getIndices().size()));
  std::vector<int64_t> at;
  for (Value index : op.getIndices()) {
    std::optional<int64_t> i = intOf(op, index);
    if (!i)
      return failure();
    at.push_back(*i);
  }
  std::optional<int64_t> last = intOf(op, op.getLast());
  if (!last)
    return failure();
  size_t dim = static_cast<size_t>(op.getDim());
  int64_t first = at[dim];
  // Every element of the range, 0 where an index is outside the tensor (as
  // attn.param_load reads it); an empty range gives 0, 0.
  int64_t lo = first > *last ? 0 : std::numeric_limits<int32_t>::max();
  int64_t hi = first > *last ? 0 : std::numeric_limits<int32_t>::min();
  for (int64_t i = first; i <= *last; ++i) {
    at[dim] = i;
    int64_t linear = 0;
    bool inRange = true;
    for (size_t axis = 0; axis < at.size(); ++axis) {
      inRange &= at[axis] >= 0 && at[axis] < t.shape[axis];
      linear = linear * t.shape[axis] + at[axis];
    }
    int64_t v = inRange ? t.i[linear] : 0;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bind(op.getMin(), RtValue::ofInt(lo, 32));
  bind(op.getMax(), RtValue::ofInt(hi, 32));
  return success();
}
