//===- ErrorTest.cpp - Bad specs and the first error each one gets --------===//
//
// One row per mistake: the text, a substring of the first error's message,
// and the line and column it must point at. blockWith() puts its entries on
// line 6, starting at column 1.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <catch2/catch.hpp>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

namespace {
struct BadInput {
  const char *name;
  std::string text;
  const char *message;
  uint32_t line;
  uint32_t col;
};

} // namespace

static const std::vector<BadInput> &syntaxErrors() {
  static const std::vector<BadInput> cases = {
      {"empty file", "", "no attention block in file", 1, 1},
      {"only a comment", "# just a comment\n", "no attention block in file", 1,
       17},
      {"missing block name", "attention",
       "expected a name after 'attention', found end of file", 1, 10},
      {"bad token as name", "attention 3x {}", "invalid number '3x'", 1, 11},
      {"misspelled attention", "atention a {}",
       "expected 'attention' to start a block, found 'atention'", 1, 1},
      {"missing '{'", "attention a\n  dtype = fp16\n",
       "expected '{' after 'attention a', found 'dtype'", 2, 3},
      {"unclosed block", "attention a {\n  dtype = fp16\n",
       "expected '}' to close attention block 'a', found end of file", 2, 15},
      {"block runs into the next",
       "attention a {\n  dtype = fp16\nattention b {}",
       "expected '}' to close attention block 'a' before the next "
       "'attention'",
       3, 1},
      {"missing '='", line2("  dtype bf16"),
       "expected '=' after 'dtype', found 'bf16'", 2, 9},
      {"unknown dtype", line2("  dtype = fp32"),
       "expected 'fp16' or 'bf16' after 'dtype =', found 'fp32'", 2, 11},
      {"float head_dim", line2("  head_dim = 12.5"),
       "expected a positive integer after 'head_dim =', found '12.5'", 2, 14},
      {"negative head_dim", line2("  head_dim = -64"),
       "expected a positive integer after 'head_dim =', found '-'", 2, 14},
      {"huge q_heads", line2("  q_heads = 99999999999"),
       "integer literal '99999999999' does not fit in 32 bits", 2, 13},
      {"unknown kv_cache", line2("  kv_cache = ring"),
       "expected 'dense' or 'paged(page_size = N)' after 'kv_cache =', found "
       "'ring'",
       2, 14},
      {"paged without size", line2("  kv_cache = paged"),
       "expected '(' after 'paged', found end of line", 2, 19},
      {"paged with a bare number", line2("  kv_cache = paged(16)"),
       "expected 'page_size' inside 'paged(...)', found '16'", 2, 20},
      {"paged not closed", line2("  kv_cache = paged(page_size = 16"),
       "expected ')' after the page size, found '}'", 3, 1},
      {"misspelled key", line2("  head_dims = 64"),
       "unknown key 'head_dims' (did you mean 'head_dim'?); allowed keys are",
       2, 3},
      {"unknown key", line2("  window = 4096"),
       "unknown key 'window'; allowed keys are dtype, head_dim, v_head_dim, "
       "q_heads, "
       "kv_heads, kv_cache, kv_dtype, kv_layout, k_scale, v_scale, scale, "
       "score, mask, sink, let and param",
       2, 3},
      {"number as key", line2("  42 = 1"),
       "expected a key such as 'dtype', or '}', found '42'", 2, 3},
      {"two entries without separator", line2("  dtype = fp16 head_dim = 64"),
       "expected ';' or a line break after the 'dtype' entry, found "
       "'head_dim'",
       2, 16},
      {"empty score", blockWith("score ="),
       "expected an expression after 'score =', found end of line", 6, 8},
      {"dangling operator", blockWith("mask = kv <="),
       "expected an expression after '<=', found '}'", 7, 1},
      {"unclosed parenthesis", blockWith("mask = (kv <= q"),
       "expected ')', found '}'", 7, 1},
      {"two operators", blockWith("score = score +* 2"),
       "expected an expression after '+', found '*'", 6, 16},
      {"unknown function", blockWith("score = foo(score)"),
       "unknown function 'foo'; the functions are exp, exp2, log, pow, sqrt, "
       "tanh, sigmoid, sin, cos, floor, ceil, abs, min, max, int and float",
       6, 9},
      {"variable called", blockWith("score = q(1)"), "'q' is not a function", 6,
       9},
      {"single '&' on booleans", blockWith("mask = kv <= q & q < 5"),
       "operator '&' is bitwise, on integers; for booleans use '&&'", 6, 16},
      {"single '|' on booleans", blockWith("mask = kv <= q | q < 5"),
       "operator '|' is bitwise, on integers; for booleans use '||'", 6, 16},
      {"shift of a float", blockWith("score = score << 1"),
       "operator '<<' needs integers, but the left operand is a float", 6, 15},
      {"floor division", blockWith("mask = kv // 2 <= q"),
       "'//' is not an operator: use '/' (it truncates on integers), and '#' "
       "for comments",
       6, 11},
      {"FlexAttention's q_idx", blockWith("mask = kv <= q_idx"),
       "unknown name 'q_idx' (did you mean 'q'? attnc's positions are "
       "absolute and bottom-right aligned; see docs/dsl.md)",
       6, 14},
      {"FlexAttention's kv_idx", blockWith("mask = kv_idx <= q"),
       "unknown name 'kv_idx' (did you mean 'kv'? attnc's positions are "
       "absolute and bottom-right aligned; see docs/dsl.md)",
       6, 8},
      {"-inf as a mask", blockWith("mask = kv <= q ? 0.0 : -inf"),
       "mask must be a boolean, but this expression is a number; a mask is "
       "boolean (true where the key is visible): write the condition, not "
       "-inf",
       6, 8},
      {"let used before its definition",
       blockWith("let x = y + 1\nlet y = q\nmask = kv <= x"),
       "let 'x' uses 'y' before it is defined; define 'y' first", 6, 9},
      {"let defined twice", blockWith("let a = q\nlet a = kv\nmask = a > 0"),
       "duplicate let 'a'", 7, 5},
      {"lets that double", blockWith([] {
         std::string text = "let a0 = q + kv\n";
         for (int i = 1; i <= 20; ++i)
           text += "let a" + std::to_string(i) + " = a" +
                   std::to_string(i - 1) + " + a" + std::to_string(i - 1) +
                   "\n";
         return text + "mask = a20 > 0";
       }()),
       "let 'a15' expands to an expression of more than 100000 nodes", 21, 5},
      {"lets nested too deep", blockWith([] {
         std::string text = "let d0 = q\n";
         for (int i = 1; i <= 300; ++i)
           text += "let d" + std::to_string(i) + " = -d" +
                   std::to_string(i - 1) + "\n";
         return text + "mask = d300 > 0";
       }()),
       "let 'd256' expands to an expression nested 257 levels deep; the limit "
       "is 256",
       262, 5},
      {"let hiding a builtin", blockWith("let q = kv\nmask = q > 0"),
       "let 'q' would hide the builtin 'q'", 6, 5},
      {"let without '='", blockWith("let a q"),
       "expected '=' after 'let a', found 'q'", 6, 7},
      {"pow with one argument", blockWith("score = pow(score)"),
       "'pow' takes 2 arguments, but 1 was given", 6, 9},
      {"int of a boolean", blockWith("score = score + int(q < kv)"),
       "'int' needs a number, but its argument is a boolean", 6, 17},
      {"inf as a param name", blockWith("param inf : f32"),
       "'inf' is a literal and cannot name a param", 6, 7},
      {"'?' without ':'", blockWith("mask = q > 1 ? kv > 1"),
       "expected ':' after the first branch of '?:', found end of line", 6, 22},
      {"indexing a parenthesis", blockWith("mask = (q)[1] > 0"),
       "only a param can be indexed with '[...]'", 6, 11},
      {"indices in two brackets",
       blockWith("param doc : i32[batch, ?]\nmask = doc[b][q] == 1"),
       "all indices of a param go inside one '[...]'", 7, 14},
      {"bad param type", blockWith("param x : f64"),
       "expected 'f32' or 'i32' after 'param x :', found 'f64'", 6, 11},
      {"param without ':'", blockWith("param x f32"),
       "expected ':' after 'param x', found 'f32'", 6, 9},
      {"unknown dimension", blockWith("param x : f32[seq]"),
       "expected a dimension ('batch', 'q_heads', 'kv_heads', an integer or "
       "'?'), found 'seq'",
       6, 15},
      {"dimensions without comma", blockWith("param x : f32[batch q_heads]"),
       "expected ',' or ']' after a dimension of param 'x', found 'q_heads'", 6,
       21},
      {"too many dimensions", blockWith("param x : f32[1,2,3,4,5,6,7,8,9]"),
       "param 'x' has more than 8 dimensions", 6, 31},
      {"float literal out of range", blockWith("score = score * 1e999"),
       "floating-point literal '1e999' is out of range for f32", 6, 17},
      {"int literal out of range", blockWith("score = score * 3000000000"),
       "integer literal '3000000000' does not fit in 32 bits", 6, 17},
      {"negative int literal out of range",
       blockWith("score = score * -2147483649"),
       "integer literal '-2147483649' does not fit in 32 bits", 6, 17},
      {"unclosed call", blockWith("score = min(score, 1"),
       "expected ',' or ')' in the call to 'min', found '}'", 7, 1},
      {"empty index", blockWith("param x : f32[batch]\nscore = x[]"),
       "expected an expression after '[', found ']'", 7, 11},
      {"too deep",
       blockWith("score = " + std::string(300, '(') + "score" +
                 std::string(300, ')')),
       "expression is nested too deeply (the limit is 256 levels)", 6, 265},
      {"NUL byte", blockWith(std::string("score = score\0", 14)),
       "unexpected character '\\x00'", 6, 14},
  };
  return cases;
}

static const std::vector<BadInput> &semanticErrors() {
  static const std::vector<BadInput> cases = {
      {"duplicate key", blockWith("dtype = bf16"),
       "duplicate key 'dtype' in attention block 't'", 6, 1},
      {"missing keys", "attention a { dtype = fp16 }",
       "attention block 'a' is missing required keys 'head_dim', 'q_heads' "
       "and 'kv_heads'",
       1, 11},
      {"missing one key",
       "attention a { dtype = fp16; head_dim = 64; q_heads = 8 }",
       "attention block 'a' is missing required key 'kv_heads'", 1, 11},
      {"kv_heads does not divide q_heads",
       line2(" dtype = fp16; head_dim = 64; q_heads = 16; kv_heads = 3"),
       "kv_heads (3) must divide q_heads (16)", 2, 56},
      {"head_dim not a multiple of 8",
       line2(" dtype = fp16; head_dim = 100; q_heads = 1; kv_heads = 1"),
       "head_dim must be a multiple of 8 between 8 and 576, found 100", 2, 27},
      {"kv_layout unknown",
       line2(" dtype = fp16; head_dim = 64; q_heads = 1; kv_heads = 1; "
             "kv_layout = shared"),
       "expected 'separate' or 'latent' after 'kv_layout =', found 'shared'", 2,
       70},
      {"latent V wider than K",
       line2(" dtype = fp16; head_dim = 64; v_head_dim = 128; q_heads = 1; "
             "kv_heads = 1; kv_layout = latent"),
       "kv_layout = latent reads V from the first v_head_dim (128) columns of "
       "K, which has only head_dim = 64",
       2, 88},
      {"head_dim too large",
       line2(" dtype = fp16; head_dim = 584; q_heads = 1; kv_heads = 1"),
       "head_dim must be a multiple of 8 between 8 and 576, found 584", 2, 27},
      {"no query heads",
       line2(" dtype = fp16; head_dim = 64; q_heads = 0; kv_heads = 1"),
       "q_heads must be at least 1, found 0", 2, 41},
      {"page size zero", blockWith("kv_cache = paged(page_size = 0)"),
       "page_size must be between 1 and 256, found 0", 6, 30},
      {"page size too large", blockWith("kv_cache = paged(page_size = 512)"),
       "page_size must be between 1 and 256, found 512", 6, 30},
      {"duplicate block name",
       "attention a { dtype = fp16; head_dim = 64; q_heads = 1; kv_heads = 1 "
       "}\nattention a { dtype = fp16; head_dim = 64; q_heads = 1; kv_heads "
       "= 1 }",
       "duplicate attention block 'a'", 2, 11},
      {"boolean score", blockWith("score = q < kv"),
       "score modifier must be a number, but this expression is a boolean", 6,
       9},
      {"numeric mask", blockWith("mask = q - kv"),
       "mask must be a boolean, but this expression is a number", 6, 8},
      {"sink uses kv", blockWith("sink = 1.0 + kv"),
       "the sink is one logit per query row and cannot depend on 'kv'; it "
       "may use b, h and q",
       6, 14},
      {"sink uses score", blockWith("sink = score"),
       "the sink is one logit per query row and cannot depend on 'score'; it "
       "may use b, h and q",
       6, 8},
      {"boolean sink", blockWith("sink = q < 3"),
       "sink must be a number (a logit), but this expression is a boolean", 6,
       8},
      {"k_scale uses q", blockWith("kv_dtype = e4m3\nk_scale = 1.0 + q"),
       "a K/V scale is one factor per sequence and head and cannot depend "
       "on 'q'; it may use b and h",
       7, 17},
      {"v_scale uses score", blockWith("kv_dtype = e5m2\nv_scale = score"),
       "a K/V scale is one factor per sequence and head and cannot depend "
       "on 'score'; it may use b and h",
       7, 11},
      {"boolean k_scale", blockWith("kv_dtype = e4m3\nk_scale = h < 3"),
       "k_scale must be a number, but this expression is a boolean", 7, 11},
      {"scale of a 16-bit cache", blockWith("v_scale = 0.5"),
       "v_scale scales an fp8 K/V cache; add 'kv_dtype = e4m3' (or e5m2) "
       "or remove it",
       6, 1},
      {"16-bit kv_dtype unlike dtype", blockWith("kv_dtype = bf16"),
       "kv_dtype bf16 differs from dtype fp16: a 16-bit K/V cache has the "
       "kernel's dtype; only e4m3 and e5m2 may differ",
       6, 12},
      {"unknown kv_dtype", blockWith("kv_dtype = fp8"),
       "expected 'e4m3', 'e5m2', 'fp16' or 'bf16' after 'kv_dtype =', found "
       "'fp8'",
       6, 12},
      {"mask uses score", blockWith("mask = score > 0"),
       "the mask cannot depend on 'score'; put score changes in 'score ='", 6,
       8},
      {"scale uses a position", blockWith("scale = 1 / q"),
       "scale must be a constant expression, but it uses 'q'", 6, 13},
      {"scale uses a param", blockWith("param cap : f32\nscale = 1 / cap"),
       "scale must be a constant expression, but it uses param 'cap'", 7, 13},
      {"negative scale", blockWith("scale = 0 - 1"),
       "scale must be a finite number greater than 0, but it evaluates to "
       "-1.0",
       6, 9},
      {"infinite scale", blockWith("scale = -log(0.0)"),
       "scale must be a finite number greater than 0, but it evaluates to inf",
       6, 9},
      {"boolean scale", blockWith("scale = true"),
       "scale must be a number, but this expression is a boolean", 6, 9},
      {"scale divides by zero", blockWith("scale = 1 / (head_dim - 64)"),
       "division by zero in 'scale'", 6, 11},
      {"scale overflows", blockWith("scale = 65536 * 65536"),
       "integer overflow in 'scale'", 6, 15},
      {"literal division by zero", blockWith("mask = q / 0 == 1"),
       "integer division by zero", 6, 10},
      {"a divisor that folds to zero", blockWith("mask = kv % (q - q) == 1"),
       "integer division by zero: the divisor is 0 whatever the positions "
       "and params",
       6, 11},
      {"a zero divisor through a let",
       blockWith("let z = (h ^ h) * kv\nmask = q / (z >> 1) == 1"),
       "integer division by zero: the divisor is 0 whatever the positions "
       "and params",
       7, 10},
      {"bool in arithmetic", blockWith("score = score + true"),
       "operator '+' needs numbers, but the right operand is a boolean", 6, 15},
      {"float remainder", blockWith("score = score % 2"),
       "operator '%' needs integers, but the left operand is a float", 6, 15},
      {"ints in logic", blockWith("mask = q && kv"),
       "operator '&&' needs booleans, but the left operand is an integer and "
       "the right operand is an integer",
       6, 10},
      {"not a number", blockWith("mask = !q"),
       "'!' needs a boolean, but its operand is an integer", 6, 8},
      {"negated boolean", blockWith("score = -(q < kv)"),
       "unary '-' needs a number, but its operand is a boolean", 6, 9},
      {"bool compared with int", blockWith("mask = (q < kv) == 1"),
       "operator '==' cannot compare a boolean with an integer", 6, 17},
      {"mixed select branches", blockWith("score = q < kv ? score : false"),
       "the branches of '?:' must both be booleans or both be numbers, but "
       "one is a float and the other a boolean",
       6, 16},
      {"numeric select condition", blockWith("score = score ? 1.0 : 2.0"),
       "the condition of '?:' must be a boolean, but it is a float", 6, 15},
      {"too many arguments", blockWith("score = exp(score, 2)"),
       "'exp' takes 1 argument, but 2 were given", 6, 9},
      {"too few arguments", blockWith("score = min(score)"),
       "'min' takes 2 arguments, but 1 was given", 6, 9},
      {"boolean argument", blockWith("score = exp(q < kv)"),
       "'exp' needs a number, but its argument is a boolean", 6, 9},
      {"misspelled param",
       blockWith("param slope : f32[q_heads]\nscore = score * slop[h]"),
       "unknown name 'slop' (did you mean 'slope'?)", 7, 17},
      {"undeclared name", blockWith("score = score * bias"),
       "unknown name 'bias'; a runtime value must be declared, as in 'param "
       "bias : f32'",
       6, 17},
      {"tensor param not indexed",
       blockWith("param slope : f32[q_heads]\nscore = score * slope"),
       "param 'slope' has 1 dimension and must be indexed, as in 'slope[...]'",
       7, 17},
      {"scalar param indexed", blockWith("param cap : f32\nscore = cap[h]"),
       "param 'cap' is a scalar and cannot be indexed", 7, 9},
      {"too few indices",
       blockWith("param doc : i32[batch, ?]\nmask = doc[b] == 0"),
       "param 'doc' has 2 dimensions, but 1 index was given", 7, 8},
      {"float index",
       blockWith("param slope : f32[q_heads]\nscore = slope[score]"),
       "index 1 of 'slope' must be an integer, but it is a float", 7, 9},
      {"indexing a variable", blockWith("mask = q[1] > 0"),
       "'q' is not a param and cannot be indexed", 6, 8},
      {"function without call", blockWith("score = exp * 2"),
       "'exp' is a function; call it as 'exp(...)'", 6, 9},
      {"param hides a variable", blockWith("param q : f32"),
       "param 'q' would hide the builtin variable 'q'", 6, 7},
      {"param hides a function", blockWith("param tanh : f32"),
       "param 'tanh' would hide the builtin function 'tanh'", 6, 7},
      {"param named true", blockWith("param true : f32"),
       "'true' is a literal and cannot name a param", 6, 7},
      {"duplicate param", blockWith("param x : f32\nparam x : i32"),
       "duplicate param 'x'", 7, 7},
      {"requires_grad on an i32 param",
       blockWith("param doc : i32[batch, ?] requires_grad\n"
                 "mask = doc[b, q] == doc[b, kv]"),
       "param 'doc' is i32 and has no gradient; only f32 params can require "
       "one",
       6, 27},
      {"requires_grad on a param the score does not read",
       blockWith("param w : f32[q_heads] requires_grad\nmask = w[h] > 0.0"),
       "param 'w' requires_grad, but the score does not read it: gradients "
       "are derived through `score` only (a mask has none; sink, k_scale and "
       "v_scale are not differentiated)",
       6, 24},
      {"zero extent", blockWith("param x : f32[batch, 0]"),
       "dimension 2 of param 'x' must be at least 1, found 0", 6, 22},
      // The kernel argument block holds 8 params of rank 4 at most.
      {"rank 5", blockWith("param x : f32[batch, ?, 2, 2, ?]"),
       "param 'x' has 5 dimensions; at most 4 are supported", 6, 31},
      {"nine params",
       blockWith("param p1 : f32\nparam p2 : f32\nparam p3 : f32\n"
                 "param p4 : f32\nparam p5 : f32\nparam p6 : f32\n"
                 "param p7 : f32\nparam p8 : f32\nparam p9 : f32"),
       "param 'p9' is one too many: a kernel takes at most 8 params", 14, 7},
      {"extents beyond 2^40", blockWith("param x : f32[1048576, 1048576, 2]"),
       "param 'x' is too large: its fixed dimensions hold more than 2^40 "
       "elements",
       6, 33},
  };
  return cases;
}

static void checkFirstError(const BadInput &bad) {
  INFO("case: " << bad.name);
  ParseResult result = parse(bad.text);
  INFO(result.rendered());
  CHECK_FALSE(result.module.has_value());
  const Diagnostic *error = result.firstError();
  REQUIRE(error != nullptr);
  // The first diagnostic of all is an error, never a stray note.
  CHECK(&result.diags->diagnostics().front() == error);
  CHECK_THAT(error->message, Catch::Contains(bad.message));
  CHECK(error->loc.line == bad.line);
  CHECK(error->loc.col == bad.col);
}

TEST_CASE("errors: syntax", "[dsl][errors]") {
  for (const BadInput &bad : syntaxErrors())
    checkFirstError(bad);
}

TEST_CASE("errors: semantics", "[dsl][errors]") {
  for (const BadInput &bad : semanticErrors())
    checkFirstError(bad);
}

TEST_CASE("errors: there are many distinct cases", "[dsl][errors]") {
  CHECK(syntaxErrors().size() + semanticErrors().size() >= 45);
}

TEST_CASE("errors: a duplicate points back at the first", "[dsl][errors]") {
  ParseResult result = parse(blockWith("dtype = bf16"));
  const std::vector<Diagnostic> &diags = result.diags->diagnostics();
  REQUIRE(diags.size() == 2);
  CHECK(diags[1].severity == Diagnostic::Severity::Note);
  CHECK(diags[1].message == "'dtype' was first set here");
  CHECK(diags[1].loc.line == 2);
  CHECK(diags[1].loc.col == 3);
}

TEST_CASE("errors: sema reports every error of a block", "[dsl][errors]") {
  ParseResult result =
      parse("attention a {\n"
            "  dtype = fp16; head_dim = 100; q_heads = 8; kv_heads = 3\n"
            "  param q : f32\n"
            "  score = score + true\n"
            "  mask = score > 0\n"
            "}\n");
  std::vector<std::string> messages;
  for (const Diagnostic &diag : result.diags->diagnostics())
    messages.push_back(diag.message);
  INFO(result.rendered());
  REQUIRE(messages.size() == 5);
  CHECK_THAT(messages[0], Catch::StartsWith("head_dim must be"));
  CHECK_THAT(messages[1], Catch::StartsWith("param 'q' would hide"));
  CHECK_THAT(messages[2], Catch::StartsWith("kv_heads (3) must divide"));
  CHECK_THAT(messages[3], Catch::StartsWith("operator '+' needs numbers"));
  CHECK_THAT(messages[4], Catch::StartsWith("the mask cannot depend"));
}

TEST_CASE("errors: every block is checked", "[dsl][errors]") {
  ParseResult result =
      parse("attention a { dtype = fp16 }\nattention b { dtype = fp16 }\n");
  const std::vector<Diagnostic> &diags = result.diags->diagnostics();
  REQUIRE(diags.size() == 2);
  CHECK(diags[0].loc.line == 1);
  CHECK(diags[1].loc.line == 2);
}

TEST_CASE("errors: sema stops after many errors", "[dsl][errors]") {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "attention a" + std::to_string(i) + " { dtype = fp16 }\n";
  ParseResult result = parse(text);
  CHECK_FALSE(result.module);
  CHECK(result.diags->diagnostics().size() <= 102);
  CHECK(result.diags->diagnostics().back().message ==
        "too many errors; stopping here");
}
