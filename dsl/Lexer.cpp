//===- Lexer.cpp - Tokens of the attention DSL ----------------------------===//

#include "dsl/Lexer.h"
#include "dsl/Text.h"

#include <limits>

using namespace attnc::dsl;

static bool isDigit(char c) { return c >= '0' && c <= '9'; }
static bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }

/// True when a line that ends with a token of this kind must go on: the
/// token still needs its right-hand side.
static bool continuesLine(TokenKind kind) {
  switch (kind) {
  case TokenKind::Plus:
  case TokenKind::Minus:
  case TokenKind::Star:
  case TokenKind::Slash:
  case TokenKind::Percent:
  case TokenKind::Lt:
  case TokenKind::Le:
  case TokenKind::Gt:
  case TokenKind::Ge:
  case TokenKind::EqEq:
  case TokenKind::Ne:
  case TokenKind::AmpAmp:
  case TokenKind::PipePipe:
  case TokenKind::Amp:
  case TokenKind::Pipe:
  case TokenKind::Caret:
  case TokenKind::Shl:
  case TokenKind::Shr:
  case TokenKind::Bang:
  case TokenKind::Question:
  case TokenKind::Colon:
  case TokenKind::Comma:
    return true;
  default:
    return false;
  }
}

std::optional<int64_t> attnc::dsl::decimalValue(std::string_view digits,
                                                int64_t limit) {
  int64_t value = 0;
  for (char c : digits) {
    if (!isDigit(c))
      return std::nullopt;
    value = value * 10 + (c - '0');
    // Stopping as soon as the limit is passed keeps `value` from wrapping.
    if (value > limit)
      return std::nullopt;
  }
  return value;
}

Lexer::Lexer(std::string_view text) : text(text) {}

SourceLoc Lexer::locAt(size_t offset) const {
  // Columns past 2^32 cannot be shown anyway; saturate rather than wrap.
  size_t col = offset - lineStart + 1;
  if (col > std::numeric_limits<uint32_t>::max())
    col = std::numeric_limits<uint32_t>::max();
  return {line, static_cast<uint32_t>(col)};
}

Token Lexer::make(TokenKind kind, size_t begin) {
  Token token;
  token.kind = kind;
  token.text = text.substr(begin, pos - begin);
  token.loc = locAt(begin);
  if (kind == TokenKind::LParen || kind == TokenKind::LBracket)
    ++groupDepth;
  else if ((kind == TokenKind::RParen || kind == TokenKind::RBracket) &&
           groupDepth > 0)
    --groupDepth;
  lastKind = kind;
  return token;
}

Token Lexer::makeError(size_t begin, std::string message) {
  Token token = make(TokenKind::Error, begin);
  token.error = std::move(message);
  return token;
}

bool Lexer::skipTrivia() {
  while (pos < text.size()) {
    char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      ++pos;
    } else if (c == '#') {
      while (pos < text.size() && text[pos] != '\n')
        ++pos;
    } else if (c == '\n') {
      bool goesOn = groupDepth > 0 || lastKind == TokenKind::Newline ||
                    continuesLine(lastKind);
      if (!goesOn)
        return true;
      ++pos;
      ++line;
      lineStart = pos;
    } else {
      break;
    }
  }
  return false;
}

Token Lexer::next() {
  if (skipTrivia()) {
    size_t begin = pos++;
    Token token = make(TokenKind::Newline, begin);
    ++line;
    lineStart = pos;
    return token;
  }
  if (pos >= text.size()) {
    Token token = make(TokenKind::Eof, pos);
    // A file that ends with a line break has its end on the last line, not
    // on an empty line after it.
    if (!text.empty() && text.back() == '\n') {
      size_t finalBreak = text.size() - 1;
      size_t previousBreak = finalBreak == 0 ? std::string_view::npos
                                             : text.rfind('\n', finalBreak - 1);
      size_t lastLineStart =
          previousBreak == std::string_view::npos ? 0 : previousBreak + 1;
      size_t col = finalBreak - lastLineStart + 1;
      if (col > std::numeric_limits<uint32_t>::max())
        col = std::numeric_limits<uint32_t>::max();
      token.loc = {line - 1, static_cast<uint32_t>(col)};
    }
    return token;
  }
  size_t begin = pos;
  char c = text[pos];
  if (isDigit(c) ||
      (c == '.' && pos + 1 < text.size() && isDigit(text[pos + 1])))
    return lexNumber(begin);
  if (isIdentStart(c))
    return lexIdentifier(begin);
  return lexPunctuation(begin);
}

Token Lexer::lexNumber(size_t begin) {
  auto digitAt = [&](size_t i) { return i < text.size() && isDigit(text[i]); };
  bool isFloat = false;
  while (digitAt(pos))
    ++pos;
  if (pos < text.size() && text[pos] == '.') {
    isFloat = true;
    ++pos;
    while (digitAt(pos))
      ++pos;
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    size_t digits = pos + 1;
    if (digits < text.size() && (text[digits] == '+' || text[digits] == '-'))
      ++digits;
    if (digitAt(digits)) {
      isFloat = true;
      pos = digits;
      while (digitAt(pos))
        ++pos;
    }
  }
  // `12abc`, `1e`, `1.2.3`: swallow the rest so the message shows it all.
  if (pos < text.size() && (isIdentChar(text[pos]) || text[pos] == '.')) {
    while (pos < text.size() && (isIdentChar(text[pos]) || text[pos] == '.'))
      ++pos;
    return makeError(begin, "invalid number " +
                                quote(text.substr(begin, pos - begin)));
  }
  return make(isFloat ? TokenKind::Float : TokenKind::Int, begin);
}

Token Lexer::lexIdentifier(size_t begin) {
  while (pos < text.size() && isIdentChar(text[pos]))
    ++pos;
  return make(TokenKind::Ident, begin);
}

Token Lexer::lexPunctuation(size_t begin) {
  char c = text[pos++];
  auto follows = [&](char expected) {
    if (pos < text.size() && text[pos] == expected) {
      ++pos;
      return true;
    }
    return false;
  };
  switch (c) {
  case '{':
    return make(TokenKind::LBrace, begin);
  case '}':
    return make(TokenKind::RBrace, begin);
  case '(':
    return make(TokenKind::LParen, begin);
  case ')':
    return make(TokenKind::RParen, begin);
  case '[':
    return make(TokenKind::LBracket, begin);
  case ']':
    return make(TokenKind::RBracket, begin);
  case ',':
    return make(TokenKind::Comma, begin);
  case ';':
    return make(TokenKind::Semi, begin);
  case ':':
    return make(TokenKind::Colon, begin);
  case '?':
    return make(TokenKind::Question, begin);
  case '+':
    return make(TokenKind::Plus, begin);
  case '-':
    return make(TokenKind::Minus, begin);
  case '*':
    return make(TokenKind::Star, begin);
  case '/':
    // FlexAttention code divides with `//`; here `/` on Ints truncates.
    if (follows('/'))
      return makeError(begin, "'//' is not an operator: use '/' (it "
                              "truncates on integers), and '#' for comments");
    return make(TokenKind::Slash, begin);
  case '%':
    return make(TokenKind::Percent, begin);
  case '<':
    if (follows('<'))
      return make(TokenKind::Shl, begin);
    return make(follows('=') ? TokenKind::Le : TokenKind::Lt, begin);
  case '>':
    if (follows('>'))
      return make(TokenKind::Shr, begin);
    return make(follows('=') ? TokenKind::Ge : TokenKind::Gt, begin);
  case '^':
    return make(TokenKind::Caret, begin);
  case '=':
    return make(follows('=') ? TokenKind::EqEq : TokenKind::Assign, begin);
  case '!':
    return make(follows('=') ? TokenKind::Ne : TokenKind::Bang, begin);
  case '&':
    return make(follows('&') ? TokenKind::AmpAmp : TokenKind::Amp, begin);
  case '|':
    return make(follows('|') ? TokenKind::PipePipe : TokenKind::Pipe, begin);
  default:
    break;
  }
  // Show a whole UTF-8 character rather than its first byte.
  size_t length = utf8SequenceLength(text, begin);
  pos = begin + (length == 0 ? 1 : length);
  return makeError(begin, "unexpected character " +
                              quote(text.substr(begin, pos - begin)));
}
