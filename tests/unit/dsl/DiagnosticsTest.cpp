//===- DiagnosticsTest.cpp - How diagnostics are rendered -----------------===//

#include "TestUtil.h"

#include <catch2/catch.hpp>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

/// Renders one error at `loc` in a file holding `text`.
static std::string renderAt(std::string text, SourceLoc loc,
                            std::string message = "oops") {
  SourceFile file{"f.attn", std::move(text)};
  DiagnosticEngine diags(file);
  diags.error(loc, std::move(message));
  return diags.render(diags.diagnostics()[0]);
}

/// The echoed source line and the caret line of a rendered diagnostic,
/// without their two-space indent.
struct Snippet {
  std::string header, line, caret;
};
static Snippet split(const std::string &rendered) {
  Snippet snippet;
  size_t first = rendered.find('\n');
  size_t second = rendered.find('\n', first + 1);
  size_t third = rendered.find('\n', second + 1);
  REQUIRE(third == rendered.size() - 1);
  snippet.header = rendered.substr(0, first);
  snippet.line = rendered.substr(first + 1, second - first - 1);
  snippet.caret = rendered.substr(second + 1, third - second - 1);
  REQUIRE(snippet.line.substr(0, 2) == "  ");
  REQUIRE(snippet.caret.substr(0, 2) == "  ");
  snippet.line = snippet.line.substr(2);
  snippet.caret = snippet.caret.substr(2);
  return snippet;
}

TEST_CASE("diagnostics: file:line:col, the line and a caret",
          "[dsl][diagnostics]") {
  ParseResult result = parse("attention a {\n  dtype = fp32\n}\n", "spec.attn");
  CHECK(result.rendered() ==
        "spec.attn:2:11: error: expected 'fp16' or 'bf16' after 'dtype =', "
        "found 'fp32'\n"
        "    dtype = fp32\n"
        "            ^\n");
}

TEST_CASE("diagnostics: notes render like errors", "[dsl][diagnostics]") {
  ParseResult result = parse(blockWith("dtype = bf16"), "dup.attn");
  CHECK(result.rendered() ==
        "dup.attn:6:1: error: duplicate key 'dtype' in attention block 't'\n"
        "  dtype = bf16\n"
        "  ^\n"
        "dup.attn:2:3: note: 'dtype' was first set here\n"
        "    dtype = fp16\n"
        "    ^\n");
}

TEST_CASE("diagnostics: unknown locations and lines past the end",
          "[dsl][diagnostics]") {
  CHECK(renderAt("abc", {0, 0}) == "f.attn: error: oops\n");
  CHECK(renderAt("abc", {7, 1}) == "f.attn:7:1: error: oops\n");
}

TEST_CASE("diagnostics: caret at the end of a line", "[dsl][diagnostics]") {
  Snippet snippet = split(renderAt("abc\ndef\n", {2, 4}));
  CHECK(snippet.line == "def");
  CHECK(snippet.caret == "   ^");
  // CRLF line ends are not echoed.
  CHECK(split(renderAt("abc\r\ndef", {1, 2})).line == "abc");
}

TEST_CASE("diagnostics: non-printable bytes are escaped",
          "[dsl][diagnostics]") {
  Snippet nul = split(renderAt(std::string("a\0b x", 5), {1, 5}));
  CHECK(nul.line == "a\\x00b x");
  CHECK(nul.caret == "       ^"); // under the x, after the 4-column escape
  Snippet invalid = split(renderAt("\xff\xfe x", {1, 4}));
  CHECK(invalid.line == "\\xff\\xfe x");
  CHECK(invalid.caret == std::string(9, ' ') + "^");
  // The caret may point at the escaped byte itself.
  Snippet atByte = split(renderAt("ab\x1b[31m", {1, 3}));
  CHECK(atByte.line == "ab\\x1b[31m");
  CHECK(atByte.caret == "  ^");
  // Well-formed UTF-8 is shown as is and counts one column per character.
  Snippet utf8 = split(renderAt("\xc3\xa9 x", {1, 4}));
  CHECK(utf8.line == "\xc3\xa9 x");
  CHECK(utf8.caret == "  ^");
  // Tabs are shown as four spaces.
  Snippet tab = split(renderAt("\tx", {1, 2}));
  CHECK(tab.line == "    x");
  CHECK(tab.caret == "    ^");
  // Messages and file names are escaped too.
  std::string message = renderAt("x", {1, 1}, "bad \x1b[2J\x07 byte");
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK_THAT(message, Catch::Contains("bad \\x1b[2J\\x07 byte"));
  SourceFile oddName{"a\nb.attn", "x"};
  DiagnosticEngine diags(oddName);
  diags.error({1, 1}, "m");
  CHECK_THAT(diags.render(diags.diagnostics()[0]),
             Catch::StartsWith("a\\x0ab.attn:1:1: error: m\n"));
}

TEST_CASE("diagnostics: errors quote the offending bytes escaped",
          "[dsl][diagnostics]") {
  ParseResult result = parse(std::string("attention a {\n  \x01\x02\n}", 20));
  REQUIRE(result.firstError());
  CHECK(result.firstError()->message == "unexpected character '\\x01'");
  // A very long token is cut short in the message.
  ParseResult longKey =
      parse("attention a {\n  " + std::string(5000, 'k') + " = 1\n}\n");
  REQUIRE(longKey.firstError());
  CHECK(longKey.firstError()->message.size() < 300);
  std::string longName(5000, 'n');
  for (const std::string &text :
       {"attention " + longName + " dtype", blockWith("param " + longName),
        blockWith("param " + longName + " : f64"),
        blockWith("score = score * " + longName),
        blockWith("param " + longName + " : f32[2]\nscore = " + longName)}) {
    ParseResult result = parse(text);
    REQUIRE(result.firstError());
    INFO(result.firstError()->message);
    CHECK(result.firstError()->message.size() < 300);
  }
}

TEST_CASE("diagnostics: a long line is shown as a window",
          "[dsl][diagnostics]") {
  std::string line(1000, 'a');
  for (uint32_t col : {1u, 5u, 150u, 501u, 900u, 1000u, 1001u}) {
    INFO("col " << col);
    std::string text = line;
    if (col <= text.size())
      text[col - 1] = 'X';
    Snippet snippet = split(renderAt(text, {1, col}));
    CHECK(snippet.line.size() <= 200);
    size_t caret = snippet.caret.find('^');
    REQUIRE(caret != std::string::npos);
    CHECK(caret == snippet.caret.size() - 1);
    if (col <= text.size()) {
      REQUIRE(caret < snippet.line.size());
      CHECK(snippet.line[caret] == 'X');
    } else {
      CHECK(caret == snippet.line.size());
    }
    bool cutBefore = snippet.line.compare(0, 3, "...") == 0;
    bool cutAfter =
        snippet.line.size() >= 3 &&
        snippet.line.compare(snippet.line.size() - 3, 3, "...") == 0;
    CHECK(cutBefore == (col > 81));
    CHECK(cutAfter == (col <= 920));
  }
  // Short lines are shown whole.
  Snippet whole = split(renderAt(std::string(150, 'b'), {1, 150}));
  CHECK(whole.line == std::string(150, 'b'));
}

TEST_CASE("diagnostics: the window keeps escapes whole", "[dsl][diagnostics]") {
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += "\x01z";
  Snippet snippet = split(renderAt(text, {1, 401}));
  size_t caret = snippet.caret.find('^');
  REQUIRE(caret < snippet.line.size());
  CHECK(snippet.line.substr(caret, 4) == "\\x01");
  // Every escape in the window is complete.
  for (size_t pos = snippet.line.find('\\'); pos != std::string::npos;
       pos = snippet.line.find('\\', pos + 1))
    CHECK(snippet.line.substr(pos, 4) == "\\x01");
}

TEST_CASE("diagnostics: print writes everything in order",
          "[dsl][diagnostics]") {
  ParseResult result = parse(blockWith("dtype = bf16\nhead_dim = 32"));
  std::string all = result.rendered();
  size_t first = all.find("duplicate key 'dtype'");
  size_t note = all.find("note: 'dtype' was first set here");
  size_t second = all.find("duplicate key 'head_dim'");
  CHECK(first < note);
  CHECK(note < second);
  CHECK(second != std::string::npos);
}

TEST_CASE("frontend: readSourceFile", "[dsl][frontend]") {
  std::string error;
  std::optional<SourceFile> missing =
      readSourceFile("/nonexistent/dir/x.attn", error);
  CHECK_FALSE(missing);
  CHECK(error == "cannot open '/nonexistent/dir/x.attn': No such file or "
                 "directory");
  std::optional<SourceFile> directory =
      readSourceFile(sourceDir() + "/examples", error);
  CHECK_FALSE(directory);
  CHECK_THAT(error, Catch::Contains("Is a directory"));
  CHECK_THAT(error, Catch::Contains("/examples'"));
  std::string path = sourceDir() + "/examples/alibi.attn";
  std::optional<SourceFile> file = readSourceFile(path, error);
  REQUIRE(file);
  CHECK(file->name == path);
  CHECK(file->text == readFile(path));
}
