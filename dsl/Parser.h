//===- Parser.h - Recursive-descent parser for the attention DSL ----------===//
//
// Turns a source file into BlockSyntax, stopping at the first syntax error:
// after one, the rest of the file would only produce noise.
//
// Expressions are bounded: at most kMaxNesting levels of parentheses, unary
// operators and `?:`, and trees at most kMaxNesting nodes deep. Every later
// stage walks expressions recursively, so this bound is what keeps a hostile
// file (100000 `(` in a row, a megabyte of `1+1+...`) from overflowing the
// stack anywhere.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_PARSER_H
#define ATTNC_DSL_PARSER_H

#include "dsl/Diagnostics.h"
#include "dsl/Lexer.h"
#include "dsl/Syntax.h"

#include <optional>
#include <vector>

namespace attnc::dsl {

class Parser {
public:
  static constexpr unsigned kMaxNesting = 256;
  /// Tensor params with more dimensions than this are rejected.
  static constexpr unsigned kMaxParamDims = 8;

  Parser(const SourceFile &file, DiagnosticEngine &diags);

  /// Parses the whole file. Returns nullopt after reporting the first
  /// syntax error.
  std::optional<std::vector<BlockSyntax>> parseFile();

private:
  /// An expression and the height of its tree (a leaf is 1).
  struct Parsed {
    ExprPtr expr;
    unsigned height = 0;
  };

  // Blocks and entries (Parser.cpp).
  bool parseBlock(std::vector<BlockSyntax> &blocks);
  bool parseEntry(BlockSyntax &block);
  bool parseKeyValue(EntrySyntax &entry);
  bool parseParam(EntrySyntax &entry);
  bool parseParamDim(ParamDecl &param);
  bool parseKVCache(EntrySyntax &entry);
  bool parseIntValue(int64_t &value, SourceLoc &loc, std::string_view after);

  // Expressions (ParseExpr.cpp).
  Parsed parseExpr();
  Parsed parseBinary(int minPrecedence);
  Parsed parseUnary();
  Parsed parsePrimary();
  Parsed parseIdentifier();
  Parsed parseCall(const Token &name, Builtin fn);
  Parsed parseIndices(const Token &name);
  Parsed parseNumber(bool negate, SourceLoc loc);
  /// Builds a node over `operands`, checking the tree height bound.
  Parsed makeNode(ExprKind kind, SourceLoc loc, std::vector<Parsed> operands);
  /// Enters one level of nesting at `loc`; false (error reported) past the
  /// bound. Every successful call is paired with a leaveNesting().
  bool enterNesting(SourceLoc loc);
  void leaveNesting() { --nesting; }
  /// Reports an error when a `[` follows something that is not a param.
  bool rejectIndexing();
  class NestingScope;

  // Tokens and errors.
  void advance();
  bool consumeIf(TokenKind kind);
  void skipNewlines();
  /// Reports "<expected>, found <the current token>", or the lexer's own
  /// message when the current token is malformed.
  void errorExpected(const std::string &expected);
  void error(SourceLoc loc, std::string message);
  static bool canStartExpr(const Token &token);
  static std::string describe(const Token &token);

  DiagnosticEngine &diags;
  Lexer lexer;
  Token tok;     ///< the current token
  Token prevTok; ///< the token before it
  unsigned nesting = 0;
  bool failed = false;
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_PARSER_H
