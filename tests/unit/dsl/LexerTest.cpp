//===- LexerTest.cpp - Tokens, line breaks and locations ------------------===//

#include "dsl/Lexer.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using namespace attnc::dsl;
using K = TokenKind;

/// Every token of `text` up to (not including) Eof.
static std::vector<Token> lexAll(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> tokens;
  for (Token token = lexer.next(); !token.is(K::Eof); token = lexer.next()) {
    tokens.push_back(token);
    REQUIRE(tokens.size() < 10000);
  }
  return tokens;
}

static std::vector<TokenKind> kindsOf(std::string_view text) {
  std::vector<TokenKind> kinds;
  for (const Token &token : lexAll(text))
    kinds.push_back(token.kind);
  return kinds;
}

TEST_CASE("lexer: punctuation and operators", "[dsl][lexer]") {
  CHECK(kindsOf("{ } ( ) [ ] , ; : ? =") ==
        std::vector<K>{K::LBrace, K::RBrace, K::LParen, K::RParen, K::LBracket,
                       K::RBracket, K::Comma, K::Semi, K::Colon, K::Question,
                       K::Assign});
  CHECK(kindsOf("+ - * / % < <= > >= == != && || !") ==
        std::vector<K>{K::Plus, K::Minus, K::Star, K::Slash, K::Percent, K::Lt,
                       K::Le, K::Gt, K::Ge, K::EqEq, K::Ne, K::AmpAmp,
                       K::PipePipe, K::Bang});
  // Longest match, no spaces needed.
  CHECK(kindsOf("a<=b==!c") ==
        std::vector<K>{K::Ident, K::Le, K::Ident, K::EqEq, K::Bang, K::Ident});
}

TEST_CASE("lexer: number forms", "[dsl][lexer]") {
  for (const char *text : {"50.0", "1e-3", ".5", "2.5e+3", "1.", "3E7"}) {
    INFO(text);
    std::vector<Token> tokens = lexAll(text);
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0].kind == K::Float);
    CHECK(tokens[0].text == text);
  }
  std::vector<Token> ints = lexAll("0 16 4096 99999999999999999999");
  REQUIRE(ints.size() == 4);
  for (const Token &token : ints)
    CHECK(token.kind == K::Int);
  // The lexer takes any length; the parser checks the range.
  CHECK(ints[3].text == "99999999999999999999");
}

TEST_CASE("lexer: identifiers keep underscores and digits", "[dsl][lexer]") {
  std::vector<Token> tokens = lexAll("head_dim kv_heads _x a1");
  REQUIRE(tokens.size() == 4);
  CHECK(tokens[0].text == "head_dim");
  CHECK(tokens[3].text == "a1");
}

TEST_CASE("lexer: comments and blanks vanish", "[dsl][lexer]") {
  CHECK(kindsOf("# only a comment") == std::vector<K>{});
  CHECK(kindsOf("a # comment ( [\nb") ==
        std::vector<K>{K::Ident, K::Newline, K::Ident});
  CHECK(kindsOf("a\r\n\tb") == std::vector<K>{K::Ident, K::Newline, K::Ident});
}

TEST_CASE("lexer: line breaks end entries only where nothing is open",
          "[dsl][lexer]") {
  // Blank lines give one Newline; leading ones none.
  CHECK(kindsOf("\n\na\n\n\nb\n") ==
        std::vector<K>{K::Ident, K::Newline, K::Ident, K::Newline});
  // Inside ( ) and [ ] a line break is white space.
  CHECK(kindsOf("f(a,\n b)\nc") == std::vector<K>{K::Ident, K::LParen, K::Ident,
                                                  K::Comma, K::Ident, K::RParen,
                                                  K::Newline, K::Ident});
  CHECK(kindsOf("x[b,\n q]") == std::vector<K>{K::Ident, K::LBracket, K::Ident,
                                               K::Comma, K::Ident,
                                               K::RBracket});
  // After a binary operator, `?` or `:` the line goes on.
  CHECK(kindsOf("a &&\n b") == std::vector<K>{K::Ident, K::AmpAmp, K::Ident});
  CHECK(kindsOf("a ?\n b :\n c") ==
        std::vector<K>{K::Ident, K::Question, K::Ident, K::Colon, K::Ident});
  CHECK(kindsOf("a +  # comment\n b") ==
        std::vector<K>{K::Ident, K::Plus, K::Ident});
  // But not after `=`: `score =` alone on a line is an error, not a join.
  CHECK(kindsOf("a =\n b") ==
        std::vector<K>{K::Ident, K::Assign, K::Newline, K::Ident});
}

TEST_CASE("lexer: locations are 1-based byte columns", "[dsl][lexer]") {
  std::vector<Token> tokens = lexAll("ab  cd\n  ef");
  REQUIRE(tokens.size() == 4);
  CHECK(tokens[0].loc.line == 1);
  CHECK(tokens[0].loc.col == 1);
  CHECK(tokens[1].loc.col == 5);
  CHECK(tokens[2].kind == K::Newline);
  CHECK(tokens[2].loc.line == 1);
  CHECK(tokens[2].loc.col == 7);
  CHECK(tokens[3].loc.line == 2);
  CHECK(tokens[3].loc.col == 3);
}

TEST_CASE("lexer: end of file sits on the last line", "[dsl][lexer]") {
  auto eofLoc = [](std::string_view text) {
    Lexer lexer(text);
    Token token = lexer.next();
    while (!token.is(K::Eof))
      token = lexer.next();
    return token.loc;
  };
  CHECK(eofLoc("").line == 1);
  CHECK(eofLoc("").col == 1);
  CHECK(eofLoc("ab").col == 3);
  SourceLoc afterBreak = eofLoc("ab\ncd\n");
  CHECK(afterBreak.line == 2);
  CHECK(afterBreak.col == 3);
  CHECK(eofLoc("\n").line == 1);
  CHECK(eofLoc("\n").col == 1);
}

TEST_CASE("lexer: malformed tokens", "[dsl][lexer]") {
  struct Case {
    const char *text;
    const char *message;
    uint32_t col;
  };
  for (const Case &c : {
           Case{"a // b",
                "'//' is not an operator: use '/' (it truncates on "
                "integers), and '#' for comments",
                3},
           Case{"x @", "unexpected character '@'", 3},
           Case{"12abc", "invalid number '12abc'", 1},
           Case{"1e", "invalid number '1e'", 1},
           Case{"1.2.3", "invalid number '1.2.3'", 1},
           Case{"  \xc3\xa9", "unexpected character '\xc3\xa9'", 3},
           Case{"\xff", "unexpected character '\\xff'", 1},
       }) {
    INFO(c.text);
    std::vector<Token> tokens = lexAll(c.text);
    auto isError = [](const Token &token) { return token.is(K::Error); };
    auto found = std::find_if(tokens.begin(), tokens.end(), isError);
    REQUIRE(found != tokens.end());
    const Token &error = *found;
    CHECK(error.error == c.message);
    CHECK(error.loc.col == c.col);
  }
  std::vector<Token> nul = lexAll(std::string_view("a\0b", 3));
  REQUIRE(nul.size() == 3);
  CHECK(nul[1].error == "unexpected character '\\x00'");
  // Lexing goes on after a malformed token; the parser decides to stop.
  CHECK(nul[2].text == "b");
}

TEST_CASE("lexer: decimalValue stops at the limit", "[dsl][lexer]") {
  CHECK(decimalValue("2147483647", 2147483647) == 2147483647);
  CHECK(!decimalValue("2147483648", 2147483647));
  CHECK(!decimalValue(std::string(1000, '9'), 2147483647));
  CHECK(decimalValue("000016", 100) == 16);
}
