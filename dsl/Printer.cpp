//===- Printer.cpp - Printing a Module back as DSL text -------------------===//
//
// The printed form is canonical: one entry per line in a fixed order, the
// defaults left out, every compound operand in parentheses, floats in their
// shortest exact form. Convert nodes are implicit in the DSL and are not
// printed, so parsing the output gives back the same module.
//
//===----------------------------------------------------------------------===//

#include "dsl/Frontend.h"
#include "dsl/Text.h"

#include <cmath>

using namespace attnc::dsl;

namespace {
class Printer {
public:
  std::string print(const Module &module);

private:
  void printSpec(const AttentionSpec &spec);
  void printParam(const ParamDecl &param);
  void printExpr(const Expr &expr);
  /// Prints `expr` as the operand of an operator: in parentheses unless it
  /// is a leaf, a call or an indexed param.
  void printOperand(const Expr &expr);
  void printList(const std::vector<ExprPtr> &exprs);

  std::string out;
};
} // namespace

/// Looks through the conversions Sema inserted.
static const Expr &stripConverts(const Expr &expr) {
  const Expr *current = &expr;
  while (current->kind == ExprKind::Convert && !current->operands.empty())
    current = current->operands[0].get();
  return *current;
}

std::string Printer::print(const Module &module) {
  for (size_t i = 0; i < module.specs.size(); ++i) {
    if (i > 0)
      out += "\n";
    printSpec(module.specs[i]);
  }
  return std::move(out);
}

void Printer::printSpec(const AttentionSpec &spec) {
  out += "attention " + spec.name + " {\n";
  out += std::string("  dtype = ") + spelling(spec.dtype) + "\n";
  out += "  head_dim = " + std::to_string(spec.headDim) + "\n";
  if (spec.vHeadDim != spec.headDim)
    out += "  v_head_dim = " + std::to_string(spec.vHeadDim) + "\n";
  out += "  q_heads = " + std::to_string(spec.qHeads) + "\n";
  out += "  kv_heads = " + std::to_string(spec.kvHeads) + "\n";
  if (spec.kvCache == KVCacheKind::Paged)
    out += "  kv_cache = paged(page_size = " + std::to_string(spec.pageSize) +
           ")\n";
  else
    out += "  kv_cache = dense\n";
  if (spec.kvDtype != spec.dtype)
    out += std::string("  kv_dtype = ") + spelling(spec.kvDtype) + "\n";
  if (spec.latentKV)
    out += "  kv_layout = latent\n";
  for (const ParamDecl &param : spec.params)
    printParam(param);
  auto printEntry = [&](const char *key, const ExprPtr &expr) {
    if (!expr)
      return;
    out += std::string("  ") + key + " = ";
    printExpr(*expr);
    out += "\n";
  };
  printEntry("scale", spec.scaleExpr);
  printEntry("score", spec.score);
  printEntry("mask", spec.mask);
  printEntry("sink", spec.sink);
  printEntry("k_scale", spec.kScale);
  printEntry("v_scale", spec.vScale);
  out += "}\n";
}

void Printer::printParam(const ParamDecl &param) {
  out += "  param " + param.name + " : " + spelling(param.elementType);
  const char *grad = param.requiresGrad ? " requires_grad" : "";
  if (param.dims.empty()) {
    out += std::string(grad) + "\n";
    return;
  }
  out += "[";
  for (size_t i = 0; i < param.dims.size(); ++i) {
    if (i > 0)
      out += ", ";
    const ParamDim &dim = param.dims[i];
    switch (dim.kind) {
    case ParamDim::Kind::Batch:
      out += "batch";
      break;
    case ParamDim::Kind::QHeads:
      out += "q_heads";
      break;
    case ParamDim::Kind::KVHeads:
      out += "kv_heads";
      break;
    case ParamDim::Kind::Fixed:
      out += std::to_string(dim.extent);
      break;
    case ParamDim::Kind::Dynamic:
      out += "?";
      break;
    }
  }
  out += "]" + std::string(grad) + "\n";
}

void Printer::printList(const std::vector<ExprPtr> &exprs) {
  for (size_t i = 0; i < exprs.size(); ++i) {
    if (i > 0)
      out += ", ";
    printExpr(*exprs[i]);
  }
}

void Printer::printOperand(const Expr &expr) {
  const Expr &e = stripConverts(expr);
  bool compound = e.kind == ExprKind::Binary || e.kind == ExprKind::Select;
  if (compound)
    out += "(";
  printExpr(e);
  if (compound)
    out += ")";
}

void Printer::printExpr(const Expr &expr) {
  const Expr &e = stripConverts(expr);
  switch (e.kind) {
  case ExprKind::IntLit:
    out += std::to_string(e.intValue);
    return;
  case ExprKind::FloatLit:
    if (std::isinf(e.floatValue)) {
      out += e.floatValue > 0 ? "inf" : "(-inf)";
      return;
    }
    out += formatDouble(e.floatValue);
    return;
  case ExprKind::BoolLit:
    out += e.boolValue ? "true" : "false";
    return;
  case ExprKind::Var:
    out += spelling(e.var);
    return;
  case ExprKind::ParamRef:
    out += e.name;
    if (!e.operands.empty()) {
      out += "[";
      printList(e.operands);
      out += "]";
    }
    return;
  case ExprKind::Unary: {
    out += spelling(e.unaryOp);
    // `-5` would read back as the literal -5, not as `-` applied to 5.
    const Expr &operand = stripConverts(*e.operands[0]);
    bool isNumber =
        operand.kind == ExprKind::IntLit || operand.kind == ExprKind::FloatLit;
    if (e.unaryOp == UnaryOp::Neg && isNumber) {
      out += "(";
      printExpr(operand);
      out += ")";
      return;
    }
    printOperand(operand);
    return;
  }
  case ExprKind::Binary:
    printOperand(*e.operands[0]);
    out += std::string(" ") + spelling(e.binaryOp) + " ";
    printOperand(*e.operands[1]);
    return;
  case ExprKind::Select:
    printOperand(*e.operands[0]);
    out += " ? ";
    printOperand(*e.operands[1]);
    out += " : ";
    printOperand(*e.operands[2]);
    return;
  case ExprKind::Call:
    out += spelling(e.builtin);
    out += "(";
    printList(e.operands);
    out += ")";
    return;
  case ExprKind::Convert:
    return; // Unreachable: stripped above.
  }
}

std::string attnc::dsl::printModule(const Module &module) {
  return Printer().print(module);
}
