//===- RobustnessTest.cpp - Hostile input never crashes the front end -----===//
//
// Whatever the bytes, parseAndCheck either returns a module or returns
// nullopt with at least one error, and every diagnostic points inside the
// file. These tests run a few hundred thousand inputs; a crash, a hang or a
// stack overflow in any of them fails the binary.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <catch2/catch.hpp>

#include <random>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

/// Parses `text` and checks the front end's promise about the outcome.
static void checkOutcome(const std::string &text) {
  ParseResult result = parse(text);
  const std::vector<Diagnostic> &diags = result.diags->diagnostics();
  if (result.module) {
    // Success is clean, and the printer's output parses to the same text.
    if (!diags.empty())
      FAIL("a module came back with diagnostics:\n" << result.rendered());
    for (const AttentionSpec &spec : result.module->specs)
      checkTypeContract(spec);
    std::string printed = printModule(*result.module);
    ParseResult again = parse(printed);
    if (!again.module || printModule(*again.module) != printed)
      FAIL("round trip failed for:\n" << text << "\nprinted:\n" << printed);
    return;
  }
  if (!result.firstError())
    FAIL("nullopt without an error for:\n" << text);
  for (const Diagnostic &diag : diags) {
    // Only the "too many errors" note has no location.
    if (diag.loc.line == 0 && diag.severity == Diagnostic::Severity::Note)
      continue;
    if (!isInside(text, diag.loc))
      FAIL("diagnostic outside the file at "
           << diag.loc.line << ":" << diag.loc.col << ": " << diag.message);
  }
  // Rendering must cope as well, and stay short for each diagnostic.
  for (const Diagnostic &diag : diags)
    if (result.diags->render(diag).size() > 2000)
      FAIL("oversized rendering of " << diag.message);
}

TEST_CASE("robustness: empty and comment-only files", "[dsl][robustness]") {
  for (const char *text :
       {"", "\n", "\n\n\n", "   ", "# c", "# c\n# d\n", "\r\n", ";", "\t\n"}) {
    INFO(text);
    ParseResult result = parse(text);
    CHECK_FALSE(result.module);
    REQUIRE(result.firstError());
    checkOutcome(text);
  }
}

TEST_CASE("robustness: random bytes", "[dsl][robustness]") {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 400);
  for (int i = 0; i < 3000; ++i) {
    std::string text(length(rng), '\0');
    for (char &c : text)
      c = static_cast<char>(byte(rng));
    // Half of them start like a real spec, to get past the first token.
    if (i % 2)
      text = "attention a {\n" + text;
    checkOutcome(text);
  }
}

TEST_CASE("robustness: random token soup", "[dsl][robustness]") {
  // Pieces of the language in random order reach much deeper into the
  // parser and Sema than random bytes do.
  static const char *const pieces[] = {
      "attention", " a",     " {",        "}",          "\n",
      ";",         " dtype", " head_dim", " q_heads",   " kv_heads",
      " kv_cache", " scale", " score",    " mask",      " param",
      " =",        " fp16",  " bf16",     " 16",        " 64",
      " 0",        " 3",     " 1.5",      " 1e999",     " 99999999999",
      " paged",    "(",      ")",         " page_size", " dense",
      " f32",      " i32",   "[",         "]",          ",",
      " :",        " ?",     " batch",    " +",         " -",
      " *",        " /",     " %",        " <",         " <=",
      " ==",       " !=",    " &&",       " ||",        " !",
      " q",        " kv",    " b",        " h",         " exp",
      " min",      " x",     " true",     "#c\n",       "\t",
      "\x00",      "\xff",
  };
  constexpr size_t numPieces = sizeof(pieces) / sizeof(pieces[0]);
  std::mt19937 rng(777);
  std::uniform_int_distribution<size_t> pick(0, numPieces - 1);
  std::uniform_int_distribution<int> length(0, 80);
  for (int i = 0; i < 5000; ++i) {
    // Two in three start inside a block that has its required keys.
    std::string text;
    if (i % 3) {
      text = blockWith("");
      text.resize(text.size() - 2); // Drop the closing "}\n".
    }
    int count = length(rng);
    for (int j = 0; j < count; ++j) {
      const char *piece = pieces[pick(rng)];
      // "\x00" is an empty C string; append the NUL byte itself.
      text += *piece ? std::string(piece) : std::string(1, '\0');
    }
    checkOutcome(text);
  }
}

/// A random expression that always parses, of any type mix: it exercises
/// every typing rule, accepted or not.
static std::string randomExpr(std::mt19937 &rng, int depth) {
  static const char *const leaves[] = {
      "score",    "q",          "kv",  "b",    "h",    "head_dim",
      "1",        "0",          "2.5", "-3",   "true", "false",
      "slope[h]", "doc[b, kv]", "cap", "-0.5", "1e-3"};
  static const char *const binaryOps[] = {
      "+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "&&", "||"};
  static const char *const unaryFns[] = {"exp", "log", "tanh", "sqrt", "abs"};
  auto below = [&](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  if (depth == 0 || below(4) == 0)
    return leaves[below(sizeof(leaves) / sizeof(leaves[0]))];
  switch (below(6)) {
  case 0:
    return std::string(below(2) ? "-" : "!") + "(" +
           randomExpr(rng, depth - 1) + ")";
  case 1:
    return std::string(unaryFns[below(5)]) + "(" + randomExpr(rng, depth - 1) +
           ")";
  case 2:
    return std::string(below(2) ? "min" : "max") + "(" +
           randomExpr(rng, depth - 1) + ", " + randomExpr(rng, depth - 1) + ")";
  case 3:
    return "(" + randomExpr(rng, depth - 1) + " ? " +
           randomExpr(rng, depth - 1) + " : " + randomExpr(rng, depth - 1) +
           ")";
  default:
    return "(" + randomExpr(rng, depth - 1) + " " +
           binaryOps[below(sizeof(binaryOps) / sizeof(binaryOps[0]))] + " " +
           randomExpr(rng, depth - 1) + ")";
  }
}

TEST_CASE("robustness: random well-formed expressions", "[dsl][robustness]") {
  std::mt19937 rng(99);
  size_t accepted = 0;
  for (int i = 0; i < 6000; ++i) {
    const char *key = i % 3 == 0 ? "score" : i % 3 == 1 ? "mask" : "scale";
    std::string text = blockWith("param slope : f32[q_heads]\n"
                                 "param doc : i32[batch, ?]\n"
                                 "param cap : f32\n" +
                                 std::string(key) + " = " + randomExpr(rng, 5));
    ParseResult result = parse(text);
    accepted += result.module.has_value();
    checkOutcome(text);
  }
  // Enough of them type-check for the success path to be exercised too.
  CHECK(accepted > 300);
}

TEST_CASE("robustness: a megabyte on one line", "[dsl][robustness]") {
  constexpr size_t kMegabyte = 1 << 20;
  // A long comment inside a valid spec is fine.
  ParseResult comment = parse(blockWith("# " + std::string(kMegabyte, 'c')));
  CHECK(comment.module);
  // A long chain of operators hits the depth bound, early and cheaply.
  std::string chain = "score = score";
  while (chain.size() < kMegabyte)
    chain += " + 1";
  checkOutcome(blockWith(chain));
  CHECK_THAT(parse(blockWith(chain)).firstError()->message,
             Catch::Contains("nested too deeply"));
  // A long identifier, a long number, long garbage.
  checkOutcome(blockWith(std::string(kMegabyte, 'k') + " = 1"));
  checkOutcome(blockWith("score = " + std::string(kMegabyte, '7')));
  checkOutcome(blockWith("score = " + std::string(kMegabyte, '@')));
  checkOutcome(blockWith("score = score" + std::string(kMegabyte, ' ') + "+"));
  // Many short entries on one line: Sema caps its error count.
  std::string entries;
  while (entries.size() < kMegabyte)
    entries += "dtype = fp16; ";
  ParseResult many = parse(blockWith(entries));
  CHECK_FALSE(many.module);
  CHECK(many.diags->diagnostics().size() <= 102);
  // A huge but valid, flat expression.
  std::string wide = "score = min(score";
  for (int i = 0; i < 100000; ++i)
    wide += ", 1";
  checkOutcome(blockWith(wide + ")"));
}

TEST_CASE("robustness: deep nesting is bounded", "[dsl][robustness]") {
  constexpr int kDepth = 100000;
  auto nested = [&](const std::string &open, const std::string &middle,
                    const std::string &close) {
    std::string text;
    text.reserve((open.size() + close.size()) * kDepth + middle.size());
    for (int i = 0; i < kDepth; ++i)
      text += open;
    text += middle;
    for (int i = 0; i < kDepth; ++i)
      text += close;
    return text;
  };
  for (const std::string &expr : {
           nested("(", "score", ")"),
           nested("(", "", ""),
           nested("-", "score", ""),
           nested("!", "true", ""),
           nested("exp(", "score", ")"),
           nested("x[", "q", "]"),
           nested("q < 1 ? score : ", "score", ""),
           nested("q < 1 ? ", "score", " : score"),
           nested("score + (", "1", ")"),
       }) {
    std::string text = blockWith("param x : i32[?]\nscore = " + expr);
    ParseResult result = parse(text);
    CHECK_FALSE(result.module);
    REQUIRE(result.firstError());
    CHECK_THAT(result.firstError()->message,
               Catch::Contains("nested too deeply"));
    checkOutcome(text);
  }
  // Just under the bound is accepted.
  std::string deep(255, '(');
  ParseResult ok =
      parse(blockWith("score = " + deep + "score" + std::string(255, ')')));
  CHECK(ok.module);
}

TEST_CASE("robustness: huge integer literals", "[dsl][robustness]") {
  for (const std::string &digits :
       {std::string("2147483648"), std::string("18446744073709551616"),
        std::string(10000, '9')}) {
    for (const std::string &text :
         {line2("  head_dim = " + digits),
          blockWith("kv_cache = paged(page_size = " + digits + ")"),
          blockWith("score = score * " + digits),
          blockWith("param x : f32[" + digits + "]")}) {
      ParseResult result = parse(text);
      REQUIRE(result.firstError());
      CHECK_THAT(result.firstError()->message,
                 Catch::Contains("does not fit in 32 bits"));
      checkOutcome(text);
    }
  }
}

namespace {
/// Applies one random edit to `text`.
void mutate(std::string &text, std::mt19937 &rng) {
  auto below = [&](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n == 0 ? 0 : n - 1)(rng);
  };
  // Bytes that matter to the grammar are likelier than arbitrary ones.
  static const std::string interesting = "{}()[];:,?=+-*/%<>!&|#\n\t 0123456789"
                                         ".eqkvbh_";
  auto randomByte = [&]() -> char {
    if (below(4) == 0)
      return static_cast<char>(below(256));
    return interesting[below(interesting.size())];
  };
  switch (below(7)) {
  case 0: // Delete a run of bytes.
    if (!text.empty()) {
      size_t pos = below(text.size());
      text.erase(pos, 1 + below(8));
    }
    break;
  case 1: // Insert a byte.
    text.insert(text.begin() + below(text.size() + 1), randomByte());
    break;
  case 2: // Replace a byte.
    if (!text.empty())
      text[below(text.size())] = randomByte();
    break;
  case 3: // Truncate.
    text.resize(below(text.size() + 1));
    break;
  case 4: { // Duplicate a line.
    size_t start = text.rfind('\n', below(text.size() + 1));
    start = start == std::string::npos ? 0 : start + 1;
    size_t end = text.find('\n', start);
    end = end == std::string::npos ? text.size() : end + 1;
    text.insert(start, text.substr(start, end - start));
    break;
  }
  case 5: { // Copy a chunk somewhere else.
    size_t from = below(text.size() + 1);
    std::string chunk = text.substr(from, below(20));
    text.insert(below(text.size() + 1), chunk);
    break;
  }
  default: // Swap two bytes.
    if (text.size() >= 2)
      std::swap(text[below(text.size())], text[below(text.size())]);
    break;
  }
}
} // namespace

TEST_CASE("robustness: mutated examples", "[dsl][robustness]") {
  std::vector<std::string> files = exampleFiles();
  REQUIRE(files.size() >= 7);
  std::mt19937 rng(2024);
  size_t parsed = 0, rejected = 0;
  for (const std::string &path : files) {
    INFO(path);
    const std::string original = readFile(path);
    for (int i = 0; i < 3000; ++i) {
      std::string text = original;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < edits; ++j)
        mutate(text, rng);
      ParseResult result = parse(text);
      (result.module ? parsed : rejected) += 1;
      checkOutcome(text);
    }
  }
  // Both outcomes occur: the mutations are neither all fatal nor all benign.
  CHECK(parsed > 100);
  CHECK(rejected > 1000);
}
