//===- ConstantFold.cpp - Evaluating the `scale` expression ---------------===//
//
// `scale` is a number the kernel multiplies every logit by, so it is
// evaluated here, once. Int operations keep their i32 meaning (`7 / 2` is
// 3). Float operations run in long double and the result is rounded to
// double once at the end: computing `1 / sqrt(128)` in double gives a value
// one ulp off, while the extra precision gives the correctly rounded
// 0.08838834764831845 (for every legal head_dim, see SemaTest).
//
//===----------------------------------------------------------------------===//

#include "dsl/Sema.h"

#include <cmath>
#include <cstdint>
#include <limits>

using namespace attnc::dsl;

namespace {
/// A folded value of one of the three expression types.
struct Value {
  ValueType type = ValueType::Invalid;
  int64_t intValue = 0;
  long double floatValue = 0;
  bool boolValue = false;

  static Value ofInt(int64_t v) { return {ValueType::Int, v, 0, false}; }
  static Value ofFloat(long double v) {
    return {ValueType::Float, 0, v, false};
  }
  static Value ofBool(bool v) { return {ValueType::Bool, 0, 0, v}; }
  long double asFloat() const {
    return type == ValueType::Int ? static_cast<long double>(intValue)
                                  : floatValue;
  }
};

class Folder {
public:
  Folder(const ScaleConstants &constants, DiagnosticEngine &diags)
      : constants(constants), diags(diags) {}

  std::optional<Value> fold(const Expr &e);

private:
  std::optional<Value> foldVar(const Expr &e);
  std::optional<Value> foldBinary(const Expr &e);
  std::optional<Value> foldCall(const Expr &e);
  /// `value` as an Int, or an overflow error at `e` when i32 cannot hold it.
  std::optional<Value> checkedInt(const Expr &e, int64_t value);

  const ScaleConstants &constants;
  DiagnosticEngine &diags;
};
} // namespace

std::optional<Value> Folder::checkedInt(const Expr &e, int64_t value) {
  if (value < std::numeric_limits<int32_t>::min() ||
      value > std::numeric_limits<int32_t>::max()) {
    diags.error(e.loc, "integer overflow in 'scale': the result does not fit "
                       "in 32 bits");
    return std::nullopt;
  }
  return Value::ofInt(value);
}

std::optional<Value> Folder::fold(const Expr &e) {
  switch (e.kind) {
  case ExprKind::IntLit:
    return Value::ofInt(e.intValue);
  case ExprKind::FloatLit:
    return Value::ofFloat(e.floatValue);
  case ExprKind::BoolLit:
    return Value::ofBool(e.boolValue);
  case ExprKind::Var:
    return foldVar(e);
  case ExprKind::ParamRef:
    return std::nullopt; // Rejected by the type checker in `scale`.
  case ExprKind::Convert: {
    std::optional<Value> operand = fold(*e.operands[0]);
    if (!operand)
      return std::nullopt;
    return Value::ofFloat(operand->asFloat());
  }
  case ExprKind::Unary: {
    std::optional<Value> operand = fold(*e.operands[0]);
    if (!operand)
      return std::nullopt;
    if (e.unaryOp == UnaryOp::Not)
      return Value::ofBool(!operand->boolValue);
    if (operand->type == ValueType::Int)
      return checkedInt(e, -operand->intValue);
    return Value::ofFloat(-operand->floatValue);
  }
  case ExprKind::Binary:
    return foldBinary(e);
  case ExprKind::Select: {
    std::optional<Value> condition = fold(*e.operands[0]);
    if (!condition)
      return std::nullopt;
    // Only the branch taken: the other may divide by zero harmlessly.
    return fold(*e.operands[condition->boolValue ? 1 : 2]);
  }
  case ExprKind::Call:
    return foldCall(e);
  }
  return std::nullopt;
}

std::optional<Value> Folder::foldVar(const Expr &e) {
  std::optional<int64_t> value;
  switch (e.var) {
  case BuiltinVar::HeadDim:
    value = constants.headDim;
    break;
  case BuiltinVar::QHeads:
    value = constants.qHeads;
    break;
  case BuiltinVar::KVHeads:
    value = constants.kvHeads;
    break;
  default:
    break; // Not a constant; rejected by the type checker in `scale`.
  }
  if (!value)
    return std::nullopt;
  return Value::ofInt(*value);
}

std::optional<Value> Folder::foldBinary(const Expr &e) {
  std::optional<Value> lhs = fold(*e.operands[0]);
  std::optional<Value> rhs = fold(*e.operands[1]);
  if (!lhs || !rhs)
    return std::nullopt;
  if (e.binaryOp == BinaryOp::And)
    return Value::ofBool(lhs->boolValue && rhs->boolValue);
  if (e.binaryOp == BinaryOp::Or)
    return Value::ofBool(lhs->boolValue || rhs->boolValue);
  if (lhs->type == ValueType::Bool) { // == or != on booleans
    bool equal = lhs->boolValue == rhs->boolValue;
    return Value::ofBool(e.binaryOp == BinaryOp::Eq ? equal : !equal);
  }

  // After type checking both numeric operands have the same type.
  bool isInt = lhs->type == ValueType::Int;
  int64_t a = lhs->intValue, b = rhs->intValue;
  long double x = lhs->asFloat(), y = rhs->asFloat();
  switch (e.binaryOp) {
  case BinaryOp::Add:
    return isInt ? checkedInt(e, a + b) : Value::ofFloat(x + y);
  case BinaryOp::Sub:
    return isInt ? checkedInt(e, a - b) : Value::ofFloat(x - y);
  case BinaryOp::Mul:
    return isInt ? checkedInt(e, a * b) : Value::ofFloat(x * y);
  case BinaryOp::Div:
  case BinaryOp::Rem:
    if (!isInt)
      return Value::ofFloat(x / y);
    if (b == 0) {
      diags.error(e.loc, "division by zero in 'scale'");
      return std::nullopt;
    }
    return checkedInt(e, e.binaryOp == BinaryOp::Div ? a / b : a % b);
  case BinaryOp::Lt:
    return Value::ofBool(x < y);
  case BinaryOp::Le:
    return Value::ofBool(x <= y);
  case BinaryOp::Gt:
    return Value::ofBool(x > y);
  case BinaryOp::Ge:
    return Value::ofBool(x >= y);
  case BinaryOp::Eq:
    return Value::ofBool(x == y);
  case BinaryOp::Ne:
    return Value::ofBool(x != y);
  case BinaryOp::And:
  case BinaryOp::Or:
    break; // Handled above.
  // Bitwise operators and shifts, on the i32 values (shift counts mod 32).
  case BinaryOp::BitAnd:
    return Value::ofInt(a & b);
  case BinaryOp::BitOr:
    return Value::ofInt(a | b);
  case BinaryOp::BitXor:
    return Value::ofInt(a ^ b);
  case BinaryOp::Shl:
    return Value::ofInt(
        static_cast<int32_t>(static_cast<uint32_t>(a) << (b & 31)));
  case BinaryOp::Shr:
    return Value::ofInt(static_cast<int32_t>(a) >> (b & 31));
  }
  return std::nullopt;
}

std::optional<Value> Folder::foldCall(const Expr &e) {
  std::vector<Value> args;
  for (const ExprPtr &operand : e.operands) {
    std::optional<Value> arg = fold(*operand);
    if (!arg)
      return std::nullopt;
    args.push_back(*arg);
  }
  const Value &a = args[0];
  switch (e.builtin) {
  case Builtin::Exp:
    return Value::ofFloat(std::exp(a.asFloat()));
  case Builtin::Log:
    return Value::ofFloat(std::log(a.asFloat()));
  case Builtin::Tanh:
    return Value::ofFloat(std::tanh(a.asFloat()));
  case Builtin::Sqrt:
    return Value::ofFloat(std::sqrt(a.asFloat()));
  case Builtin::Abs:
    if (a.type == ValueType::Int)
      return checkedInt(e, a.intValue < 0 ? -a.intValue : a.intValue);
    return Value::ofFloat(std::fabs(a.floatValue));
  case Builtin::Min:
  case Builtin::Max: {
    const Value &b = args[1];
    bool pickFirst = e.builtin == Builtin::Min ? a.asFloat() <= b.asFloat()
                                               : a.asFloat() >= b.asFloat();
    return pickFirst ? a : b;
  }
  case Builtin::Exp2:
    return Value::ofFloat(std::exp2(a.asFloat()));
  case Builtin::Pow:
    return Value::ofFloat(std::pow(a.asFloat(), args[1].asFloat()));
  case Builtin::Floor:
    return Value::ofFloat(std::floor(a.asFloat()));
  case Builtin::Ceil:
    return Value::ofFloat(std::ceil(a.asFloat()));
  case Builtin::Sin:
    return Value::ofFloat(std::sin(a.asFloat()));
  case Builtin::Cos:
    return Value::ofFloat(std::cos(a.asFloat()));
  case Builtin::Sigmoid:
    return Value::ofFloat(1 / (1 + std::exp(-a.asFloat())));
  case Builtin::Float:
    return Value::ofFloat(a.asFloat());
  case Builtin::Int: {
    if (a.type == ValueType::Int)
      return a;
    long double x = a.asFloat();
    if (std::isnan(x))
      return Value::ofInt(0);
    x = std::trunc(x);
    x = std::max<long double>(x, std::numeric_limits<int32_t>::min());
    x = std::min<long double>(x, std::numeric_limits<int32_t>::max());
    return Value::ofInt(static_cast<int64_t>(x));
  }
  }
  return std::nullopt;
}

std::optional<double> attnc::dsl::foldScale(const Expr &expr,
                                            const ScaleConstants &constants,
                                            DiagnosticEngine &diags) {
  std::optional<Value> value = Folder(constants, diags).fold(expr);
  if (!value || value->type == ValueType::Bool)
    return std::nullopt;
  return static_cast<double>(value->asFloat());
}
