//===- AstReference.cpp - Float64 attention evaluated from the DSL's AST --===//
//
// Three steps, each kept plain so that it can be read against docs/dsl.md:
// check the inputs against the spec (so nothing below reads out of bounds),
// check the expressions' structure (so the evaluator can trust operand
// counts and types), then loop over every (sequence, head, query, key) and
// evaluate the mask and score expressions by a recursive walk.
//
//===----------------------------------------------------------------------===//
#include "reference/AstReference.h"

#include "dsl/Syntax.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>

using namespace attnc;
using namespace attnc::dsl;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The kernels carry logits in base 2 as f32 (logit * log2(e)), so a logit
/// beyond +-FLT_MAX / log2(e) ~ 2.36e38 becomes an infinite one there
/// (docs/runtime.md, "Numeric semantics"): +inf makes its row NaN, -inf
/// gives its key no weight. The reference applies the same rule.
double asKernelLogit(double logit) {
  const double limit = std::numeric_limits<float>::max() / M_LOG2E;
  return logit > limit ? kInf : logit < -limit ? -kInf : logit;
}

//===----------------------------------------------------------------------===//
// Input checks
//===----------------------------------------------------------------------===//

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Number of elements of `shape`, or nullopt when an extent is negative or
/// the product overflows: such a shape cannot describe any buffer, and the
/// size check below must not be fooled by a wrapped product.
std::optional<int64_t> elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return std::nullopt;
    n *= d;
  }
  return n;
}

/// `t` must be a float tensor of exactly `shape` holding that many values.
bool checkFloatTensor(const HostTensor &t, const std::string &name,
                      const std::vector<int64_t> &shape, std::string &error) {
  if (t.isInt) {
    error = name + " must hold floats, not ints";
    return false;
  }
  if (t.shape != shape) {
    error = name + " has shape " + formatShape(t.shape) + ", expected " +
            formatShape(shape);
    return false;
  }
  std::optional<int64_t> count = elementCount(shape);
  if (!count || static_cast<int64_t>(t.f.size()) != *count) {
    error = name + " holds " + std::to_string(t.f.size()) +
            " values for shape " + formatShape(shape);
    return false;
  }
  return true;
}

/// batch + 1 entries, starting at 0, nondecreasing.
bool checkIndptr(const std::vector<int32_t> &indptr, const char *name,
                 int64_t batch, std::string &error) {
  if (static_cast<int64_t>(indptr.size()) != batch + 1) {
    error = std::string(name) + " has " + std::to_string(indptr.size()) +
            " entries, expected batch + 1 = " + std::to_string(batch + 1);
    return false;
  }
  if (indptr[0] != 0) {
    error =
        std::string(name) + "[0] must be 0, got " + std::to_string(indptr[0]);
    return false;
  }
  for (int64_t b = 0; b < batch; ++b)
    if (indptr[b + 1] < indptr[b]) {
      error = std::string(name) + " decreases at entry " +
              std::to_string(b + 1) + " (" + std::to_string(indptr[b]) +
              " then " + std::to_string(indptr[b + 1]) + ")";
      return false;
    }
  return true;
}

std::string formatDecl(const ParamDecl &decl) {
  std::string s = decl.elementType == ValueType::Int ? "i32" : "f32";
  if (decl.dims.empty())
    return s;
  s += "[";
  for (size_t i = 0; i < decl.dims.size(); ++i) {
    s += i ? ", " : "";
    switch (decl.dims[i].kind) {
    case ParamDim::Kind::Batch:
      s += "batch";
      break;
    case ParamDim::Kind::QHeads:
      s += "q_heads";
      break;
    case ParamDim::Kind::KVHeads:
      s += "kv_heads";
      break;
    case ParamDim::Kind::Fixed:
      s += std::to_string(decl.dims[i].extent);
      break;
    case ParamDim::Kind::Dynamic:
      s += "?";
      break;
    }
  }
  return s + "]";
}

/// The tensor passed for `decl` must match its element type and every
/// declared extent (`?` takes the tensor's own).
bool checkParam(const ParamDecl &decl, const HostTensor *t,
                const AttentionSpec &spec, int64_t batch, std::string &error) {
  std::string name = "param '" + decl.name + "'";
  std::string declared = formatDecl(decl);
  bool wantInt = decl.elementType == ValueType::Int;
  if (!t) {
    error = "missing " + name + " (" + declared + ")";
    return false;
  }
  if (t->isInt != wantInt) {
    error =
        name + " (" + declared + ") must hold " + (wantInt ? "i32" : "f32") +
        " values, but the tensor passed holds " + (t->isInt ? "i32" : "f32");
    return false;
  }
  if (t->shape.size() != decl.dims.size()) {
    error = name + " (" + declared + ") has rank " +
            std::to_string(decl.dims.size()) +
            ", but the tensor passed has shape " + formatShape(t->shape);
    return false;
  }
  for (size_t axis = 0; axis < decl.dims.size(); ++axis) {
    int64_t got = t->shape[axis];
    int64_t want = got;
    switch (decl.dims[axis].kind) {
    case ParamDim::Kind::Batch:
      want = batch;
      break;
    case ParamDim::Kind::QHeads:
      want = spec.qHeads;
      break;
    case ParamDim::Kind::KVHeads:
      want = spec.kvHeads;
      break;
    case ParamDim::Kind::Fixed:
      want = decl.dims[axis].extent;
      break;
    case ParamDim::Kind::Dynamic:
      want = got < 0 ? 0 : got;
      break;
    }
    if (got != want) {
      error = name + " (" + declared + ") needs extent " +
              std::to_string(want) + " in dimension " + std::to_string(axis) +
              ", but the tensor passed has shape " + formatShape(t->shape);
      return false;
    }
  }
  std::optional<int64_t> count = elementCount(t->shape);
  size_t size = wantInt ? t->i.size() : t->f.size();
  if (!count || static_cast<int64_t>(size) != *count) {
    error = name + " holds " + std::to_string(size) + " values for shape " +
            formatShape(t->shape);
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Expression structure
//===----------------------------------------------------------------------===//

/// The param tensor each ParamRef node reads, resolved once per call so the
/// per-element walk does no lookup by name.
using ParamBindings = std::unordered_map<const Expr *, const HostTensor *>;

bool isNumber(ValueType t) {
  return t == ValueType::Int || t == ValueType::Float;
}

/// Checks what the evaluator relies on below `e`: the operand count of each
/// kind, and operand types that already agree with the operation (Sema's
/// contract: promotions are explicit Convert nodes). A tree that breaks it
/// gives an error instead of a wrong or out-of-bounds read.
class StructureChecker {
public:
  StructureChecker(const AttentionSpec &spec,
                   const std::map<std::string, HostTensor> &params,
                   ParamBindings &bindings, std::string &error)
      : spec(spec), params(params), bindings(bindings), error(error) {}

  bool check(const Expr &e, const char *where, bool allowScore) {
    this->where = where;
    this->allowScore = allowScore;
    return visit(e, 0);
  }

private:
  const AttentionSpec &spec;
  const std::map<std::string, HostTensor> &params;
  ParamBindings &bindings;
  std::string &error;
  const char *where = "";
  bool allowScore = false;

  bool fail(const Expr &e, const std::string &message) {
    error = std::string("malformed '") + where + "' expression at " +
            std::to_string(e.loc.line) + ":" + std::to_string(e.loc.col) +
            ": " + message;
    return false;
  }

  bool visit(const Expr &e, unsigned depth) {
    // Sema keeps trees about 512 deep; far deeper means a broken tree, and
    // recursing into it could overflow the stack.
    if (depth > 4096)
      return fail(e, "the expression is nested too deeply");
    for (const ExprPtr &operand : e.operands) {
      if (!operand)
        return fail(e, "null operand");
      if (!visit(*operand, depth + 1))
        return false;
    }
    auto count = [&](size_t n) {
      return e.operands.size() == n ||
             fail(e, "expected " + std::to_string(n) + " operands, found " +
                         std::to_string(e.operands.size()));
    };
    auto type = [&](size_t i) { return e.operands[i]->type; };
    auto mistyped = [&]() {
      return fail(e, std::string("operand types do not fit a node of type ") +
                         spelling(e.type));
    };

    switch (e.kind) {
    case ExprKind::IntLit:
      if (e.type != ValueType::Int ||
          e.intValue < std::numeric_limits<int32_t>::min() ||
          e.intValue > std::numeric_limits<int32_t>::max())
        return fail(e, "an integer literal must be an i32");
      return count(0);
    case ExprKind::FloatLit:
      return (e.type == ValueType::Float || mistyped()) && count(0);
    case ExprKind::BoolLit:
      return (e.type == ValueType::Bool || mistyped()) && count(0);
    case ExprKind::Var: {
      if (e.var == BuiltinVar::Score && !allowScore)
        return fail(e, "'score' is not available here");
      ValueType want =
          e.var == BuiltinVar::Score ? ValueType::Float : ValueType::Int;
      return (e.type == want || mistyped()) && count(0);
    }
    case ExprKind::ParamRef: {
      const ParamDecl *decl = nullptr;
      for (const ParamDecl &d : spec.params)
        if (d.name == e.name)
          decl = &d;
      if (!decl)
        return fail(e, "param '" + e.name + "' is not declared");
      if (e.type != decl->elementType)
        return mistyped();
      if (!count(decl->dims.size()))
        return false;
      for (size_t i = 0; i < e.operands.size(); ++i)
        if (type(i) != ValueType::Int)
          return fail(e, "index " + std::to_string(i) + " of '" + e.name +
                             "' is not an i32");
      // Present: every declared param was checked against the inputs.
      bindings[&e] = &params.at(e.name);
      return true;
    }
    case ExprKind::Unary:
      if (!count(1))
        return false;
      if (e.unaryOp == UnaryOp::Not)
        return (e.type == ValueType::Bool && type(0) == ValueType::Bool) ||
               mistyped();
      return (isNumber(e.type) && type(0) == e.type) || mistyped();
    case ExprKind::Binary:
      if (!count(2))
        return false;
      if (type(0) != type(1))
        return mistyped();
      switch (e.binaryOp) {
      case BinaryOp::Add:
      case BinaryOp::Sub:
      case BinaryOp::Mul:
      case BinaryOp::Div:
        return (isNumber(e.type) && type(0) == e.type) || mistyped();
      case BinaryOp::Rem:
        return (e.type == ValueType::Int && type(0) == ValueType::Int) ||
               mistyped();
      case BinaryOp::Lt:
      case BinaryOp::Le:
      case BinaryOp::Gt:
      case BinaryOp::Ge:
        return (e.type == ValueType::Bool && isNumber(type(0))) || mistyped();
      case BinaryOp::Eq:
      case BinaryOp::Ne:
        return (e.type == ValueType::Bool && type(0) != ValueType::Invalid) ||
               mistyped();
      case BinaryOp::And:
      case BinaryOp::Or:
        return (e.type == ValueType::Bool && type(0) == ValueType::Bool) ||
               mistyped();
      case BinaryOp::BitAnd:
      case BinaryOp::BitOr:
      case BinaryOp::BitXor:
      case BinaryOp::Shl:
      case BinaryOp::Shr:
        return (e.type == ValueType::Int && type(0) == ValueType::Int) ||
               mistyped();
      }
      return mistyped();
    case ExprKind::Select:
      if (!count(3))
        return false;
      return (type(0) == ValueType::Bool && e.type != ValueType::Invalid &&
              type(1) == e.type && type(2) == e.type) ||
             mistyped();
    case ExprKind::Call:
      if (isFloatFunction(e.builtin)) {
        if (!count(arity(e.builtin)))
          return false;
        for (size_t i = 0; i < e.operands.size(); ++i)
          if (type(i) != ValueType::Float)
            return mistyped();
        return e.type == ValueType::Float || mistyped();
      }
      switch (e.builtin) {
      case Builtin::Int:
        return count(1) &&
               ((e.type == ValueType::Int && isNumber(type(0))) || mistyped());
      case Builtin::Abs:
        return count(1) &&
               ((isNumber(e.type) && type(0) == e.type) || mistyped());
      case Builtin::Min:
      case Builtin::Max:
        return count(2) &&
               ((isNumber(e.type) && type(0) == e.type && type(1) == e.type) ||
                mistyped());
      default:
        break; // the Float functions, above
      }
      return mistyped();
    case ExprKind::Convert:
      return count(1) &&
             ((e.type == ValueType::Float && type(0) == ValueType::Int) ||
              mistyped());
    }
    return fail(e, "unknown expression kind");
  }
};

//===----------------------------------------------------------------------===//
// Expression evaluation
//===----------------------------------------------------------------------===//

/// A value of the expression language. Only the field of `type` is used.
struct Value {
  ValueType type = ValueType::Invalid;
  int32_t i = 0;
  double f = 0;
  bool b = false;

  static Value ofInt(int32_t v) {
    Value r;
    r.type = ValueType::Int;
    r.i = v;
    return r;
  }
  static Value ofFloat(double v) {
    Value r;
    r.type = ValueType::Float;
    r.f = v;
    return r;
  }
  static Value ofBool(bool v) {
    Value r;
    r.type = ValueType::Bool;
    r.b = v;
    return r;
  }
};

/// The low 32 bits of `v` read as two's complement: i32 wraparound. Written
/// out rather than a cast so it does not lean on implementation-defined
/// conversions.
int32_t wrap32(int64_t v) {
  uint32_t low = static_cast<uint32_t>(static_cast<uint64_t>(v));
  if (low <= static_cast<uint32_t>(std::numeric_limits<int32_t>::max()))
    return static_cast<int32_t>(low);
  return static_cast<int32_t>(static_cast<int64_t>(low) - (int64_t(1) << 32));
}

/// Division and remainder with every i32 case defined (docs/dsl.md leaves
/// none to the hardware): by zero, / gives 0 and % the dividend; the one
/// overflowing quotient INT32_MIN / -1 wraps to INT32_MIN (remainder 0).
int32_t divInt(int32_t a, int32_t b) {
  if (b == 0)
    return 0;
  return wrap32(int64_t(a) / int64_t(b)); // truncates toward zero
}
int32_t remInt(int32_t a, int32_t b) {
  if (b == 0)
    return a;
  return wrap32(int64_t(a) % int64_t(b)); // sign of the dividend
}

/// IEEE minimum / maximum: NaN wins, and -0 is below +0.
double minimumF(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return kNaN;
  if (a == b)
    return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
double maximumF(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return kNaN;
  if (a == b)
    return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

/// int(x): toward zero, saturating at the i32 limits; NaN gives 0.
int32_t toInt(double x) {
  if (std::isnan(x))
    return 0;
  x = std::trunc(x);
  if (x >= 2147483647.0)
    return std::numeric_limits<int32_t>::max();
  if (x <= -2147483648.0)
    return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(x);
}

/// The builtin variables at one (sequence, head, query, key) element.
struct Element {
  int32_t b = 0, h = 0, q = 0, kv = 0;
  int32_t qLen = 0, kvLen = 0; ///< of sequence b
  double score = 0;
};

class Evaluator {
public:
  Evaluator(const AttentionSpec &spec, const ParamBindings &bindings)
      : spec(spec), bindings(bindings) {}

  /// Evaluates `e` at `at`. Total: the structure was checked, and every
  /// operation has a defined result.
  Value eval(const Expr &e, const Element &at) const {
    switch (e.kind) {
    case ExprKind::IntLit:
      return Value::ofInt(static_cast<int32_t>(e.intValue));
    case ExprKind::FloatLit:
      // The literal is an f32 value; arithmetic on it is then in double.
      return Value::ofFloat(static_cast<float>(e.floatValue));
    case ExprKind::BoolLit:
      return Value::ofBool(e.boolValue);
    case ExprKind::Var:
      return var(e.var, at);
    case ExprKind::ParamRef:
      return readParam(e, at);
    case ExprKind::Unary: {
      Value a = eval(*e.operands[0], at);
      if (e.unaryOp == UnaryOp::Not)
        return Value::ofBool(!a.b);
      if (a.type == ValueType::Int)
        return Value::ofInt(wrap32(-int64_t(a.i)));
      return Value::ofFloat(-a.f);
    }
    case ExprKind::Binary:
      return binary(e.binaryOp, eval(*e.operands[0], at),
                    eval(*e.operands[1], at));
    case ExprKind::Select: {
      // Both branches are evaluated, as the language defines (no
      // short-circuit); only their values could differ, never an effect.
      Value c = eval(*e.operands[0], at);
      Value a = eval(*e.operands[1], at);
      Value b = eval(*e.operands[2], at);
      return c.b ? a : b;
    }
    case ExprKind::Call:
      return call(e, at);
    case ExprKind::Convert:
      return Value::ofFloat(static_cast<double>(eval(*e.operands[0], at).i));
    }
    return Value();
  }

private:
  const AttentionSpec &spec;
  const ParamBindings &bindings;

  Value var(BuiltinVar v, const Element &at) const {
    switch (v) {
    case BuiltinVar::Score:
      return Value::ofFloat(at.score);
    case BuiltinVar::Batch:
      return Value::ofInt(at.b);
    case BuiltinVar::Head:
      return Value::ofInt(at.h);
    case BuiltinVar::Q:
      return Value::ofInt(at.q);
    case BuiltinVar::KV:
      return Value::ofInt(at.kv);
    case BuiltinVar::HeadDim:
      return Value::ofInt(wrap32(spec.headDim));
    case BuiltinVar::QHeads:
      return Value::ofInt(wrap32(spec.qHeads));
    case BuiltinVar::KVHeads:
      return Value::ofInt(wrap32(spec.kvHeads));
    case BuiltinVar::QLen:
      return Value::ofInt(at.qLen);
    case BuiltinVar::KVLen:
      return Value::ofInt(at.kvLen);
    }
    return Value();
  }

  /// p[i, j, ...]: 0 when any index is outside its own dimension. The check
  /// is per dimension on purpose: doc[1, -1] flattens to doc[0, last], which
  /// is inside the buffer but not inside the tensor.
  Value readParam(const Expr &e, const Element &at) const {
    const HostTensor &t = *bindings.at(&e);
    bool inside = true;
    int64_t offset = 0;
    for (size_t axis = 0; axis < e.operands.size(); ++axis) {
      int32_t index = eval(*e.operands[axis], at).i;
      if (index < 0 || index >= t.shape[axis])
        inside = false;
      else
        offset = offset * t.shape[axis] + index;
    }
    bool isInt = e.type == ValueType::Int;
    if (!inside)
      return isInt ? Value::ofInt(0) : Value::ofFloat(0.0);
    return isInt ? Value::ofInt(t.i[offset]) : Value::ofFloat(t.f[offset]);
  }

  static Value binary(BinaryOp op, const Value &a, const Value &b) {
    switch (op) {
    case BinaryOp::And:
      return Value::ofBool(a.b && b.b);
    case BinaryOp::Or:
      return Value::ofBool(a.b || b.b);
    case BinaryOp::Eq:
    case BinaryOp::Ne: {
      bool equal = a.type == ValueType::Bool  ? a.b == b.b
                   : a.type == ValueType::Int ? a.i == b.i
                                              : a.f == b.f;
      return Value::ofBool(op == BinaryOp::Eq ? equal : !equal);
    }
    default:
      break;
    }

    if (a.type == ValueType::Int) {
      int64_t x = a.i, y = b.i;
      switch (op) {
      case BinaryOp::Add:
        return Value::ofInt(wrap32(x + y));
      case BinaryOp::Sub:
        return Value::ofInt(wrap32(x - y));
      case BinaryOp::Mul:
        return Value::ofInt(wrap32(x * y)); // |x * y| <= 2^62: exact
      case BinaryOp::Div:
        return Value::ofInt(divInt(a.i, b.i));
      case BinaryOp::Rem:
        return Value::ofInt(remInt(a.i, b.i));
      // Two's complement bits; the shift count is taken mod 32.
      case BinaryOp::BitAnd:
        return Value::ofInt(a.i & b.i);
      case BinaryOp::BitOr:
        return Value::ofInt(a.i | b.i);
      case BinaryOp::BitXor:
        return Value::ofInt(a.i ^ b.i);
      case BinaryOp::Shl:
        return Value::ofInt(
            static_cast<int32_t>(static_cast<uint32_t>(a.i) << (b.i & 31)));
      case BinaryOp::Shr: // arithmetic: the sign bit fills
        return Value::ofInt(wrap32((int64_t(a.i) >> (b.i & 31))));
      default:
        return order(op, x, y);
      }
    }

    // Float: IEEE double; C's comparisons are false on NaN except `!=`.
    double x = a.f, y = b.f;
    switch (op) {
    case BinaryOp::Add:
      return Value::ofFloat(x + y);
    case BinaryOp::Sub:
      return Value::ofFloat(x - y);
    case BinaryOp::Mul:
      return Value::ofFloat(x * y);
    case BinaryOp::Div:
      return Value::ofFloat(x / y);
    default:
      return order(op, x, y);
    }
  }

  /// `<`, `<=`, `>`, `>=` on two Ints or two Floats (C's meaning: false on
  /// NaN); an invalid Value for any other op.
  template <typename T> static Value order(BinaryOp op, T x, T y) {
    switch (op) {
    case BinaryOp::Lt:
      return Value::ofBool(x < y);
    case BinaryOp::Le:
      return Value::ofBool(x <= y);
    case BinaryOp::Gt:
      return Value::ofBool(x > y);
    case BinaryOp::Ge:
      return Value::ofBool(x >= y);
    default:
      return Value();
    }
  }

  Value call(const Expr &e, const Element &at) const {
    Value a = eval(*e.operands[0], at);
    switch (e.builtin) {
    case Builtin::Exp:
      return Value::ofFloat(std::exp(a.f));
    case Builtin::Log:
      return Value::ofFloat(std::log(a.f));
    case Builtin::Tanh:
      return Value::ofFloat(std::tanh(a.f));
    case Builtin::Sqrt:
      return Value::ofFloat(std::sqrt(a.f));
    case Builtin::Abs:
      if (a.type == ValueType::Int) // abs(INT32_MIN) wraps to INT32_MIN
        return Value::ofInt(a.i < 0 ? wrap32(-int64_t(a.i)) : a.i);
      return Value::ofFloat(std::fabs(a.f));
    case Builtin::Min:
    case Builtin::Max: {
      Value b = eval(*e.operands[1], at);
      bool isMin = e.builtin == Builtin::Min;
      if (a.type == ValueType::Int)
        return Value::ofInt(isMin ? std::min(a.i, b.i) : std::max(a.i, b.i));
      return Value::ofFloat(isMin ? minimumF(a.f, b.f) : maximumF(a.f, b.f));
    }
    case Builtin::Exp2:
      return Value::ofFloat(std::exp2(a.f));
    case Builtin::Pow:
      return Value::ofFloat(std::pow(a.f, eval(*e.operands[1], at).f));
    case Builtin::Floor:
      return Value::ofFloat(std::floor(a.f));
    case Builtin::Ceil:
      return Value::ofFloat(std::ceil(a.f));
    case Builtin::Sin:
      return Value::ofFloat(std::sin(a.f));
    case Builtin::Cos:
      return Value::ofFloat(std::cos(a.f));
    case Builtin::Sigmoid:
      return Value::ofFloat(1.0 / (1.0 + std::exp(-a.f)));
    case Builtin::Float:
      return a; // the argument is a Float already (Sema's Convert)
    case Builtin::Int:
      return a.type == ValueType::Int ? a : Value::ofInt(toInt(a.f));
    }
    return Value();
  }
};

//===----------------------------------------------------------------------===//
// The launch
//===----------------------------------------------------------------------===//

bool checkSpec(const AttentionSpec &spec, std::string &error) {
  std::string name = "attention '" + spec.name + "'";
  if (spec.headDim < 1 || spec.qHeads < 1 || spec.kvHeads < 1 ||
      spec.qHeads % spec.kvHeads != 0) {
    error = name + " has head_dim " + std::to_string(spec.headDim) +
            ", q_heads " + std::to_string(spec.qHeads) + " and kv_heads " +
            std::to_string(spec.kvHeads) +
            "; each must be positive and kv_heads must divide q_heads";
    return false;
  }
  if (spec.kvCache == KVCacheKind::Paged && spec.pageSize < 1) {
    error = name + " has page_size " + std::to_string(spec.pageSize) +
            "; it must be positive";
    return false;
  }
  if (!(spec.scale > 0) || !std::isfinite(spec.scale)) {
    error = name + " has scale " + std::to_string(spec.scale) +
            "; it must be finite and positive";
    return false;
  }
  for (size_t i = 0; i < spec.params.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (spec.params[i].name == spec.params[j].name) {
        error = name + " declares param '" + spec.params[i].name + "' twice";
        return false;
      }
  return true;
}

/// What every use of the inputs needs once they are checked: the sequences'
/// KV lengths and the params bound to their reads.
struct Checked {
  std::vector<int64_t> kvLen;
  ParamBindings bindings;
};

/// Checks `inputs` against `spec` (shapes, indptrs, block table, params,
/// expressions) before anything is read.
std::optional<Checked> checkInputs(const AttentionSpec &spec,
                                   const AttentionInputs &inputs,
                                   std::string &error) {
  if (!checkSpec(spec, error))
    return std::nullopt;
  const int64_t d = spec.headDim, qHeads = spec.qHeads, kvHeads = spec.kvHeads;
  const int64_t dv = spec.valueHeadDim();
  const bool paged = spec.kvCache == KVCacheKind::Paged;

  // --- Shapes ---------------------------------------------------------------
  if (inputs.qoIndptr.empty()) {
    error = "qo_indptr is empty; it needs batch + 1 entries";
    return std::nullopt;
  }
  const int64_t batch = inputs.batch();
  if (!checkIndptr(inputs.qoIndptr, "qo_indptr", batch, error))
    return std::nullopt;
  const int64_t totalQ = inputs.qoIndptr.back();
  if (!checkFloatTensor(inputs.q, "q", {totalQ, qHeads, d}, error))
    return std::nullopt;

  const HostTensor &kT = paged ? inputs.kCache : inputs.k;
  const HostTensor &vT = paged ? inputs.vCache : inputs.v;
  Checked checked;
  std::vector<int64_t> &kvLen = checked.kvLen;
  kvLen.resize(batch);
  if (!paged) {
    if (!checkIndptr(inputs.kvIndptr, "kv_indptr", batch, error))
      return std::nullopt;
    int64_t totalKv = inputs.kvIndptr.back();
    if (!checkFloatTensor(kT, "k", {totalKv, kvHeads, d}, error) ||
        (!spec.latentKV &&
         !checkFloatTensor(vT, "v", {totalKv, kvHeads, dv}, error)))
      return std::nullopt;
    for (int64_t b = 0; b < batch; ++b)
      kvLen[b] = inputs.kvIndptr[b + 1] - inputs.kvIndptr[b];
  } else {
    int64_t numPages = kT.shape.empty() ? 0 : kT.shape[0];
    std::vector<int64_t> poolShape = {numPages, spec.pageSize, kvHeads, d};
    std::vector<int64_t> vPoolShape = {numPages, spec.pageSize, kvHeads, dv};
    if (!checkFloatTensor(kT, "k_cache", poolShape, error) ||
        (!spec.latentKV && !checkFloatTensor(vT, "v_cache", vPoolShape, error)))
      return std::nullopt;
    // maxPages is bounded by the table's size first, so that the product
    // below cannot overflow.
    const int64_t tableSize = static_cast<int64_t>(inputs.blockTable.size());
    if (inputs.maxPages < 0 || (batch > 0 && inputs.maxPages > tableSize) ||
        tableSize != batch * inputs.maxPages) {
      error = "block_table has " + std::to_string(inputs.blockTable.size()) +
              " entries, expected [batch, max_pages] = [" +
              std::to_string(batch) + ", " + std::to_string(inputs.maxPages) +
              "]";
      return std::nullopt;
    }
    if (static_cast<int64_t>(inputs.kvLens.size()) != batch) {
      error = "kv_lens has " + std::to_string(inputs.kvLens.size()) +
              " entries, expected batch = " + std::to_string(batch);
      return std::nullopt;
    }
    for (int64_t b = 0; b < batch; ++b) {
      kvLen[b] = inputs.kvLens[b];
      if (kvLen[b] < 0 || kvLen[b] > inputs.maxPages * spec.pageSize) {
        error =
            "kv_lens[" + std::to_string(b) + "] = " + std::to_string(kvLen[b]) +
            " does not fit in max_pages (" + std::to_string(inputs.maxPages) +
            ") pages of " + std::to_string(spec.pageSize) + " rows";
        return std::nullopt;
      }
      // Only the pages that hold keys are read; slots past them are padding
      // (runtimes fill them with a sentinel such as -1) and may hold
      // anything.
      int64_t pagesUsed = (kvLen[b] + spec.pageSize - 1) / spec.pageSize;
      for (int64_t j = 0; j < pagesUsed; ++j) {
        int32_t page = inputs.blockTable[b * inputs.maxPages + j];
        if (page < 0 || page >= numPages) {
          error = "block_table[" + std::to_string(b) + "][" +
                  std::to_string(j) + "] = " + std::to_string(page) +
                  " is outside the page pool of " + std::to_string(numPages) +
                  " pages (k_cache/v_cache)";
          return std::nullopt;
        }
      }
    }
  }

  // --- Params ---------------------------------------------------------------
  for (const auto &[name, tensor] : inputs.params) {
    bool declared = false;
    for (const ParamDecl &decl : spec.params)
      declared |= decl.name == name;
    if (!declared) {
      error = "param '" + name + "' is passed but not declared by attention '" +
              spec.name + "'";
      return std::nullopt;
    }
  }
  for (const ParamDecl &decl : spec.params) {
    auto it = inputs.params.find(decl.name);
    const HostTensor *t = it == inputs.params.end() ? nullptr : &it->second;
    if (!checkParam(decl, t, spec, batch, error))
      return std::nullopt;
  }

  // --- Expressions ----------------------------------------------------------
  StructureChecker checker(spec, inputs.params, checked.bindings, error);
  if (spec.score) {
    if (spec.score->type != ValueType::Float) {
      error = "the 'score' expression must be a Float";
      return std::nullopt;
    }
    if (!checker.check(*spec.score, "score", /*allowScore=*/true))
      return std::nullopt;
  }
  if (spec.mask) {
    if (spec.mask->type != ValueType::Bool) {
      error = "the 'mask' expression must be a Bool";
      return std::nullopt;
    }
    if (!checker.check(*spec.mask, "mask", /*allowScore=*/false))
      return std::nullopt;
  }
  for (auto [expr, what] : {std::pair{&spec.sink, "sink"},
                            {&spec.kScale, "k_scale"},
                            {&spec.vScale, "v_scale"}}) {
    if (!*expr)
      continue;
    if ((*expr)->type != ValueType::Float) {
      error = std::string("the '") + what + "' expression must be a Float";
      return std::nullopt;
    }
    if (!checker.check(**expr, what, /*allowScore=*/false))
      return std::nullopt;
  }
  return checked;
}

/// What one query row's logits say about the row.
struct Row {
  double m = -kInf;    ///< the largest logit, the sink's included
  double sink = -kInf; ///< the sink's logit (-inf: none)
  double vScale = 1.0; ///< the row's V dequantization factor
  bool nan = false;    ///< some logit is NaN
};

/// One sequence of the inputs at a time: where its K/V rows are, and the
/// logits of its query rows, evaluated from the AST.
class SequenceView {
public:
  SequenceView(const AttentionSpec &spec, const AttentionInputs &inputs,
               const Checked &checked)
      : spec(spec), inputs(inputs), checked(checked),
        evaluator(spec, checked.bindings), group(spec.qHeads / spec.kvHeads),
        paged(spec.kvCache == KVCacheKind::Paged) {}

  void begin(int64_t sequence) {
    b = sequence;
    start = inputs.qoIndptr[b];
    M = inputs.qoIndptr[b + 1] - start;
    N = checked.kvLen[b];
    rowIndex.resize(N);
    for (int64_t kv = 0; kv < N; ++kv) {
      int64_t row;
      if (paged) {
        int64_t page =
            inputs.blockTable[b * inputs.maxPages + kv / spec.pageSize];
        row = page * spec.pageSize + kv % spec.pageSize;
      } else {
        row = inputs.kvIndptr[b] + kv;
      }
      rowIndex[kv] = row;
    }
  }
  int64_t qStart() const { return start; }
  int64_t queries() const { return M; }
  int64_t keys() const { return N; }
  /// Offset of key kv's row for query head h in a K or V tensor of rows
  /// of `width` elements per KV head.
  int64_t kvOffset(int64_t kv, int64_t h, int64_t width) const {
    return (rowIndex[kv] * spec.kvHeads + h / group) * width;
  }
  int64_t kOffset(int64_t kv, int64_t h) const {
    return kvOffset(kv, h, spec.headDim);
  }
  int64_t vOffset(int64_t kv, int64_t h) const {
    return kvOffset(kv, h, spec.valueHeadDim());
  }
  const double *kRow(int64_t kv, int64_t h) const {
    return &(paged ? inputs.kCache : inputs.k).f[kOffset(kv, h)];
  }
  /// A latent cache's V row is the start of the key's K row.
  const double *vRow(int64_t kv, int64_t h) const {
    if (spec.latentKV)
      return kRow(kv, h);
    return &(paged ? inputs.vCache : inputs.v).f[vOffset(kv, h)];
  }

  /// The logits p of query row i of head h against every key (-inf where
  /// masked); with `raw`, the scores before the score expression, and with
  /// `slope`, the expression's derivative by the score there (central
  /// differences in double: independent of the compiler's derivation).
  Row row(int64_t h, int64_t i, std::vector<double> &p,
          std::vector<double> *raw = nullptr,
          std::vector<double> *slope = nullptr) const {
    const int64_t d = spec.headDim;
    const double *qRow = &inputs.q.f[((start + i) * spec.qHeads + h) * d];
    Element at;
    at.b = static_cast<int32_t>(b);
    at.h = static_cast<int32_t>(h);
    at.q = static_cast<int32_t>(N - M + i); // bottom-right aligned
    at.qLen = static_cast<int32_t>(M);
    at.kvLen = static_cast<int32_t>(N);
    // An fp8 cache holds K8 and V8; attention runs over k_scale K8 and
    // v_scale V8 (the scales read only b and h: Sema).
    at.kv = 0;
    at.score = 0;
    Row row;
    const double kScale =
        spec.kScale ? evaluator.eval(*spec.kScale, at).f : 1.0;
    row.vScale = spec.vScale ? evaluator.eval(*spec.vScale, at).f : 1.0;
    p.assign(N, -kInf);
    if (raw)
      raw->assign(N, 0.0);
    if (slope)
      slope->assign(N, 0.0);
    for (int64_t kv = 0; kv < N; ++kv) {
      at.kv = static_cast<int32_t>(kv);
      if (spec.mask && !evaluator.eval(*spec.mask, at).b)
        continue;
      const double *k = kRow(kv, h);
      double dot = 0;
      for (int64_t e = 0; e < d; ++e)
        dot += qRow[e] * (kScale * k[e]);
      const double s = dot * spec.scale;
      auto modified = [&](double x) {
        at.score = x;
        return spec.score ? evaluator.eval(*spec.score, at).f : x;
      };
      p[kv] = asKernelLogit(modified(s));
      if (raw)
        (*raw)[kv] = s;
      if (slope) {
        const double step = 1e-6 * std::max(1.0, std::fabs(s));
        (*slope)[kv] =
            spec.score ? (modified(s + step) - modified(s - step)) / (2 * step)
                       : 1.0;
      }
    }
    // The sink: one more logit of this row, with no value row.
    if (spec.sink) {
      at.kv = 0; // the sink reads neither kv nor score (Sema)
      at.score = 0;
      row.sink = asKernelLogit(evaluator.eval(*spec.sink, at).f);
    }
    row.m = row.sink;
    row.nan = std::isnan(row.sink);
    for (double x : p) {
      row.nan |= std::isnan(x);
      row.m = std::max(row.m, x);
    }
    return row;
  }

private:
  const AttentionSpec &spec;
  const AttentionInputs &inputs;
  const Checked &checked;
  Evaluator evaluator;
  const int64_t group;
  const bool paged;
  int64_t b = 0, start = 0, M = 0, N = 0;
  std::vector<int64_t> rowIndex; ///< per kv: its row of the K/V tensors
};

} // namespace

std::optional<AttentionOutputs>
attnc::astReference(const AttentionSpec &spec, const AttentionInputs &inputs,
                    std::string &error) {
  std::optional<Checked> checked = checkInputs(spec, inputs, error);
  if (!checked)
    return std::nullopt;
  SequenceView view(spec, inputs, *checked);
  const int64_t d = spec.valueHeadDim(), qHeads = spec.qHeads;
  AttentionOutputs out;
  out.o.assign(inputs.qoIndptr.back() * qHeads * d, 0.0);
  out.lse.assign(inputs.qoIndptr.back() * qHeads, -kInf);
  std::vector<double> p, acc(d);
  for (int64_t b = 0; b < inputs.batch(); ++b) {
    view.begin(b);
    for (int64_t h = 0; h < qHeads; ++h)
      for (int64_t i = 0; i < view.queries(); ++i) {
        const Row row = view.row(h, i, p);
        const int64_t slot = (view.qStart() + i) * qHeads + h;
        if (row.nan) { // a NaN logit poisons the row, visibly
          for (int64_t e = 0; e < d; ++e)
            out.o[slot * d + e] = kNaN;
          out.lse[slot] = kNaN;
          continue;
        }
        if (row.m == -kInf)
          continue; // no key has weight: o = 0, lse = -inf
        double l = row.sink == -kInf ? 0.0 : std::exp(row.sink - row.m);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t kv = 0; kv < view.keys(); ++kv) {
          // A masked key gets no weight at all, so its V row (whatever it
          // holds) cannot reach o. A +inf logit gives inf - inf = NaN here,
          // as it would in the kernel.
          if (p[kv] == -kInf)
            continue;
          double w = std::exp(p[kv] - row.m);
          l += w;
          const double *vRow = view.vRow(kv, h);
          for (int64_t e = 0; e < d; ++e)
            acc[e] += w * (row.vScale * vRow[e]);
        }
        for (int64_t e = 0; e < d; ++e)
          out.o[slot * d + e] = acc[e] / l;
        out.lse[slot] = row.m + std::log(l);
      }
  }
  return out;
}

std::optional<AttentionGradients>
attnc::astBackwardReference(const AttentionSpec &spec,
                            const AttentionInputs &inputs,
                            const std::vector<double> &dO, std::string &error) {
  std::optional<Checked> checked = checkInputs(spec, inputs, error);
  if (!checked)
    return std::nullopt;
  if (spec.kScale || spec.vScale) {
    error = "the backward reference takes 16-bit K/V (no k_scale / v_scale)";
    return std::nullopt;
  }
  if (spec.valueHeadDim() != spec.headDim) {
    error = "the backward reference takes v_head_dim = head_dim";
    return std::nullopt;
  }
  if (spec.latentKV) {
    error = "the backward reference takes separate K and V (no kv_layout = "
            "latent)";
    return std::nullopt;
  }
  const int64_t d = spec.headDim, qHeads = spec.qHeads;
  const int64_t totalQ = inputs.qoIndptr.back();
  if (static_cast<int64_t>(dO.size()) != totalQ * qHeads * d) {
    error = "dO has " + std::to_string(dO.size()) + " elements, expected " +
            std::to_string(totalQ * qHeads * d) + " (like q)";
    return std::nullopt;
  }
  const bool paged = spec.kvCache == KVCacheKind::Paged;
  AttentionGradients grads;
  grads.dq.assign(inputs.q.f.size(), 0.0);
  grads.dk.assign((paged ? inputs.kCache : inputs.k).f.size(), 0.0);
  grads.dv.assign((paged ? inputs.vCache : inputs.v).f.size(), 0.0);
  SequenceView view(spec, inputs, *checked);
  std::vector<double> p, raw, slope, prob, dp;
  // dL/ds' of every row (b, h, i) in loop order, for the param gradients.
  std::vector<std::vector<double>> dsRows;
  for (int64_t b = 0; b < inputs.batch(); ++b) {
    view.begin(b);
    const int64_t N = view.keys();
    for (int64_t h = 0; h < qHeads; ++h)
      for (int64_t i = 0; i < view.queries(); ++i) {
        dsRows.emplace_back();
        const Row row = view.row(h, i, p, &raw, &slope);
        if (row.nan || row.m == -kInf)
          continue; // no key has weight: no gradient reaches anything
        const int64_t slot = (view.qStart() + i) * qHeads + h;
        const double *dORow = &dO[slot * d];
        // P from the logits, as the forward pass normalises them.
        double l = row.sink == -kInf ? 0.0 : std::exp(row.sink - row.m);
        prob.assign(N, 0.0);
        for (int64_t kv = 0; kv < N; ++kv)
          if (p[kv] != -kInf)
            l += prob[kv] = std::exp(p[kv] - row.m);
        // dP = dO . V; D = sum_kv P dP = dO . O.
        dp.assign(N, 0.0);
        double D = 0;
        for (int64_t kv = 0; kv < N; ++kv) {
          prob[kv] /= l;
          if (prob[kv] == 0)
            continue;
          const double *vRow = view.vRow(kv, h);
          for (int64_t e = 0; e < d; ++e)
            dp[kv] += dORow[e] * vRow[e];
          D += prob[kv] * dp[kv];
        }
        const double *qRow = &inputs.q.f[slot * d];
        std::vector<double> &dsRow = dsRows.back();
        dsRow.assign(N, 0.0);
        for (int64_t kv = 0; kv < N; ++kv) {
          if (prob[kv] == 0)
            continue;
          // dL/ds' = P (dP - D); dL/ds = dL/ds' f'(s); s = scale q.k.
          dsRow[kv] = prob[kv] * (dp[kv] - D);
          double ds = dsRow[kv] * slope[kv] * spec.scale;
          const int64_t kBase = view.kOffset(kv, h);
          for (int64_t e = 0; e < d; ++e) {
            grads.dq[slot * d + e] += ds * view.kRow(kv, h)[e];
            grads.dk[kBase + e] += ds * qRow[e];
            grads.dv[kBase + e] += prob[kv] * dORow[e];
          }
        }
      }
  }
  // dL/dp[e] = sum of dL/ds' dp'/dp[e]: the logits of every row with p[e]
  // moved both ways (a whole pass per element: test-sized params). The
  // moved copy's bindings point at its own params, so p[e] is moved in
  // place.
  for (const ParamDecl &param : spec.params) {
    if (!param.requiresGrad)
      continue;
    AttentionInputs moved = inputs;
    std::optional<Checked> checkedMoved = checkInputs(spec, moved, error);
    if (!checkedMoved)
      return std::nullopt;
    SequenceView movedView(spec, moved, *checkedMoved);
    std::vector<double> &values = moved.params.at(param.name).f;
    std::vector<double> &grad = grads.params[param.name];
    grad.assign(values.size(), 0.0);
    std::vector<double> pUp, pDown;
    for (size_t e = 0; e < values.size(); ++e) {
      const double saved = values[e];
      const double step = 1e-6 * std::max(1.0, std::fabs(saved));
      size_t rowId = 0;
      for (int64_t b = 0; b < inputs.batch(); ++b) {
        movedView.begin(b);
        for (int64_t h = 0; h < qHeads; ++h)
          for (int64_t i = 0; i < movedView.queries(); ++i) {
            const std::vector<double> &dsRow = dsRows[rowId++];
            if (dsRow.empty())
              continue;
            values[e] = saved + step;
            movedView.row(h, i, pUp);
            values[e] = saved - step;
            movedView.row(h, i, pDown);
            for (size_t kv = 0; kv < dsRow.size(); ++kv)
              if (dsRow[kv] != 0 && std::isfinite(pUp[kv]) &&
                  std::isfinite(pDown[kv]))
                grad[e] += dsRow[kv] * (pUp[kv] - pDown[kv]) / (2 * step);
          }
      }
      values[e] = saved;
    }
  }
  return grads;
}

std::optional<TileCounts> attnc::astTileCounts(const AttentionSpec &spec,
                                               const AttentionInputs &inputs,
                                               const TileShape &shape,
                                               std::string &error) {
  std::optional<Checked> checked = checkInputs(spec, inputs, error);
  if (!checked)
    return std::nullopt;
  const int64_t group = spec.qHeads / spec.kvHeads;
  const int64_t pack = shape.packHeads ? group : 1;
  if (shape.blockQ < pack || shape.blockQ % pack != 0 || shape.blockKV < 1) {
    error = "tile shape " + std::to_string(shape.blockQ) + "x" +
            std::to_string(shape.blockKV) + " does not hold " +
            std::to_string(pack) + " packed heads";
    return std::nullopt;
  }
  const int64_t rowsPerTile = shape.blockQ / pack;
  Evaluator evaluator(spec, checked->bindings);
  TileCounts counts;
  for (int64_t b = 0; b < inputs.batch(); ++b) {
    const int64_t M = inputs.qoIndptr[b + 1] - inputs.qoIndptr[b];
    const int64_t N = checked->kvLen[b];
    const int64_t kvTiles = (N + shape.blockKV - 1) / shape.blockKV;
    // One program per (head, or group of packed heads) and query tile.
    for (int64_t h0 = 0; h0 < spec.qHeads; h0 += pack) {
      for (int64_t row0 = 0; row0 < M; row0 += rowsPerTile) {
        const int64_t rows = std::min(rowsPerTile, M - row0);
        for (int64_t j = 0; j < kvTiles; ++j) {
          bool visible = false, masked = false;
          for (int64_t h = h0; h < h0 + pack; ++h)
            for (int64_t i = row0; i < row0 + rows; ++i)
              for (int64_t kv = j * shape.blockKV; kv < (j + 1) * shape.blockKV;
                   ++kv) {
                Element at;
                at.b = static_cast<int32_t>(b);
                at.h = static_cast<int32_t>(h);
                at.q = static_cast<int32_t>(N - M + i);
                at.kv = static_cast<int32_t>(kv);
                at.qLen = static_cast<int32_t>(M);
                at.kvLen = static_cast<int32_t>(N);
                // Keys past kv_len are masked whatever the mask says.
                bool on =
                    kv < N && (!spec.mask || evaluator.eval(*spec.mask, at).b);
                visible |= on;
                masked |= !on;
              }
          counts.kvTilesVisible += visible;
          counts.kvTilesPartial += visible && masked;
          counts.kvTilesAll += 1;
        }
      }
    }
  }
  return counts;
}
