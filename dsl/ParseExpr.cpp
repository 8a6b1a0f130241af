//===- ParseExpr.cpp - Expressions of the attention DSL -------------------===//
//
// Precedence climbing over C's operator table:
//
//   ?:  (right associative)  <  ||  <  &&  <  |  <  ^  <  &  <  == !=
//       <  < <= > >=  <  << >>  <  + -  <  * / %  <  unary - !
//       <  x[i, j], f(a, b), primary
//
// A `-` directly before a number is folded into the literal, so that
// -2147483648 is a valid i32 and printing gives back what was written.
//
//===----------------------------------------------------------------------===//

#include "dsl/Parser.h"
#include "dsl/Text.h"

#include <cfloat>
#include <charconv>
#include <cmath>
#include <limits>

using namespace attnc::dsl;

/// Holds one level of nesting for as long as it lives.
class Parser::NestingScope {
public:
  NestingScope(Parser &parser, SourceLoc loc)
      : parser(parser), entered(parser.enterNesting(loc)) {}
  ~NestingScope() {
    if (entered)
      parser.leaveNesting();
  }
  explicit operator bool() const { return entered; }

private:
  Parser &parser;
  bool entered;
};

namespace {
struct BinaryOperator {
  BinaryOp op;
  int precedence;
};
} // namespace

static std::optional<BinaryOperator> binaryOperator(TokenKind kind) {
  switch (kind) {
  case TokenKind::PipePipe:
    return BinaryOperator{BinaryOp::Or, 1};
  case TokenKind::AmpAmp:
    return BinaryOperator{BinaryOp::And, 2};
  case TokenKind::Pipe:
    return BinaryOperator{BinaryOp::BitOr, 3};
  case TokenKind::Caret:
    return BinaryOperator{BinaryOp::BitXor, 4};
  case TokenKind::Amp:
    return BinaryOperator{BinaryOp::BitAnd, 5};
  case TokenKind::EqEq:
    return BinaryOperator{BinaryOp::Eq, 6};
  case TokenKind::Ne:
    return BinaryOperator{BinaryOp::Ne, 6};
  case TokenKind::Lt:
    return BinaryOperator{BinaryOp::Lt, 7};
  case TokenKind::Le:
    return BinaryOperator{BinaryOp::Le, 7};
  case TokenKind::Gt:
    return BinaryOperator{BinaryOp::Gt, 7};
  case TokenKind::Ge:
    return BinaryOperator{BinaryOp::Ge, 7};
  case TokenKind::Shl:
    return BinaryOperator{BinaryOp::Shl, 8};
  case TokenKind::Shr:
    return BinaryOperator{BinaryOp::Shr, 8};
  case TokenKind::Plus:
    return BinaryOperator{BinaryOp::Add, 9};
  case TokenKind::Minus:
    return BinaryOperator{BinaryOp::Sub, 9};
  case TokenKind::Star:
    return BinaryOperator{BinaryOp::Mul, 10};
  case TokenKind::Slash:
    return BinaryOperator{BinaryOp::Div, 10};
  case TokenKind::Percent:
    return BinaryOperator{BinaryOp::Rem, 10};
  default:
    return std::nullopt;
  }
}

bool Parser::canStartExpr(const Token &token) {
  switch (token.kind) {
  case TokenKind::Ident:
  case TokenKind::Int:
  case TokenKind::Float:
  case TokenKind::LParen:
  case TokenKind::Minus:
  case TokenKind::Bang:
    return true;
  default:
    return false;
  }
}

static std::string nestingMessage() {
  return "expression is nested too deeply (the limit is " +
         std::to_string(Parser::kMaxNesting) + " levels)";
}

bool Parser::enterNesting(SourceLoc loc) {
  if (nesting >= kMaxNesting) {
    error(loc, nestingMessage());
    return false;
  }
  ++nesting;
  return true;
}

Parser::Parsed Parser::makeNode(ExprKind kind, SourceLoc loc,
                                std::vector<Parsed> operands) {
  unsigned height = 1;
  for (const Parsed &operand : operands)
    height = std::max(height, operand.height + 1);
  if (height > kMaxNesting) {
    error(loc, nestingMessage());
    return {};
  }
  auto expr = std::make_unique<Expr>();
  expr->kind = kind;
  expr->loc = loc;
  expr->operands.reserve(operands.size());
  for (Parsed &operand : operands)
    expr->operands.push_back(std::move(operand.expr));
  return {std::move(expr), height};
}

bool Parser::rejectIndexing() {
  if (!tok.is(TokenKind::LBracket))
    return true;
  error(tok.loc, "only a param can be indexed with '[...]'");
  return false;
}

Parser::Parsed Parser::parseExpr() {
  Parsed condition = parseBinary(/*minPrecedence=*/1);
  if (failed || !tok.is(TokenKind::Question))
    return condition;
  SourceLoc questionLoc = tok.loc;
  NestingScope scope(*this, questionLoc);
  if (!scope)
    return {};
  advance();
  Parsed ifTrue = parseExpr();
  if (failed)
    return {};
  if (!consumeIf(TokenKind::Colon)) {
    errorExpected("expected ':' after the first branch of '?:'");
    return {};
  }
  // The false branch may itself be a `?:`: right associativity.
  Parsed ifFalse = parseExpr();
  if (failed)
    return {};
  std::vector<Parsed> operands;
  operands.push_back(std::move(condition));
  operands.push_back(std::move(ifTrue));
  operands.push_back(std::move(ifFalse));
  return makeNode(ExprKind::Select, questionLoc, std::move(operands));
}

Parser::Parsed Parser::parseBinary(int minPrecedence) {
  Parsed lhs = parseUnary();
  if (failed)
    return {};
  for (;;) {
    std::optional<BinaryOperator> op = binaryOperator(tok.kind);
    if (!op || op->precedence < minPrecedence)
      return lhs;
    SourceLoc opLoc = tok.loc;
    advance();
    // Operands of equal precedence on the right bind to the next operator
    // up, which makes every binary operator left associative.
    Parsed rhs = parseBinary(op->precedence + 1);
    if (failed)
      return {};
    std::vector<Parsed> operands;
    operands.push_back(std::move(lhs));
    operands.push_back(std::move(rhs));
    lhs = makeNode(ExprKind::Binary, opLoc, std::move(operands));
    if (failed)
      return {};
    lhs.expr->binaryOp = op->op;
  }
}

Parser::Parsed Parser::parseUnary() {
  if (!tok.is(TokenKind::Minus) && !tok.is(TokenKind::Bang))
    return parsePrimary();
  SourceLoc opLoc = tok.loc;
  UnaryOp op = tok.is(TokenKind::Minus) ? UnaryOp::Neg : UnaryOp::Not;
  NestingScope scope(*this, opLoc);
  if (!scope)
    return {};
  advance();
  if (op == UnaryOp::Neg &&
      (tok.is(TokenKind::Int) || tok.is(TokenKind::Float))) {
    Parsed literal = parseNumber(/*negate=*/true, opLoc);
    if (failed || !rejectIndexing())
      return {};
    return literal;
  }
  Parsed operand = parseUnary();
  if (failed)
    return {};
  std::vector<Parsed> operands;
  operands.push_back(std::move(operand));
  Parsed node = makeNode(ExprKind::Unary, opLoc, std::move(operands));
  if (failed)
    return {};
  node.expr->unaryOp = op;
  return node;
}

Parser::Parsed Parser::parsePrimary() {
  switch (tok.kind) {
  case TokenKind::Int:
  case TokenKind::Float: {
    Parsed literal = parseNumber(/*negate=*/false, tok.loc);
    if (failed || !rejectIndexing())
      return {};
    return literal;
  }
  case TokenKind::Ident:
    return parseIdentifier();
  case TokenKind::LParen: {
    SourceLoc openLoc = tok.loc;
    NestingScope scope(*this, openLoc);
    if (!scope)
      return {};
    advance();
    Parsed inner = parseExpr();
    if (failed)
      return {};
    if (!consumeIf(TokenKind::RParen)) {
      errorExpected("expected ')'");
      diags.note(openLoc, "to match this '('");
      return {};
    }
    if (!rejectIndexing())
      return {};
    return inner;
  }
  default:
    errorExpected("expected an expression after " + quote(prevTok.text));
    return {};
  }
}

Parser::Parsed Parser::parseNumber(bool negate, SourceLoc loc) {
  Token number = tok;
  advance();
  std::string written = (negate ? "-" : "") + std::string(number.text);
  if (number.is(TokenKind::Int)) {
    // The magnitude of INT32_MIN is one more than INT32_MAX.
    int64_t limit = int64_t(std::numeric_limits<int32_t>::max()) + negate;
    std::optional<int64_t> value = decimalValue(number.text, limit);
    if (!value) {
      error(loc,
            "integer literal " + quote(written) + " does not fit in 32 bits");
      return {};
    }
    Parsed leaf = makeNode(ExprKind::IntLit, loc, {});
    leaf.expr->intValue = negate ? -*value : *value;
    return leaf;
  }
  double value = 0;
  const char *first = number.text.data();
  const char *last = first + number.text.size();
  std::from_chars_result result = std::from_chars(first, last, value);
  // Float is f32: a literal that f32 cannot hold would silently become inf.
  if (result.ec != std::errc() || result.ptr != last ||
      !(std::fabs(value) <= FLT_MAX)) {
    error(loc, "floating-point literal " + quote(written) +
                   " is out of range for f32");
    return {};
  }
  Parsed leaf = makeNode(ExprKind::FloatLit, loc, {});
  leaf.expr->floatValue = negate ? -value : value;
  return leaf;
}

/// The message for `name(...)` where `name` is not a builtin function.
static std::string notAFunctionMessage(std::string_view name) {
  std::string message = "unknown function " + quote(name);
  if (lookupBuiltinVar(name))
    message = quote(name) + " is not a function";
  return message + "; the functions are exp, exp2, log, pow, sqrt, tanh, "
                   "sigmoid, sin, cos, floor, ceil, abs, min, max, int and "
                   "float";
}

Parser::Parsed Parser::parseIdentifier() {
  Token name = tok;
  advance();
  if (name.text == "inf" && !tok.is(TokenKind::LParen) &&
      !tok.is(TokenKind::LBracket)) {
    Parsed leaf = makeNode(ExprKind::FloatLit, name.loc, {});
    leaf.expr->floatValue = std::numeric_limits<double>::infinity();
    return leaf;
  }
  if (name.text == "true" || name.text == "false") {
    Parsed leaf = makeNode(ExprKind::BoolLit, name.loc, {});
    leaf.expr->boolValue = name.text == "true";
    if (!rejectIndexing())
      return {};
    return leaf;
  }
  if (tok.is(TokenKind::LParen)) {
    std::optional<Builtin> fn = lookupBuiltinFunction(name.text);
    if (!fn) {
      error(name.loc, notAFunctionMessage(name.text));
      return {};
    }
    return parseCall(name, *fn);
  }
  if (tok.is(TokenKind::LBracket))
    return parseIndices(name);
  // Builtin variables are resolved here; any other name is assumed to be a
  // param and Sema checks that it is declared.
  if (std::optional<BuiltinVar> var = lookupBuiltinVar(name.text)) {
    Parsed leaf = makeNode(ExprKind::Var, name.loc, {});
    leaf.expr->var = *var;
    return leaf;
  }
  Parsed leaf = makeNode(ExprKind::ParamRef, name.loc, {});
  leaf.expr->name = std::string(name.text);
  return leaf;
}

Parser::Parsed Parser::parseCall(const Token &name, Builtin fn) {
  NestingScope scope(*this, tok.loc);
  if (!scope)
    return {};
  advance(); // '('
  std::vector<Parsed> arguments;
  if (!tok.is(TokenKind::RParen)) {
    for (;;) {
      arguments.push_back(parseExpr());
      if (failed)
        return {};
      if (consumeIf(TokenKind::Comma))
        continue;
      if (tok.is(TokenKind::RParen))
        break;
      errorExpected("expected ',' or ')' in the call to " + quote(name.text));
      return {};
    }
  }
  advance(); // ')'
  Parsed call = makeNode(ExprKind::Call, name.loc, std::move(arguments));
  if (failed || !rejectIndexing())
    return {};
  call.expr->builtin = fn;
  return call;
}

Parser::Parsed Parser::parseIndices(const Token &name) {
  NestingScope scope(*this, tok.loc);
  if (!scope)
    return {};
  advance(); // '['
  std::vector<Parsed> indices;
  for (;;) {
    indices.push_back(parseExpr());
    if (failed)
      return {};
    if (consumeIf(TokenKind::Comma))
      continue;
    if (consumeIf(TokenKind::RBracket))
      break;
    errorExpected("expected ',' or ']' after an index of " + quote(name.text));
    return {};
  }
  Parsed ref = makeNode(ExprKind::ParamRef, name.loc, std::move(indices));
  if (failed)
    return {};
  ref.expr->name = std::string(name.text);
  if (tok.is(TokenKind::LBracket)) {
    error(tok.loc, "all indices of a param go inside one '[...]', as in "
                   "doc[b, q]");
    return {};
  }
  return ref;
}
