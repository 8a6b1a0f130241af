//===- ParserTest.cpp - What the grammar accepts and the trees it builds --===//

#include "TestUtil.h"

#include <catch2/catch.hpp>

using namespace attnc::dsl;
using namespace attnc::dsl::test;

/// The sketch from DESIGN.md, verbatim.
static const char *kDesignSketch =
    R"(# Gemma-2 style local attention over a paged KV cache
attention gemma2_local {
  dtype    = bf16                      # fp16 | bf16; accumulation is always fp32
  head_dim = 128
  q_heads  = 16
  kv_heads = 8                         # divides q_heads: MHA, GQA, MQA
  kv_cache = paged(page_size = 16)     # or: dense
  scale    = 1 / sqrt(head_dim)        # default
  score    = 50.0 * tanh(score / 50.0) # score modifier (softcap)
  mask     = kv <= q && q - kv < 4096  # causal + sliding window
}

attention alibi_prefix_lm {
  dtype = fp16; head_dim = 64; q_heads = 8; kv_heads = 8   # ';' or a newline ends an entry
  kv_cache = dense
  param slope  : f32[q_heads]          # runtime tensor, indexed in expressions
  param prefix : i32[batch]
  score = score - slope[h] * (q - kv)
  mask  = kv <= q || kv < prefix[b]
}
)";

/// The expression of `mask = <text>` (or `score =`), printed back fully
/// parenthesized: the shape of the tree made visible.
static std::string shapeOf(const std::string &key, const std::string &text,
                           const std::string &extra = "") {
  ParseResult result = parse(blockWith(extra + "\n  " + key + " = " + text));
  const AttentionSpec &spec = onlySpec(result);
  REQUIRE(spec.name == "t");
  std::string printed = printModule(*result.module);
  std::string prefix = "  " + key + " = ";
  size_t start = printed.find(prefix);
  REQUIRE(start != std::string::npos);
  start += prefix.size();
  return printed.substr(start, printed.find('\n', start) - start);
}

TEST_CASE("parser: the DESIGN.md sketch", "[dsl][parser]") {
  ParseResult result = parse(kDesignSketch);
  INFO(result.rendered());
  REQUIRE(result.module);
  REQUIRE(result.module->specs.size() == 2);

  const AttentionSpec &gemma = result.module->specs[0];
  CHECK(gemma.name == "gemma2_local");
  CHECK(gemma.loc.line == 2);
  CHECK(gemma.loc.col == 11);
  CHECK(gemma.dtype == DType::BF16);
  CHECK(gemma.headDim == 128);
  CHECK(gemma.qHeads == 16);
  CHECK(gemma.kvHeads == 8);
  CHECK(gemma.kvCache == KVCacheKind::Paged);
  CHECK(gemma.pageSize == 16);
  REQUIRE(gemma.scaleExpr);
  CHECK(gemma.scale == Approx(0.08838834764831845).epsilon(1e-15));
  REQUIRE(gemma.score);
  CHECK(gemma.score->kind == ExprKind::Binary);
  CHECK(gemma.score->binaryOp == BinaryOp::Mul);
  REQUIRE(gemma.mask);
  CHECK(gemma.mask->binaryOp == BinaryOp::And);
  CHECK(gemma.params.empty());

  const AttentionSpec &alibi = result.module->specs[1];
  CHECK(alibi.name == "alibi_prefix_lm");
  CHECK(alibi.dtype == DType::F16);
  CHECK(alibi.headDim == 64);
  CHECK(alibi.qHeads == 8);
  CHECK(alibi.kvHeads == 8);
  CHECK(alibi.kvCache == KVCacheKind::Dense);
  CHECK_FALSE(alibi.scaleExpr);
  CHECK(alibi.scale == Approx(0.125).epsilon(1e-15));
  REQUIRE(alibi.params.size() == 2);
  CHECK(alibi.params[0].name == "slope");
  CHECK(alibi.params[0].elementType == ValueType::Float);
  REQUIRE(alibi.params[0].dims.size() == 1);
  CHECK(alibi.params[0].dims[0].kind == ParamDim::Kind::QHeads);
  CHECK(alibi.params[1].name == "prefix");
  CHECK(alibi.params[1].elementType == ValueType::Int);
  CHECK(alibi.params[1].dims[0].kind == ParamDim::Kind::Batch);
  REQUIRE(alibi.mask);
  CHECK(alibi.mask->binaryOp == BinaryOp::Or);
}

TEST_CASE("parser: precedence follows C", "[dsl][parser]") {
  CHECK(shapeOf("mask", "kv <= q && q - kv < 4096") ==
        "(kv <= q) && ((q - kv) < 4096)");
  CHECK(shapeOf("mask", "kv <= q || kv < 3 && q > 1") ==
        "(kv <= q) || ((kv < 3) && (q > 1))");
  CHECK(shapeOf("score", "score + 2 * 3 % 4") == "score + ((2 * 3) % 4)");
  CHECK(shapeOf("mask", "q == kv != false") == "(q == kv) != false");
  CHECK(shapeOf("mask", "q + 1 == kv * 2") == "(q + 1) == (kv * 2)");
  CHECK(shapeOf("mask", "!(q < kv) && !false") == "!(q < kv) && !false");
  CHECK(shapeOf("score", "-score * 2") == "-score * 2");
  CHECK(shapeOf("score", "-(score * 2)") == "-(score * 2)");
}

TEST_CASE("parser: binary operators are left associative", "[dsl][parser]") {
  CHECK(shapeOf("score", "score - 1 - 2") == "(score - 1) - 2");
  CHECK(shapeOf("score", "score / 2 / 4") == "(score / 2) / 4");
  CHECK(shapeOf("score", "score - (1 - 2)") == "score - (1 - 2)");
}

TEST_CASE("parser: ?: is right associative and lowest", "[dsl][parser]") {
  CHECK(shapeOf("score", "q < 1 ? score : q < 2 ? 0.5 : 1.5") ==
        "(q < 1) ? score : ((q < 2) ? 0.5 : 1.5)");
  CHECK(shapeOf("score", "q < kv || h > 1 ? score : -score") ==
        "((q < kv) || (h > 1)) ? score : -score");
  // A `?:` in the middle branch needs no parentheses, as in C.
  CHECK(shapeOf("score", "q < 1 ? h < 2 ? 1 : 2 : 3") ==
        "(q < 1) ? ((h < 2) ? 1 : 2) : 3");
}

TEST_CASE("parser: calls, indexing and literals", "[dsl][parser]") {
  CHECK(shapeOf("score", "min(score, max(1, 2.5)) + abs(-3)") ==
        "min(score, max(1, 2.5)) + abs(-3)");
  CHECK(shapeOf("score", "exp(log(sqrt(tanh(score))))") ==
        "exp(log(sqrt(tanh(score))))");
  CHECK(shapeOf("score", "score * 1e-3 + .5 - 2.5e+3 + 50.") ==
        "(((score * 0.001) + 0.5) - 2500.0) + 50.0");
  CHECK(shapeOf("mask", "doc[b, q] == doc[b, kv]",
                "param doc : i32[batch, ?]") == "doc[b, q] == doc[b, kv]");
  CHECK(shapeOf("mask", "true") == "true");
}

TEST_CASE("parser: a minus before a number folds into the literal",
          "[dsl][parser]") {
  ParseResult result = parse(blockWith("score = score * -2147483648"));
  const AttentionSpec &spec = onlySpec(result);
  // The int operand is converted to float: look through the Convert.
  const Expr &rhs = *spec.score->operands[1];
  REQUIRE(rhs.kind == ExprKind::Convert);
  REQUIRE(rhs.operands[0]->kind == ExprKind::IntLit);
  CHECK(rhs.operands[0]->intValue == -2147483648LL);
  CHECK(rhs.operands[0]->loc.col == 17); // the '-'

  ParseResult negFloat = parse(blockWith("score = -0.5"));
  const AttentionSpec &floatSpec = onlySpec(negFloat);
  REQUIRE(floatSpec.score->kind == ExprKind::FloatLit);
  CHECK(floatSpec.score->floatValue == -0.5);
  // A minus before anything else stays an operator.
  CHECK(shapeOf("score", "- -score") == "--score");
}

TEST_CASE("parser: entry separators and layout", "[dsl][parser]") {
  // Everything on one line, extra ';' and blank lines, `{` on its own line.
  ParseResult oneLine = parse("attention a { dtype = fp16; head_dim = 64;; "
                              "q_heads = 2; kv_heads = 1 }");
  CHECK(onlySpec(oneLine).qHeads == 2);
  ParseResult spread = parse("\n\n# leading comment\nattention a\n{\n\n"
                             "  dtype = fp16;\n\n  head_dim = 64\n"
                             "  q_heads = 2 ;\n  kv_heads = 1\n;\n}\n\n");
  CHECK(onlySpec(spread).kvHeads == 1);
  // Two blocks on one line.
  ParseResult twoBlocks =
      parse("attention a { dtype = fp16; head_dim = 64; q_heads = 2; kv_heads "
            "= 1 } attention b { dtype = bf16; head_dim = 32; q_heads = 2; "
            "kv_heads = 2 }");
  REQUIRE(twoBlocks.module);
  CHECK(twoBlocks.module->specs.size() == 2);
}

TEST_CASE("parser: expressions may span lines", "[dsl][parser]") {
  CHECK(shapeOf("mask", "kv <= q &&\n    q - kv < 4096") ==
        "(kv <= q) && ((q - kv) < 4096)");
  CHECK(shapeOf("score", "min(score,\n  1.0)") == "min(score, 1.0)");
  CHECK(shapeOf("score", "(score\n  * 2)") == "score * 2");
  CHECK(shapeOf("score", "q < kv ?\n score :\n 0.0") ==
        "(q < kv) ? score : 0.0");
}

TEST_CASE("parser: param declarations", "[dsl][parser]") {
  ParseResult result =
      parse(blockWith("param cap : f32\n"
                      "param table : i32[batch, q_heads, 7, ?]\n"
                      "param bias : f32[kv_heads]\n"
                      "score = score + cap + table[b, h, 0, q] + bias[h / 4]"));
  const AttentionSpec &spec = onlySpec(result);
  REQUIRE(spec.params.size() == 3);
  CHECK(spec.params[0].dims.empty());
  CHECK(spec.params[0].loc.line == 6);
  CHECK(spec.params[0].loc.col == 7);
  const std::vector<ParamDim> &dims = spec.params[1].dims;
  REQUIRE(dims.size() == 4);
  CHECK(dims[0].kind == ParamDim::Kind::Batch);
  CHECK(dims[1].kind == ParamDim::Kind::QHeads);
  CHECK(dims[2].kind == ParamDim::Kind::Fixed);
  CHECK(dims[2].extent == 7);
  CHECK(dims[3].kind == ParamDim::Kind::Dynamic);
  CHECK(dims[3].loc.col == 38);
  REQUIRE(spec.params[2].dims.size() == 1);
  CHECK(spec.params[2].dims[0].kind == ParamDim::Kind::KVHeads);
  CHECK(spec.params[2].elementType == ValueType::Float);
}

TEST_CASE("parser: nodes carry their locations", "[dsl][parser]") {
  ParseResult result = parse(blockWith("mask = kv <= q && q - kv < 4096"));
  const AttentionSpec &spec = onlySpec(result);
  const Expr &andExpr = *spec.mask;
  CHECK(andExpr.loc.line == 6);
  CHECK(andExpr.loc.col == 16); // the '&&'
  const Expr &le = *andExpr.operands[0];
  CHECK(le.loc.col == 11);              // '<='
  CHECK(le.operands[0]->loc.col == 8);  // kv
  CHECK(le.operands[1]->loc.col == 14); // q
}
