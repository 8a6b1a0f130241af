//===- Lexer.h - Tokens of the attention DSL ------------------------------===//
//
// The lexer hands out one token at a time, so a syntax error early in a file
// is reported before anything after it is even looked at.
//
// Line breaks are tokens because they end entries, except where a statement
// obviously goes on: inside ( ) or [ ], and after a token that needs a right
// operand (a binary operator, `?`, `:`). Comments (`#` to the end of the
// line) and other white space never reach the parser.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_LEXER_H
#define ATTNC_DSL_LEXER_H

#include "dsl/AST.h"

#include <optional>
#include <string>
#include <string_view>

namespace attnc::dsl {

enum class TokenKind {
  Eof,
  Newline,
  Error, ///< a malformed token; Token::error says what is wrong
  Ident,
  Int,
  Float,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Semi,
  Colon,
  Question,
  Assign,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Lt,
  Le,
  Gt,
  Ge,
  EqEq,
  Ne,
  AmpAmp,
  PipePipe,
  Amp,
  Pipe,
  Caret,
  Shl,
  Shr,
  Bang,
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  std::string_view text; ///< points into the source text
  SourceLoc loc;
  std::string error; ///< only for TokenKind::Error

  bool is(TokenKind k) const { return kind == k; }
  bool isIdent(std::string_view word) const {
    return kind == TokenKind::Ident && text == word;
  }
};

/// The value of the decimal digits `digits` (an Int token's text) when it
/// is at most `limit`; nullopt when it is larger, however long it is.
std::optional<int64_t> decimalValue(std::string_view digits, int64_t limit);

/// Splits a source text into tokens. The text must outlive the lexer and its
/// tokens.
class Lexer {
public:
  explicit Lexer(std::string_view text);

  /// Returns the next token; after the end, Eof forever.
  Token next();

private:
  Token make(TokenKind kind, size_t begin);
  Token makeError(size_t begin, std::string message);
  SourceLoc locAt(size_t offset) const;
  /// Skips blanks and comments, and line breaks that do not end an entry.
  /// Returns true when it stopped at a line break that does.
  bool skipTrivia();
  Token lexNumber(size_t begin);
  Token lexIdentifier(size_t begin);
  Token lexPunctuation(size_t begin);

  std::string_view text;
  size_t pos = 0;
  uint32_t line = 1;
  size_t lineStart = 0;
  /// Open ( and [ not closed yet: line breaks inside them are white space.
  unsigned groupDepth = 0;
  TokenKind lastKind = TokenKind::Newline;
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_LEXER_H
