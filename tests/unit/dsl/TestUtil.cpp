//===- TestUtil.cpp - Shared helpers for the DSL unit tests ---------------===//

#include "TestUtil.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

const Diagnostic *ParseResult::firstError() const {
  for (const Diagnostic &diag : diags->diagnostics())
    if (diag.severity == Diagnostic::Severity::Error)
      return &diag;
  return nullptr;
}

std::string ParseResult::rendered() const {
  std::ostringstream os;
  diags->print(os);
  return os.str();
}

ParseResult attnc::dsl::test::parse(std::string text, std::string name) {
  ParseResult result;
  result.file = std::make_unique<SourceFile>();
  result.file->name = std::move(name);
  result.file->text = std::move(text);
  result.diags = std::make_unique<DiagnosticEngine>(*result.file);
  result.module = parseAndCheck(*result.file, *result.diags);
  return result;
}

std::string attnc::dsl::test::blockWith(const std::string &entries) {
  return "attention t {\n"
         "  dtype = fp16\n"
         "  head_dim = 64\n"
         "  q_heads = 8\n"
         "  kv_heads = 2\n" +
         entries + "\n}\n";
}

std::string attnc::dsl::test::line2(const std::string &text) {
  return "attention a {\n" + text + "\n}\n";
}

const AttentionSpec &attnc::dsl::test::onlySpec(const ParseResult &result) {
  INFO(result.rendered());
  REQUIRE(result.module.has_value());
  REQUIRE(result.module->specs.size() == 1);
  return result.module->specs[0];
}

std::string attnc::dsl::test::sourceDir() {
  if (const char *dir = std::getenv("ATTNC_SOURCE_DIR"))
    return dir;
  return ATTNC_TEST_SOURCE_DIR;
}

std::vector<std::string> attnc::dsl::test::exampleFiles() {
  std::vector<std::string> files;
  for (const auto &entry :
       std::filesystem::directory_iterator(sourceDir() + "/examples"))
    if (entry.path().extension() == ".attn")
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string attnc::dsl::test::readFile(const std::string &path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

bool attnc::dsl::test::isInside(const std::string &text, SourceLoc loc) {
  if (loc.line == 0 || loc.col == 0)
    return false;
  size_t start = 0;
  for (uint32_t line = 1; line < loc.line; ++line) {
    size_t newline = text.find('\n', start);
    if (newline == std::string::npos)
      return false;
    start = newline + 1;
  }
  size_t end = text.find('\n', start);
  size_t length = (end == std::string::npos ? text.size() : end) - start;
  // A line that exists only after the file's final line break is not in the
  // file, except for the empty file's single line.
  if (start == text.size() && !text.empty())
    return false;
  return loc.col <= length + 1;
}

void attnc::dsl::test::checkTypeContract(const Expr &e) {
  INFO("node at " << e.loc.line << ":" << e.loc.col);
  REQUIRE(e.type != ValueType::Invalid);
  auto typeOf = [&](size_t i) { return e.operands[i]->type; };
  switch (e.kind) {
  case ExprKind::IntLit:
    CHECK(e.type == ValueType::Int);
    break;
  case ExprKind::FloatLit:
    CHECK(e.type == ValueType::Float);
    break;
  case ExprKind::BoolLit:
    CHECK(e.type == ValueType::Bool);
    break;
  case ExprKind::Var:
    CHECK(e.type ==
          (e.var == BuiltinVar::Score ? ValueType::Float : ValueType::Int));
    break;
  case ExprKind::ParamRef:
    for (size_t i = 0; i < e.operands.size(); ++i)
      CHECK(typeOf(i) == ValueType::Int);
    break;
  case ExprKind::Unary:
    if (e.unaryOp == UnaryOp::Not)
      CHECK((e.type == ValueType::Bool && typeOf(0) == ValueType::Bool));
    else
      CHECK((e.type != ValueType::Bool && typeOf(0) == e.type));
    break;
  case ExprKind::Binary:
    switch (e.binaryOp) {
    case BinaryOp::And:
    case BinaryOp::Or:
      CHECK((typeOf(0) == ValueType::Bool && typeOf(1) == ValueType::Bool));
      CHECK(e.type == ValueType::Bool);
      break;
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
    case BinaryOp::Eq:
    case BinaryOp::Ne:
      CHECK(typeOf(0) == typeOf(1));
      CHECK(e.type == ValueType::Bool);
      break;
    case BinaryOp::Rem:
      CHECK((typeOf(0) == ValueType::Int && typeOf(1) == ValueType::Int));
      CHECK(e.type == ValueType::Int);
      break;
    default:
      CHECK((typeOf(0) == e.type && typeOf(1) == e.type));
      CHECK(e.type != ValueType::Bool);
      break;
    }
    break;
  case ExprKind::Select:
    CHECK(typeOf(0) == ValueType::Bool);
    CHECK((typeOf(1) == e.type && typeOf(2) == e.type));
    break;
  case ExprKind::Call:
    switch (e.builtin) {
    case Builtin::Exp:
    case Builtin::Log:
    case Builtin::Tanh:
    case Builtin::Sqrt:
    case Builtin::Exp2:
    case Builtin::Floor:
    case Builtin::Ceil:
    case Builtin::Sin:
    case Builtin::Cos:
    case Builtin::Sigmoid:
    case Builtin::Float:
      CHECK((e.type == ValueType::Float && typeOf(0) == ValueType::Float));
      break;
    case Builtin::Pow:
      CHECK((e.type == ValueType::Float && typeOf(0) == ValueType::Float &&
             typeOf(1) == ValueType::Float));
      break;
    case Builtin::Int:
      CHECK((e.type == ValueType::Int && typeOf(0) != ValueType::Bool));
      break;
    case Builtin::Abs:
      CHECK(typeOf(0) == e.type);
      break;
    case Builtin::Min:
    case Builtin::Max:
      CHECK((typeOf(0) == e.type && typeOf(1) == e.type));
      break;
    }
    break;
  case ExprKind::Convert:
    CHECK((e.type == ValueType::Float && typeOf(0) == ValueType::Int));
    break;
  }
  for (const ExprPtr &operand : e.operands)
    checkTypeContract(*operand);
}

void attnc::dsl::test::checkTypeContract(const AttentionSpec &spec) {
  if (spec.scaleExpr) {
    CHECK(spec.scaleExpr->type == ValueType::Float);
    checkTypeContract(*spec.scaleExpr);
  }
  if (spec.score) {
    CHECK(spec.score->type == ValueType::Float);
    checkTypeContract(*spec.score);
  }
  if (spec.mask) {
    CHECK(spec.mask->type == ValueType::Bool);
    checkTypeContract(*spec.mask);
  }
  for (const ExprPtr *expr : {&spec.sink, &spec.kScale, &spec.vScale})
    if (*expr) {
      CHECK((*expr)->type == ValueType::Float);
      checkTypeContract(**expr);
    }
}
