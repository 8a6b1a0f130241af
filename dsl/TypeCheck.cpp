//===- TypeCheck.cpp - Types of DSL expressions ---------------------------===//
//
// Int is i32, Float is f32, Bool is i1. Numbers mix as in C: when one side
// of an operation is Float the Int side is converted, and that conversion is
// made an explicit Convert node, so that after this pass every operand has
// exactly the type its parent operation needs. Bool never mixes with a
// number. Errors point at the operator, call or name that imposes the rule.
//
//===----------------------------------------------------------------------===//

#include "dsl/Sema.h"
#include "dsl/Text.h"

using namespace attnc::dsl;

static bool isNumeric(ValueType type) {
  return type == ValueType::Int || type == ValueType::Float;
}

/// "an integer", "a float", "a boolean": how a type reads in a message.
static const char *noun(ValueType type) {
  switch (type) {
  case ValueType::Int:
    return "an integer";
  case ValueType::Float:
    return "a float";
  case ValueType::Bool:
    return "a boolean";
  case ValueType::Invalid:
    break;
  }
  return "invalid";
}

void attnc::dsl::convertToFloat(ExprPtr &expr) {
  auto convert = std::make_unique<Expr>();
  convert->kind = ExprKind::Convert;
  convert->loc = expr->loc;
  convert->type = ValueType::Float;
  convert->operands.push_back(std::move(expr));
  expr = std::move(convert);
}

ValueType TypeChecker::promote(ExprPtr &lhs, ExprPtr &rhs) {
  if (lhs->type != ValueType::Float && rhs->type != ValueType::Float)
    return ValueType::Int;
  if (lhs->type == ValueType::Int)
    convertToFloat(lhs);
  if (rhs->type == ValueType::Int)
    convertToFloat(rhs);
  return ValueType::Float;
}

ValueType TypeChecker::check(ExprPtr &expr) {
  Expr &e = *expr;
  ValueType type = ValueType::Invalid;
  switch (e.kind) {
  case ExprKind::IntLit:
    type = ValueType::Int;
    break;
  case ExprKind::FloatLit:
    type = ValueType::Float;
    break;
  case ExprKind::BoolLit:
    type = ValueType::Bool;
    break;
  case ExprKind::Var:
    type = checkVar(e);
    break;
  case ExprKind::ParamRef:
    if (lets && e.operands.empty()) {
      if (auto let = lets->find(e.name); let != lets->end()) {
        // A let's value stands in for its name, checked in this context.
        expandedNodes += let->second.nodes;
        if (expandedNodes > kMaxExpandedNodes) {
          diags.error(e.loc, "the lets used here expand to more than " +
                                 std::to_string(kMaxExpandedNodes) +
                                 " expression nodes");
          return ValueType::Invalid;
        }
        SourceLoc useLoc = e.loc;
        expr = cloneExpr(*let->second.value);
        expr->loc = useLoc;
        return check(expr);
      }
    }
    type = checkParamRef(e);
    break;
  case ExprKind::Unary:
    type = checkUnary(e);
    break;
  case ExprKind::Binary:
    type = checkBinary(e);
    break;
  case ExprKind::Select:
    type = checkSelect(e);
    break;
  case ExprKind::Call:
    type = checkCall(e);
    break;
  case ExprKind::Convert:
    // Already checked: Sema is the only one that makes these.
    type = e.type;
    break;
  }
  e.type = type;
  return type;
}

ValueType TypeChecker::checkVar(Expr &e) {
  bool isConstant = e.var == BuiltinVar::HeadDim ||
                    e.var == BuiltinVar::QHeads || e.var == BuiltinVar::KVHeads;
  if (context == ExprContext::Mask && e.var == BuiltinVar::Score) {
    diags.error(e.loc, "the mask cannot depend on 'score'; put score "
                       "changes in 'score ='");
    return ValueType::Invalid;
  }
  if (context == ExprContext::Sink &&
      (e.var == BuiltinVar::Score || e.var == BuiltinVar::KV)) {
    diags.error(e.loc, std::string("the sink is one logit per query row and "
                                   "cannot depend on '") +
                           spelling(e.var) + "'; it may use b, h and q");
    return ValueType::Invalid;
  }
  if (context == ExprContext::KVScale &&
      (e.var == BuiltinVar::Score || e.var == BuiltinVar::Q ||
       e.var == BuiltinVar::KV)) {
    diags.error(e.loc, std::string("a K/V scale is one factor per sequence "
                                   "and head and cannot depend on '") +
                           spelling(e.var) + "'; it may use b and h");
    return ValueType::Invalid;
  }
  if (context == ExprContext::Scale && !isConstant) {
    diags.error(e.loc, std::string("scale must be a constant expression, "
                                   "but it uses '") +
                           spelling(e.var) + "'");
    return ValueType::Invalid;
  }
  return e.var == BuiltinVar::Score ? ValueType::Float : ValueType::Int;
}

/// The candidate closest to `word` by edit distance, if any is close.
static std::optional<std::string>
closestName(std::string_view word, const std::vector<std::string> &names) {
  unsigned limit = word.size() < 4 ? 1 : 2;
  std::optional<std::string> best;
  unsigned bestDistance = limit + 1;
  for (const std::string &name : names) {
    unsigned distance = editDistance(word, name, limit);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = name;
    }
  }
  return best;
}

ValueType TypeChecker::checkParamRef(Expr &e) {
  // Check the indices first so their own errors are reported too.
  bool indicesOk = true;
  for (size_t i = 0; i < e.operands.size(); ++i) {
    ValueType indexType = check(e.operands[i]);
    if (indexType == ValueType::Invalid) {
      indicesOk = false;
    } else if (indexType != ValueType::Int) {
      diags.error(e.loc, "index " + std::to_string(i + 1) + " of " +
                             quote(e.name) + " must be an integer, but it is " +
                             noun(indexType));
      indicesOk = false;
    }
  }

  if (lookupBuiltinVar(e.name)) {
    diags.error(e.loc, quote(e.name) + " is not a param and cannot be "
                                       "indexed; only params can be");
    return ValueType::Invalid;
  }
  if (lookupBuiltinFunction(e.name)) {
    diags.error(e.loc, quote(e.name) + " is a function; call it as '" + e.name +
                           "(...)'");
    return ValueType::Invalid;
  }
  auto it = params.find(e.name);
  if (it == params.end()) {
    std::vector<std::string> candidates;
    for (const auto &entry : params)
      candidates.push_back(entry.first);
    for (BuiltinVar var :
         {BuiltinVar::Score, BuiltinVar::Batch, BuiltinVar::Head, BuiltinVar::Q,
          BuiltinVar::KV, BuiltinVar::HeadDim, BuiltinVar::QHeads,
          BuiltinVar::KVHeads, BuiltinVar::QLen, BuiltinVar::KVLen})
      candidates.push_back(spelling(var));
    if (lets)
      for (const auto &entry : *lets)
        candidates.push_back(entry.first);
    std::string message = "unknown name " + quote(e.name);
    // FlexAttention's names for the same things.
    static const std::pair<const char *, const char *> flexNames[] = {
        {"q_idx", "q"}, {"kv_idx", "kv"}, {"batch", "b"}, {"head", "h"}};
    for (auto [flex, ours] : flexNames)
      if (e.name == flex) {
        diags.error(e.loc, message + " (did you mean '" + ours +
                               "'? attnc's positions are absolute and "
                               "bottom-right aligned; see docs/dsl.md)");
        return ValueType::Invalid;
      }
    if (std::optional<std::string> guess = closestName(e.name, candidates))
      message += " (did you mean " + quote(*guess) + "?)";
    else
      message += "; a runtime value must be declared, as in " +
                 quote("param " + e.name + " : f32");
    diags.error(e.loc, message);
    return ValueType::Invalid;
  }
  const ParamDecl &param = *it->second;
  if (context == ExprContext::Scale) {
    diags.error(e.loc, "scale must be a constant expression, but it uses "
                       "param " +
                           quote(param.name));
    return ValueType::Invalid;
  }
  size_t numDims = param.dims.size();
  size_t numIndices = e.operands.size();
  if (numDims == 0 && numIndices != 0) {
    diags.error(e.loc, "param " + quote(param.name) +
                           " is a scalar and cannot be indexed");
    return ValueType::Invalid;
  }
  if (numIndices != numDims) {
    std::string dims =
        std::to_string(numDims) + (numDims == 1 ? " dimension" : " dimensions");
    if (numIndices == 0)
      diags.error(e.loc, "param " + quote(param.name) + " has " + dims +
                             " and must be indexed, as in " +
                             quote(param.name + "[...]"));
    else
      diags.error(e.loc,
                  "param " + quote(param.name) + " has " + dims + ", but " +
                      std::to_string(numIndices) +
                      (numIndices == 1 ? " index was" : " indices were") +
                      " given");
    return ValueType::Invalid;
  }
  return indicesOk ? param.elementType : ValueType::Invalid;
}

ValueType TypeChecker::checkUnary(Expr &e) {
  ValueType operand = check(e.operands[0]);
  if (operand == ValueType::Invalid)
    return ValueType::Invalid;
  if (e.unaryOp == UnaryOp::Neg) {
    if (isNumeric(operand))
      return operand;
    diags.error(e.loc, "unary '-' needs a number, but its operand is a "
                       "boolean");
    return ValueType::Invalid;
  }
  if (operand == ValueType::Bool)
    return ValueType::Bool;
  diags.error(e.loc, std::string("'!' needs a boolean, but its operand is ") +
                         noun(operand));
  return ValueType::Invalid;
}

namespace {
/// Which operands of a binary operator break its rule, for the message.
struct OperandCheck {
  bool leftBad;
  bool rightBad;
};
} // namespace

/// "operator '+' needs numbers, but the left operand is a boolean".
static std::string operandMessage(const Expr &e, const char *needs,
                                  OperandCheck bad, ValueType lhs,
                                  ValueType rhs) {
  std::string message = std::string("operator '") + spelling(e.binaryOp) +
                        "' needs " + needs + ", but ";
  if (bad.leftBad)
    message += std::string("the left operand is ") + noun(lhs);
  if (bad.leftBad && bad.rightBad)
    message += " and ";
  if (bad.rightBad)
    message += std::string("the right operand is ") + noun(rhs);
  return message;
}

/// Whether `a` and `b` are the same expression, so always the same value
/// (DSL expressions have no side effects; a param read outside its tensor
/// is 0, not undefined).
static bool sameExpr(const Expr &a, const Expr &b) {
  if (a.kind != b.kind || a.operands.size() != b.operands.size())
    return false;
  bool same = true;
  switch (a.kind) {
  case ExprKind::IntLit:
    same = a.intValue == b.intValue;
    break;
  case ExprKind::FloatLit:
    same = a.floatValue == b.floatValue;
    break;
  case ExprKind::BoolLit:
    same = a.boolValue == b.boolValue;
    break;
  case ExprKind::Var:
    same = a.var == b.var && a.name == b.name;
    break;
  case ExprKind::ParamRef:
    same = a.name == b.name;
    break;
  case ExprKind::Unary:
    same = a.unaryOp == b.unaryOp;
    break;
  case ExprKind::Binary:
    same = a.binaryOp == b.binaryOp;
    break;
  case ExprKind::Select:
    break;
  case ExprKind::Call:
    same = a.builtin == b.builtin;
    break;
  case ExprKind::Convert:
    same = a.type == b.type;
    break;
  }
  for (size_t i = 0; same && i < a.operands.size(); ++i)
    same = sameExpr(*a.operands[i], *b.operands[i]);
  return same;
}

/// Whether the int expression `e` is 0 whatever the positions and params
/// (`0`, `q - q`, `kv * 0`, `(h ^ h) >> 2`, ...) under the DSL's wrapping
/// semantics, in which `0 / x` and `0 % x` are 0 for every x.
static bool alwaysZero(const Expr &e) {
  auto zero = [](const ExprPtr &operand) { return alwaysZero(*operand); };
  switch (e.kind) {
  case ExprKind::IntLit:
    return e.intValue == 0;
  case ExprKind::Unary:
    return e.unaryOp == UnaryOp::Neg && zero(e.operands[0]);
  case ExprKind::Select:
    return zero(e.operands[1]) && zero(e.operands[2]);
  case ExprKind::Binary:
    switch (e.binaryOp) {
    case BinaryOp::Sub:
    case BinaryOp::BitXor:
      return sameExpr(*e.operands[0], *e.operands[1]) ||
             (zero(e.operands[0]) && zero(e.operands[1]));
    case BinaryOp::Mul:
    case BinaryOp::BitAnd:
      return zero(e.operands[0]) || zero(e.operands[1]);
    case BinaryOp::Add:
    case BinaryOp::BitOr:
      return zero(e.operands[0]) && zero(e.operands[1]);
    case BinaryOp::Div:
    case BinaryOp::Rem:
    case BinaryOp::Shl:
    case BinaryOp::Shr:
      return zero(e.operands[0]);
    default:
      return false;
    }
  default:
    return false;
  }
}

ValueType TypeChecker::checkBinary(Expr &e) {
  ValueType lhs = check(e.operands[0]);
  ValueType rhs = check(e.operands[1]);
  if (lhs == ValueType::Invalid || rhs == ValueType::Invalid)
    return ValueType::Invalid;

  auto require = [&](auto isGood, const char *needs) {
    OperandCheck bad{!isGood(lhs), !isGood(rhs)};
    if (!bad.leftBad && !bad.rightBad)
      return true;
    diags.error(e.loc, operandMessage(e, needs, bad, lhs, rhs));
    return false;
  };
  auto isInt = [](ValueType type) { return type == ValueType::Int; };
  auto isBool = [](ValueType type) { return type == ValueType::Bool; };
  // A divisor that is always zero is a mistake we can see without running
  // anything (at run time x / 0 would quietly give its defined 0).
  auto dividesByZero = [&] {
    const Expr &divisor = *e.operands[1];
    if (!alwaysZero(divisor))
      return false;
    diags.error(e.loc, divisor.kind == ExprKind::IntLit
                           ? "integer division by zero"
                           : "integer division by zero: the divisor is 0 "
                             "whatever the positions and params");
    return true;
  };

  switch (e.binaryOp) {
  case BinaryOp::Add:
  case BinaryOp::Sub:
  case BinaryOp::Mul:
  case BinaryOp::Div:
    if (!require(isNumeric, "numbers"))
      return ValueType::Invalid;
    if (e.binaryOp == BinaryOp::Div && isInt(lhs) && isInt(rhs) &&
        dividesByZero())
      return ValueType::Invalid;
    return promote(e.operands[0], e.operands[1]);
  case BinaryOp::Rem:
    if (!require(isInt, "integers") || dividesByZero())
      return ValueType::Invalid;
    return ValueType::Int;
  case BinaryOp::Lt:
  case BinaryOp::Le:
  case BinaryOp::Gt:
  case BinaryOp::Ge:
    if (!require(isNumeric, "numbers"))
      return ValueType::Invalid;
    promote(e.operands[0], e.operands[1]);
    return ValueType::Bool;
  case BinaryOp::Eq:
  case BinaryOp::Ne:
    if (isBool(lhs) && isBool(rhs))
      return ValueType::Bool;
    if (isNumeric(lhs) && isNumeric(rhs)) {
      promote(e.operands[0], e.operands[1]);
      return ValueType::Bool;
    }
    diags.error(e.loc, std::string("operator '") + spelling(e.binaryOp) +
                           "' cannot compare " + noun(lhs) + " with " +
                           noun(rhs));
    return ValueType::Invalid;
  case BinaryOp::And:
  case BinaryOp::Or:
    if (!require(isBool, "booleans"))
      return ValueType::Invalid;
    return ValueType::Bool;
  case BinaryOp::BitAnd:
  case BinaryOp::BitOr:
  case BinaryOp::BitXor:
  case BinaryOp::Shl:
  case BinaryOp::Shr:
    if (isBool(lhs) && isBool(rhs) &&
        (e.binaryOp == BinaryOp::BitAnd || e.binaryOp == BinaryOp::BitOr)) {
      diags.error(e.loc, std::string("operator '") + spelling(e.binaryOp) +
                             "' is bitwise, on integers; for booleans use '" +
                             (e.binaryOp == BinaryOp::BitAnd ? "&&" : "||") +
                             "'");
      return ValueType::Invalid;
    }
    if (!require(isInt, "integers"))
      return ValueType::Invalid;
    return ValueType::Int;
  }
  return ValueType::Invalid;
}

ValueType TypeChecker::checkSelect(Expr &e) {
  ValueType condition = check(e.operands[0]);
  ValueType ifTrue = check(e.operands[1]);
  ValueType ifFalse = check(e.operands[2]);
  bool ok = true;
  if (condition != ValueType::Invalid && condition != ValueType::Bool) {
    diags.error(e.loc, std::string("the condition of '?:' must be a boolean, "
                                   "but it is ") +
                           noun(condition));
    ok = false;
  }
  if (!ok || condition == ValueType::Invalid || ifTrue == ValueType::Invalid ||
      ifFalse == ValueType::Invalid)
    return ValueType::Invalid;
  if (ifTrue == ValueType::Bool && ifFalse == ValueType::Bool)
    return ValueType::Bool;
  if (isNumeric(ifTrue) && isNumeric(ifFalse))
    return promote(e.operands[1], e.operands[2]);
  diags.error(e.loc, std::string("the branches of '?:' must both be booleans "
                                 "or both be numbers, but one is ") +
                         noun(ifTrue) + " and the other " + noun(ifFalse));
  return ValueType::Invalid;
}

ValueType TypeChecker::checkCall(Expr &e) {
  bool argsOk = true;
  for (ExprPtr &arg : e.operands)
    if (check(arg) == ValueType::Invalid)
      argsOk = false;
  std::string name = quote(spelling(e.builtin));
  unsigned expected = arity(e.builtin);
  if (e.operands.size() != expected) {
    diags.error(e.loc, name + " takes " + std::to_string(expected) +
                           (expected == 1 ? " argument" : " arguments") +
                           ", but " + std::to_string(e.operands.size()) +
                           (e.operands.size() == 1 ? " was" : " were") +
                           " given");
    return ValueType::Invalid;
  }
  if (!argsOk)
    return ValueType::Invalid;
  for (size_t i = 0; i < e.operands.size(); ++i) {
    if (isNumeric(e.operands[i]->type))
      continue;
    std::string which = expected == 1 ? std::string("its argument")
                                      : "argument " + std::to_string(i + 1);
    diags.error(e.loc,
                name + " needs a number, but " + which + " is a boolean");
    return ValueType::Invalid;
  }
  if (isFloatFunction(e.builtin)) {
    for (ExprPtr &operand : e.operands)
      if (operand->type == ValueType::Int)
        convertToFloat(operand);
    return ValueType::Float;
  }
  switch (e.builtin) {
  case Builtin::Int:
    return ValueType::Int;
  case Builtin::Abs:
    return e.operands[0]->type;
  case Builtin::Min:
  case Builtin::Max:
    return promote(e.operands[0], e.operands[1]);
  default:
    break; // the Float functions, above
  }
  return ValueType::Invalid;
}
