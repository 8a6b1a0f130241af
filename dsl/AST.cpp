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
  }
  return "<invalid>";
}
