//===- AST.cpp - Spellings of the DSL's names -----------------------------===//

#include "dsl/AST.h"

using namespace attnc::dsl;

const char *attnc::dsl::spelling(BuiltinVar var) {
  switch (var) {
  case BuiltinVar::Score:
    return "score";
  case BuiltinVar::Batch:
    return "b";
  case BuiltinVar::Head:
    return "h";
  case BuiltinVar::Q:
    return "q";
  case BuiltinVar::KV:
    return "kv";
  case BuiltinVar::HeadDim:
    return "head_dim";
  case BuiltinVar::QHeads:
    return "q_heads";
  case BuiltinVar::KVHeads:
    return "kv_heads";
  case BuiltinVar::QLen:
    return "q_len";
  case BuiltinVar::KVLen:
    return "kv_len";
  }
  return "<invalid>";
}

const char *attnc::dsl::spelling(Builtin fn) {
  switch (fn) {
  case Builtin::Exp:
    return "exp";
  case Builtin::Log:
    return "log";
  case Builtin::Tanh:
    return "tanh";
  case Builtin::Sqrt:
    return "sqrt";
  case Builtin::Abs:
    return "abs";
  case Builtin::Min:
    return "min";
  case Builtin::Max:
    return "max";
  case Builtin::Exp2:
    return "exp2";
  case Builtin::Pow:
    return "pow";
  case Builtin::Floor:
    return "floor";
  case Builtin::Ceil:
    return "ceil";
  case Builtin::Sin:
    return "sin";
  case Builtin::Cos:
    return "cos";
  case Builtin::Sigmoid:
    return "sigmoid";
  case Builtin::Int:
    return "int";
  case Builtin::Float:
    return "float";
  }
  return "<invalid>";
}

const char *attnc::dsl::spelling(UnaryOp op) {
  switch (op) {
  case UnaryOp::Neg:
    return "-";
  case UnaryOp::Not:
    return "!";
  }
  return "<invalid>";
}

const char *attnc::dsl::spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Rem:
    return "%";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::And:
    return "&&";
  case BinaryOp::Or:
    return "||";
  case BinaryOp::BitAnd:
    return "&";
  case BinaryOp::BitOr:
    return "|";
  case BinaryOp::BitXor:
    return "^";
  case BinaryOp::Shl:
    return "<<";
  case BinaryOp::Shr:
    return ">>";
  }
  return "<invalid>";
}

const char *attnc::dsl::spelling(ValueType type) {
  switch (type) {
  case ValueType::Invalid:
    return "<invalid>";
  case ValueType::Int:
    return "i32";
  case ValueType::Float:
    return "f32";
  case ValueType::Bool:
    return "i1";
  }
  return "<invalid>";
}

const char *attnc::dsl::spelling(DType dtype) {
  switch (dtype) {
  case DType::F16:
    return "fp16";
  case DType::BF16:
    return "bf16";
  case DType::E4M3:
    return "e4m3";
  case DType::E5M2:
    return "e5m2";
  }
  return "<invalid>";
}

ExprPtr attnc::dsl::cloneExpr(const Expr &expr) {
  auto copy = std::make_unique<Expr>();
  copy->kind = expr.kind;
  copy->loc = expr.loc;
  copy->type = expr.type;
  copy->intValue = expr.intValue;
  copy->floatValue = expr.floatValue;
  copy->boolValue = expr.boolValue;
  copy->var = expr.var;
  copy->name = expr.name;
  copy->unaryOp = expr.unaryOp;
  copy->binaryOp = expr.binaryOp;
  copy->builtin = expr.builtin;
  copy->operands.reserve(expr.operands.size());
  for (const ExprPtr &operand : expr.operands)
    copy->operands.push_back(cloneExpr(*operand));
  return copy;
}

bool attnc::dsl::isFloatFunction(Builtin fn) {
  return fn != Builtin::Abs && fn != Builtin::Min && fn != Builtin::Max &&
         fn != Builtin::Int;
}
